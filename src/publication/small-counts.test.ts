import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TableSchema, TableSchemaField } from '../ingest/table-schema.ts';
import { CountFixer, roundToBase, type CountFix } from './count-fixes.ts';
import { isCountHeader, isDimensionHeader, SmallCountScanner } from './small-counts.ts';

function field(title: string, type: TableSchemaField['type']): TableSchemaField {
  return { name: title.toLowerCase().replace(/[^a-z0-9]+/g, '_'), title, type };
}

function scan(fields: TableSchemaField[], rows: Array<Array<string | null>>) {
  const scanner = new SmallCountScanner(fields);
  rows.forEach((values, index) => scanner.scanRow(index + 1, values));
  return scanner.findings();
}

const CHILDREN_IN_CARE = [field('Ward', 'string'), field('Age band', 'string'), field('Children in care', 'integer')];
const CHILDREN_ROWS = [
  ['Aveley', '0 to 4', '3'],
  ['Aveley', '5 to 15', '12'],
  ['Chafford', '0 to 4', '1'],
  ['Chafford', '5 to 15', '2'],
  ['Grays', '0 to 4', '25'],
  ['Grays', '5 to 15', '4'],
];

describe('count headers', () => {
  for (const header of ['Count', 'Number of referrals', 'No. of households', 'Children in care', 'People', 'Cases', 'Number', 'Total_patients_31st_march', 'Aged 0 to 4', 'Age 5-10', 'Under 18', '65 and over', '85+', 'Female']) {
    test(`"${header}" is a count`, () => assert.equal(isCountHeader(header), true));
  }
  for (const header of ['Amount', 'Transaction number', 'Invoice Number', 'Year', 'Supplier ID', 'Expense Code', 'UPRN', 'Age', 'Cost per child', 'Referrals rate', 'StreetNumber', 'Body', '% of children', 'Age band', 'Aged', 'Years 5 to 10 cost']) {
    test(`"${header}" is not a count`, () => assert.equal(isCountHeader(header), false));
  }
  test('dimension headers', () => {
    assert.ok(isDimensionHeader('Ward'));
    assert.ok(isDimensionHeader('Age band'));
    assert.ok(isDimensionHeader('Month'));
    assert.ok(!isDimensionHeader('Supplier name'));
  });
});

describe('small count scanner', () => {
  test('children in care by ward flagged', () => {
    const findings = scan(CHILDREN_IN_CARE, CHILDREN_ROWS);
    assert.deepEqual(findings, [{ column: 'Children in care', kind: 'small_count', count: 4, rows: [1, 3, 4, 6], threshold: 10 }]);
  });

  test('one column per age band flagged', () => {
    const fields = [field('Ward', 'string'), field('Aged 0 to 4', 'integer'), field('Aged 5 to 10', 'integer'), field('Aged 11 to 17', 'integer')];
    const findings = scan(fields, [['Aveley and Uplands', '3', '12', '32'], ['Grays Riverside', '11', '22', '2'], ['Tilbury', '15', '18', '20']]);
    assert.deepEqual(findings.map((finding) => [finding.column, finding.count]), [['Aged 0 to 4', 1], ['Aged 11 to 17', 1]]);
  });

  test('zeros and empty cells are not small', () => {
    const findings = scan(CHILDREN_IN_CARE, [['Aveley', '0 to 4', '0'], ['Grays', '0 to 4', null], ['Tilbury', '0 to 4', '10']]);
    assert.deepEqual(findings, []);
  });

  test('no varying dimension, no finding', () => {
    const fields = [field('Organisation_code', 'string'), field('Reporting_period', 'string'), field('Part_II_patients', 'integer')];
    assert.deepEqual(scan(fields, [['5C1', '2010-11', '2'], ['5CN', '2010-11', '69']]), []);
  });

  test('amounts, years and codes are skipped', () => {
    const fields = [field('Ward', 'string'), field('Year', 'integer'), field('Amount', 'integer'), field('Expense code', 'integer'), field('Transaction number', 'integer')];
    assert.deepEqual(scan(fields, [['Aveley', '2024', '5', '3', '7'], ['Grays', '2025', '8', '4', '9']]), []);
  });

  test('text column under a count header is skipped', () => {
    const fields = [field('Ward', 'string'), field('Count', 'string')];
    assert.deepEqual(scan(fields, [['Aveley', '3'], ['Grays', 'few']]), []);
  });

  test('negative values mean not counts', () => {
    const fields = [field('Month', 'string'), field('Change in households', 'integer')];
    assert.deepEqual(scan(fields, [['April', '3'], ['May', '-2']]), []);
  });

  test('example rows stop at ten', () => {
    const rows = Array.from({ length: 25 }, (_value, index) => [`Ward ${index}`, '0 to 4', '1']);
    const [finding] = scan(CHILDREN_IN_CARE, rows);
    assert.equal(finding!.count, 25);
    assert.equal(finding!.rows.length, 10);
  });
});

describe('count fixes', () => {
  async function plan(schema: TableSchema, fixes: CountFix[], rows: Array<Array<string | null>>) {
    const numbered = rows.map((values, index) => ({ id: index + 1, values }));
    const fixer = await CountFixer.plan(schema, fixes, async function* () {
      yield numbered;
    });
    return { fixer, fixed: numbered.map((row) => fixer.fix(row.id, row.values)) };
  }

  test('rounding to base ten', () => {
    const cases: Array<[string, string]> = [['0', '0'], ['1', '0'], ['4', '0'], ['5', '10'], ['14', '10'], ['15', '20'], ['99999999999999999995', '100000000000000000000']];
    for (const [input, expected] of cases) assert.equal(roundToBase(input, 10), expected, input);
  });

  test('suppression without totals keeps other cells', async () => {
    const { fixer, fixed } = await plan({ fields: CHILDREN_IN_CARE }, [{ type: 'suppress_small_counts', column: 'Children in care' }], CHILDREN_ROWS);
    assert.deepEqual(fixed.map((row) => row[2]), [null, '12', null, null, '25', null]);
    assert.deepEqual(fixer.descriptions(), ['suppress counts from 1 to 9 in "Children in care" (4 cells)']);
  });

  test('total row gets secondary suppression', async () => {
    const rows = [
      ['Aveley', '0 to 4', '3'],
      ['Aveley', '5 to 15', '12'],
      ['Aveley', '16 to 17', '20'],
      ['Aveley', 'All ages', '35'],
      ['Grays', '0 to 4', '0'],
      ['Grays', '5 to 15', '30'],
      ['Grays', '16 to 17', '40'],
      ['Grays', 'All ages', '70'],
    ];
    const { fixer, fixed } = await plan({ fields: CHILDREN_IN_CARE }, [{ type: 'suppress_small_counts', column: 'Children in care' }], rows);
    assert.deepEqual(fixed.map((row) => row[2]), [null, null, '20', '35', '0', '30', '40', '70'], 'the smallest other Aveley band goes too');
    assert.deepEqual(fixer.descriptions(), ['suppress counts from 1 to 9 in "Children in care" (1 cell, and 1 cell more so that totals cannot reveal them)']);
  });

  test('total column gets secondary suppression', async () => {
    const fields = [field('Ward', 'string'), field('Boys', 'integer'), field('Girls', 'integer'), field('Total children', 'integer')];
    const rows = [['Aveley', '4', '20', '24'], ['Grays', '30', '31', '61']];
    const { fixer, fixed } = await plan({ fields }, [{ type: 'suppress_small_counts', column: 'Boys' }], rows);
    assert.deepEqual(fixed, [['Aveley', null, null, '24'], ['Grays', '30', '31', '61']]);
    assert.ok(fixer.descriptions().includes('suppress 1 cell in "Girls" so that totals cannot reveal a suppressed count'));
    assert.match(fixer.fixedFields()[2]!.description!, /totals cannot reveal/);
  });

  test('rounding changes every count', async () => {
    const { fixer, fixed } = await plan({ fields: CHILDREN_IN_CARE }, [{ type: 'round_counts', column: 'Children in care' }], CHILDREN_ROWS);
    assert.deepEqual(fixed.map((row) => row[2]), ['0', '10', '0', '0', '30', '0']);
    assert.deepEqual(fixer.descriptions(), ['round counts in "Children in care" to the nearest 10 (6 cells changed)']);
  });

  test('rounding spreads to a total column', async () => {
    const fields = [field('Ward', 'string'), field('Aged 0 to 4', 'integer'), field('Aged 5 to 9', 'integer'), field('All ages', 'integer')];
    const rows = [['Aveley', '3', '12', '15'], ['Grays', '7', '20', '27'], ['Tilbury', '15', '19', '34']];
    const { fixer, fixed } = await plan({ fields }, [{ type: 'round_counts', column: 'Aged 0 to 4' }], rows);
    assert.deepEqual(fixed, [['Aveley', '0', '10', '20'], ['Grays', '10', '20', '30'], ['Tilbury', '20', '20', '30']], 'an exact total less an exact band would give the rounded band back');
    assert.deepEqual(fixer.descriptions(), [
      'round counts in "Aged 0 to 4" to the nearest 10 (3 cells changed)',
      'round 2 cells in "Aged 5 to 9" to the nearest 10 so that totals cannot reveal a rounded count',
      'round 3 cells in "All ages" to the nearest 10 so that totals cannot reveal a rounded count',
    ]);
    assert.match(fixer.fixedFields()[3]!.description!, /rounded to the nearest 10 so that totals cannot reveal a rounded count/);
    assert.equal(fixer.fixedFields()[0]!.description, undefined);
  });

  test('rounding spreads through a total row', async () => {
    const fields = [field('Ward', 'string'), field('Aged 0 to 4', 'integer'), field('Aged 5 to 9', 'integer'), field('All ages', 'integer')];
    const rows = [['Aveley', '3', '12', '15'], ['Grays', '17', '20', '37'], ['All wards', '20', '32', '52']];
    const { fixed } = await plan({ fields }, [{ type: 'round_counts', column: 'Aged 0 to 4' }], rows);
    assert.deepEqual(fixed, [['Aveley', '0', '10', '20'], ['Grays', '20', '20', '40'], ['All wards', '20', '30', '50']], 'the Grays row and the total row are rounded too');
  });

  test('suppression and rounding share a total', async () => {
    const fields = [field('Ward', 'string'), field('Aged 0 to 4', 'integer'), field('Aged 5 to 9', 'integer'), field('Total', 'integer')];
    const rows = [['Aveley', '3', '12', '15'], ['Grays', '7', '20', '27'], ['Tilbury', '15', '9', '24']];
    const fixes: CountFix[] = [{ type: 'suppress_small_counts', column: 'Aged 0 to 4' }, { type: 'round_counts', column: 'Aged 5 to 9' }];
    const { fixer, fixed } = await plan({ fields }, fixes, rows);
    assert.deepEqual(fixed, [['Aveley', null, null, '20'], ['Grays', null, null, '30'], ['Tilbury', '20', '10', '20']]);
    assert.deepEqual(fixer.descriptions(), [
      'suppress counts from 1 to 9 in "Aged 0 to 4" (2 cells)',
      'round counts in "Aged 5 to 9" to the nearest 10 (1 cell changed)',
      'suppress 2 cells in "Aged 5 to 9" so that totals cannot reveal a suppressed count',
      'round 1 cell in "Aged 0 to 4" to the nearest 10 so that totals cannot reveal a rounded count',
      'round 3 cells in "Total" to the nearest 10 so that totals cannot reveal a rounded count',
    ], 'suppressed cells are not counted as rounded, and the cells suppressed in a rounded column are named');
  });

  test('rounding without totals keeps other columns', async () => {
    const fields = [field('Ward', 'string'), field('Aged 0 to 4', 'integer'), field('Aged 5 to 9', 'integer')];
    const { fixer, fixed } = await plan({ fields }, [{ type: 'round_counts', column: 'Aged 0 to 4' }], [['Aveley', '3', '12'], ['Grays', '7', '21']]);
    assert.deepEqual(fixed, [['Aveley', '0', '12'], ['Grays', '10', '21']]);
    assert.deepEqual(fixer.descriptions(), ['round counts in "Aged 0 to 4" to the nearest 10 (2 cells changed)']);
  });

  test('text column and double fix rejected', () => {
    assert.throws(() => CountFixer.check({ fields: CHILDREN_IN_CARE }, [{ type: 'round_counts', column: 'Ward' }]), /Column "Ward" contains string values, not whole-number counts/);
    assert.throws(
      () => CountFixer.check({ fields: CHILDREN_IN_CARE }, [{ type: 'round_counts', column: 'Children in care' }, { type: 'suppress_small_counts', column: 'Children in care' }]),
      /cannot be both suppressed and rounded/,
    );
  });
});
