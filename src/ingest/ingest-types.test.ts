import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { columnSqlType } from './column-names.ts';
import { compileDateFormat, compileDatetimeFormat, londonOffset } from './dates.ts';
import { parseDecimal } from './numbers.ts';
import { column, fieldTypes, fixture, load } from './ingest.test-support.ts';

const ingest = (name: string) => load(fixture('ingest', name));

describe('number parsing', () => {
  for (const [text, expected] of [
    ['£1,234.50', '1234.50'],
    ['-£25', '-25'],
    ['£-25', '-25'],
    ['(300.00)', '-300.00'],
    ['1,000', '1000'],
    ['1.5E+3', '1.5e+3'],
    ['.5', '0.5'],
    ['0', '0'],
    ['250.00 CR', '-250.00'],
    ['£1,234.56Dr', '1234.56'],
    ['0.5-', '-0.5'],
  ] as const) {
    it(`reads ${text} as ${expected}`, () => assert.equal(parseDecimal(text, '.'), expected));
  }

  for (const text of ['01234', '12,34', '1,2345', '£', '-', '(-5)', '12a', '1.2.3', '12CR', '2024-', '-12.00 CR', '(12.00) DR', 'CR', '1.5e3 CR', '12.00 XR']) {
    it(`rejects ${text}`, () => assert.equal(parseDecimal(text, '.'), null));
  }

  it('reads decimal commas', () => {
    assert.equal(parseDecimal('1.234,56', ','), '1234.56');
    assert.equal(parseDecimal('-0,5', ','), '-0.5');
    assert.equal(parseDecimal('1.234,56 CR', ','), '-1234.56');
  });
});

describe('date parsing', () => {
  it('reads 05/04/2025 as 5 April 2025', () => assert.equal(compileDateFormat('%d/%m/%Y')!('05/04/2025'), '2025-04-05'));
  it('rejects 31/02/2025', () => assert.equal(compileDateFormat('%d/%m/%Y')!('31/02/2025'), null));
  it('reads two-digit years', () => assert.equal(compileDateFormat('%d/%m/%y')!('05/04/25'), '2025-04-05'));
  it('reads month names', () => assert.equal(compileDateFormat('%d-%b-%Y')!('5-Apr-2025'), '2025-04-05'));

  it('reads naive times as Europe/London', () => {
    const parse = compileDatetimeFormat('default')!;
    assert.equal(parse('2017-06-01T00:00:00'), '2017-06-01T00:00:00+01:00');
    assert.equal(parse('2025-01-15 09:00'), '2025-01-15T09:00:00+00:00');
  });

  it('keeps explicit offsets', () => {
    const parse = compileDatetimeFormat('default')!;
    assert.equal(parse('2025-04-03 10:15:00+01:00'), '2025-04-03T10:15:00+01:00');
    assert.equal(parse('2025-04-03T09:15:00Z'), '2025-04-03T09:15:00+00:00');
  });

  it('gives the clock-change hours an offset', () => {
    assert.equal(londonOffset(2025, 3, 30, 0, 30), '+00:00');
    assert.equal(londonOffset(2025, 3, 30, 2, 30), '+01:00');
    assert.equal(londonOffset(2025, 10, 26, 1, 30), '+01:00');
    assert.equal(londonOffset(2025, 10, 26, 2, 30), '+00:00');
  });
});

describe('type inference', () => {
  it('reads UK money forms as numbers', async () => {
    const loaded = await ingest('money.csv');
    assert.equal(fieldTypes(loaded.analysis).amount, 'number');
    assert.deepEqual(column(loaded, 'amount'), ['1234.50', '-25', '-300.00', '519.89', '1000']);
  });

  it('reads yes/no, y/n and true/false as booleans but 1/0 as integers', async () => {
    const loaded = await ingest('booleans.csv');
    assert.deepEqual(fieldTypes(loaded.analysis), { flag: 'boolean', answer: 'boolean', short: 'boolean', bit: 'integer' });
    assert.deepEqual(column(loaded, 'answer'), ['t', 'f', 't']);
    assert.deepEqual(column(loaded, 'bit'), ['1', '0', '1']);
  });

  it('reads UK dates day first and records the format', async () => {
    const loaded = await ingest('dates-uk.csv');
    assert.deepEqual(fieldTypes(loaded.analysis), {
      slash: 'date %d/%m/%Y',
      named: 'date %d-%b-%Y',
      long: 'date %d %B %Y',
      short: 'date %d/%m/%y',
      iso: 'date %Y-%m-%d',
    });
    for (const name of ['slash', 'named', 'long', 'short', 'iso']) assert.deepEqual(column(loaded, name), ['2025-04-05', '2024-12-31'], name);
  });

  it('stores timestamps as instants', async () => {
    const loaded = await ingest('timestamps.csv');
    assert.deepEqual(fieldTypes(loaded.analysis), { naive: 'datetime default', zoned: 'datetime default', winter: 'datetime default' });
    assert.deepEqual(column(loaded, 'naive'), ['2017-06-01T00:00:00+01:00', '2017-06-02T12:30:00+01:00']);
    assert.deepEqual(column(loaded, 'zoned'), ['2025-04-03T10:15:00+01:00', '2025-04-03T09:15:00+00:00']);
    assert.deepEqual(column(loaded, 'winter'), ['2025-01-15T09:00:00+00:00', '2025-01-16T17:45:30+00:00']);
    assert.equal(columnSqlType(loaded.analysis.schema.fields[0]!), 'timestamptz');
  });

  it('reads midnight timestamps as dates', async () => {
    const loaded = await ingest('midnight-timestamps.csv');
    assert.deepEqual(fieldTypes(loaded.analysis), {
      iso: 'date %Y-%m-%d 00:00:00',
      iso_t: 'date %Y-%m-%dT00:00:00',
      excel: 'date %d/%m/%Y 00:00',
      excel_seconds: 'date %d/%m/%Y 00:00:00',
      one_time: 'datetime %d/%m/%Y %H:%M:%S',
      iso_minutes: 'date %Y-%m-%d 00:00',
      iso_t_minutes: 'date %Y-%m-%dT00:00',
    });
    assert.deepEqual(column(loaded, 'iso'), ['2025-04-05', '2025-12-31']);
    assert.deepEqual(column(loaded, 'iso_t'), ['2025-04-05', '2025-12-31']);
    assert.deepEqual(column(loaded, 'excel'), ['2025-04-05', '2025-12-31']);
    assert.deepEqual(column(loaded, 'excel_seconds'), ['2025-04-05', '2025-12-31']);
    assert.deepEqual(column(loaded, 'one_time'), ['2025-04-05T00:00:00+01:00', '2025-12-31T09:30:00+00:00']);
    assert.deepEqual(column(loaded, 'iso_minutes'), ['2025-04-05', '2025-12-31']);
    assert.deepEqual(column(loaded, 'iso_t_minutes'), ['2025-04-05', '2025-12-31']);
  });

  it('reads percentages as numbers', async () => {
    const loaded = await ingest('percentages.csv');
    assert.deepEqual(fieldTypes(loaded.analysis), { ward: 'string', turnout: 'number', change: 'number', paid_on_time: 'number', plain: 'number' });
    const bare = Object.fromEntries(loaded.analysis.schema.fields.map((field) => [field.name, field.bareNumber]));
    assert.deepEqual(bare, { ward: undefined, turnout: false, change: false, paid_on_time: false, plain: undefined });
    assert.deepEqual(column(loaded, 'turnout'), ['34.5', '28', '41']);
    assert.deepEqual(column(loaded, 'change'), ['-2', '1.25', '0']);
    assert.deepEqual(column(loaded, 'paid_on_time'), ['98', null, '100']);
    assert.deepEqual(column(loaded, 'plain'), ['12.5', '13', '14.25']);
    const warned = loaded.analysis.warnings.filter((warning) => warning.code === 'percentages_as_numbers').map((warning) => warning.column);
    assert.deepEqual(warned, ['Turnout', 'Change', 'Paid on time']);
  });

  it('reads balance marks as signs', async () => {
    const loaded = await ingest('balance-marks.csv');
    assert.deepEqual(fieldTypes(loaded.analysis), { supplier: 'string', amount: 'number', balance: 'number', code: 'string' });
    assert.deepEqual(column(loaded, 'amount'), ['1234.50', '99.99', '-25.00']);
    assert.deepEqual(column(loaded, 'balance'), ['-250.00', '-1000.00', '-12.50']);
    assert.deepEqual(column(loaded, 'code'), ['12CR', '34DR', '2024-']);
    const warned = loaded.analysis.warnings.filter((warning) => warning.code === 'balance_marks_as_signs');
    assert.deepEqual(warned.map((warning) => warning.column), ['Amount', 'Balance']);
    assert.match(warned[0]!.message, /such as 99\.99DR/);
  });

  it('keeps codes with leading zeros or letters as text', async () => {
    const loaded = await ingest('codes.csv');
    assert.deepEqual(fieldTypes(loaded.analysis), { code: 'string', ref: 'string', number: 'integer' });
    assert.deepEqual(column(loaded, 'code'), ['01234', '00007', '12345']);
  });

  it('keeps exponent-like codes as text', async () => {
    const loaded = await ingest('exponent-codes.csv');
    assert.deepEqual(fieldTypes(loaded.analysis), { cost_centre: 'string', amount: 'number' });
    assert.deepEqual(column(loaded, 'cost_centre'), ['12E4', '3E10', '45E2']);
    assert.deepEqual(column(loaded, 'amount'), ['1.5e+3', '7', '2e-2']);
  });

  it('falls back to text for one late non-number', async () => {
    const loaded = await ingest('late-text.csv');
    assert.equal(fieldTypes(loaded.analysis).value, 'string');
    assert.equal(column(loaded, 'value')[2500], 'unknown');
    assert.equal(fieldTypes(loaded.analysis).id, 'integer');
  });

  it('reads missing-value markers as null only in numeric columns', async () => {
    const loaded = await ingest('sentinels.csv');
    assert.deepEqual(fieldTypes(loaded.analysis), { area: 'string', count: 'integer', label: 'string' });
    assert.deepEqual(column(loaded, 'count'), ['12', null, null, '7']);
    assert.deepEqual(column(loaded, 'label'), ['-', 'x', 'y', '-']);
    const warning = loaded.analysis.warnings.find((w) => w.code === 'missing_value_markers');
    assert.equal(warning?.column, 'Count');
  });

  it('keeps mixed date formats as text', async () => {
    const loaded = await ingest('date-formats-mixed.csv');
    assert.deepEqual(fieldTypes(loaded.analysis), { date: 'string', reading: 'number', site: 'string' });
    assert.deepEqual(column(loaded, 'date'), ['2024-01-02', '01-03-2024', '2024.01.02', '24-01-03']);
  });

  it('maps every type to a PostgreSQL column type', () => {
    const types = ['string', 'integer', 'number', 'boolean', 'date', 'datetime'] as const;
    assert.deepEqual(
      types.map((type) => columnSqlType({ name: 'a', title: 'a', type })),
      ['text', 'bigint', 'numeric', 'boolean', 'date', 'timestamptz'],
    );
  });
});
