import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import iconv from 'iconv-lite';
import { parseCsv } from '../publication/csv.ts';
import { REDACTED_TEXT, RowFixer } from './redaction.ts';
import { looksLikePersonalName, looksLikeTitledIndividual } from './names.ts';
import { PersonalDataScanner, scanRows, type PersonalDataFinding } from './scanner.ts';

/** Reads a fixture as header and rows; `skip` drops title lines above the header. */
function readFixture(path: string, encoding = 'utf8', skip = 0): { headers: string[]; rows: string[][] } {
  const records = parseCsv(iconv.decode(fs.readFileSync(path), encoding))
    .slice(skip)
    .filter((record) => record.some((value) => value !== ''));
  const [headers, ...rows] = records;
  return { headers: headers!, rows };
}

function summary(findings: PersonalDataFinding[]): string[] {
  return findings.map((finding) => `${finding.column}:${finding.kind}:${finding.count}`);
}

function valuesAt(fixture: { headers: string[]; rows: string[][] }, finding: PersonalDataFinding): string[] {
  const column = fixture.headers.indexOf(finding.column);
  return finding.rows.map((row) => fixture.rows[row - 1]![column]!);
}

describe('personal-data scan of own fixtures', () => {
  it('finds every kind with counts and rows', () => {
    const fixture = readFixture('test/fixtures/privacy/personal-data.csv');
    const findings = scanRows(fixture.headers, fixture.rows);
    assert.deepEqual(summary(findings), [
      'Supplier name:individual_name:5',
      'Notes:nhs_number:2',
      'Notes:national_insurance_number:1',
      'Notes:bank_account:1',
      'Notes:payment_card:2',
      'Client contact:email_address:1',
      'Client contact:phone_number:2',
      'Client contact:postcode:1',
      'Date of birth:date_of_birth:1',
      'Sort code:bank_account:1',
      'Account number:bank_account:1',
    ]);
    const byKey = new Map(findings.map((finding) => [`${finding.column}:${finding.kind}`, finding.rows]));
    assert.deepEqual(byKey.get('Supplier name:individual_name'), [13, 14, 15, 16, 17]);
    assert.deepEqual(byKey.get('Notes:nhs_number'), [1, 2]);
    assert.deepEqual(byKey.get('Client contact:phone_number'), [5, 6]);
  });

  it('never puts values in findings', () => {
    const fixture = readFixture('test/fixtures/privacy/personal-data.csv');
    const text = JSON.stringify(scanRows(fixture.headers, fixture.rows));
    for (const secret of ['943 476 5919', 'jane.doe', 'RM17', 'CAMERON', '4111', '12/03/1984']) assert.ok(!text.includes(secret), secret);
  });

  it('flags names under person-name headers', () => {
    const headers = ['Forename', 'Surname', 'Patient name', 'Contact name', 'Name of Body', 'Client ID', 'Name', 'Site name'];
    const rows = [
      ['Aisha', 'Patel', 'John Smith', 'Jane Doe', 'Devon County Council', 'C1234', 'Jo Bloggs', 'Grays Library'],
      ['Tom', "O'Brien", 'Mary-Ann Jones', 'Thurrock Community Trust', 'Thurrock Council', 'C1235', 'Central Library', 'Civic Offices'],
    ];
    assert.deepEqual(summary(scanRows(headers, rows)), [
      'Forename:individual_name:2',
      'Surname:individual_name:2',
      'Patient name:individual_name:2',
      'Contact name:individual_name:1',
    ]);
  });

  it('flags none of the look-alikes', () => {
    const fixture = readFixture('test/fixtures/privacy/lookalikes.csv');
    assert.deepEqual(scanRows(fixture.headers, fixture.rows), []);
  });

  it('counts bare NHS numbers by column evidence', () => {
    const headers = ['Reference'];
    const nhsColumn = [['9434765919'], ['4010232137'], ['9876543210']];
    assert.deepEqual(summary(scanRows(headers, nhsColumn)), ['Reference:nhs_number:3']);
    // Ten-digit document numbers pass the check about one time in eleven, so a column of them is not flagged.
    const documents = Array.from({ length: 110 }, (_value, index) => [String(3000269900 + index)]);
    assert.deepEqual(scanRows(headers, documents), []);
    assert.deepEqual(summary(scanRows(['NHS no'], [['3000269900'], ['4010232137']])), ['NHS no:nhs_number:1']);
  });

  it('gives the same findings value by value', () => {
    const fixture = readFixture('test/fixtures/privacy/personal-data.csv');
    const scanner = new PersonalDataScanner(fixture.headers);
    fixture.rows.forEach((row, index) => row.forEach((value, column) => scanner.visit(index + 1, column, value)));
    assert.deepEqual(scanner.findings(), scanRows(fixture.headers, fixture.rows));
  });

  it('keeps at most ten example rows', () => {
    const rows = Array.from({ length: 25 }, () => ['DR SARAH SAUNDERS']);
    const [finding] = scanRows(['Supplier name'], rows);
    assert.equal(finding?.count, 25);
    assert.deepEqual(finding?.rows, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});

describe('personal-data scan of real spending files', () => {
  const cases: Array<{ file: string; encoding?: string; skip?: number; column: string; names: string[] }> = [
    { file: 'DCCSpendingOver500_201210.csv', column: 'Supplier Name', names: ['BEECHEY HILARY MS', 'CHURCHILL IAN'] },
    { file: 'DCCSpendingOver500_201706.csv', column: 'Supplier Name', names: ['CAMERON ROBERT MR', 'GOUGH ANNA DR'] },
    { file: 'DCCSpendingOver500_202504.csv', column: 'Supplier name', names: ['DR SARAH SAUNDERS'] },
    { file: 'DCCSpendingOver500_202603.csv', column: 'Supplier name', names: ['REES JAMES MR'] },
    { file: 'ESCC-payment-data-Q2281011.csv', encoding: 'windows-1252', skip: 1, column: 'Name', names: ['MR I WESTCOTT', 'DR GARY TAYLOR'] },
  ];
  for (const entry of cases) {
    it(`catches named payees in ${entry.file}`, () => {
      const fixture = readFixture(`test/fixtures/spending/${entry.file}`, entry.encoding, entry.skip);
      const findings = scanRows(fixture.headers, fixture.rows);
      assert.deepEqual(findings.map((finding) => `${finding.column}:${finding.kind}`), [`${entry.column}:individual_name`]);
      const fixer = new RowFixer(fixture.headers, [{ type: 'redact', column: entry.column, kind: 'individual_name' }]);
      const column = fixture.headers.indexOf(entry.column);
      const redacted = fixture.rows.map((row) => fixer.fix(row));
      for (const name of entry.names) {
        const before = fixture.rows.findIndex((row) => row[column] === name);
        assert.ok(before >= 0, `${name} is in the file`);
        assert.equal(redacted[before]![column], REDACTED_TEXT, name);
      }
      assert.deepEqual(scanRows(fixer.outputHeaders, redacted), [], 'nothing left after redaction');
    });
  }

  it('creditor type SOLE rows are all caught in Devon June 2017', () => {
    const fixture = readFixture('test/fixtures/spending/DCCSpendingOver500_201706.csv');
    const type = fixture.headers.indexOf('Creditor Type');
    const name = fixture.headers.indexOf('Supplier Name');
    const sole = fixture.rows.filter((row) => row[type] === 'SOLE' && !/\b(LTD|LIMITED)\b/.test(row[name]!)).length;
    const [finding] = scanRows(fixture.headers, fixture.rows);
    assert.ok(sole > 150);
    assert.ok(finding!.count >= sole, `${finding!.count} flagged, ${sole} SOLE rows`);
    assert.ok(valuesAt(fixture, finding!).every((value) => value !== 'REDACTED UNDER DP ACT'));
  });

  it('leaves company payees in Devon 2025 unflagged', () => {
    const fixture = readFixture('test/fixtures/spending/DCCSpendingOver500_202603.csv');
    const [finding] = scanRows(fixture.headers, fixture.rows);
    const flagged = new Set(valuesAt(fixture, finding!));
    assert.ok(!flagged.has('DR JHETAM LIMITED'));
  });

  it('finds nothing in NHS trust spending over £25,000', () => {
    const fixture = readFixture('test/fixtures/spending/mth-10-january-2014.csv', 'windows-1252', 2);
    assert.deepEqual(scanRows(fixture.headers, fixture.rows), []);
  });
});

describe('personal-data scan of other Transparency Code files', () => {
  it('finds nothing in card transactions', () => {
    const fixture = readFixture('test/fixtures/transparency/government_procurement_card_transactions_2026-27.csv');
    assert.equal(fixture.rows.length, 2024);
    assert.deepEqual(scanRows(fixture.headers, fixture.rows), []);
  });

  it('finds nothing in the land register', () => {
    const fixture = readFixture('test/fixtures/transparency/trafford_land_and_building_assets.csv');
    assert.equal(fixture.rows.length, 608);
    // Asset postcodes locate council property and no row names a person, so none of the 374 postcodes counts.
    assert.deepEqual(scanRows(fixture.headers, fixture.rows), []);
  });

  it('flags postcodes beside a named person', () => {
    const headers = ['Supplier name', 'Address'];
    assert.deepEqual(summary(scanRows(headers, [['DR SARAH SAUNDERS', '1 High Road, RM17 6SL'], ['Acme Ltd', '2 High Road, RM17 6SL']])), [
      'Supplier name:individual_name:1',
      'Address:postcode:1',
    ]);
    assert.deepEqual(summary(scanRows(['Home postcode'], [['RM17 6SL']])), ['Home postcode:postcode:1']);
    assert.deepEqual(scanRows(['Home postcode'], [['RM17 6SL']], [{ kind: 'postcode' }]), [], 'a declared schema can expect postcodes');
  });
});

describe('personal-data scan of bare Name columns', () => {
  it('recognises name shapes', () => {
    for (const name of ['Sarah Saunders', 'J Smith', 'J. MATTISON', 'SMITH, JOHN', 'Saunders, S', 'Cllr Jane Brown', 'Mary-Jane Watson', "Siobhan O'Neill", 'SMITH JOHN']) {
      assert.equal(looksLikePersonalName(name), true, name);
    }
    for (const other of ['CHARLOTTE STREET ENTRANCE', 'Victoria Road Car Park', 'G S TRAVEL', 'T AND J MOTEL', 'Smith & Jones', 'George Stone Limited', 'Grays Library', 'Sarah', 'A B', 'Unit 4 Grays']) {
      assert.equal(looksLikePersonalName(other), false, other);
    }
  });

  it('flags a column of people', () => {
    const people = ['Sarah Saunders', 'James Rees', 'A Patel', 'Mohammed Ali', 'Brown, Karen', 'Niamh Kelly', 'Tomasz Nowak', 'Grace Okafor'];
    const rows = [...people, 'Grays Library', 'Thurrock Council'].map((name) => [name, 'Foster carer']);
    const [finding, ...rest] = scanRows(['Name', 'Role'], rows);
    assert.deepEqual(rest, []);
    assert.equal(finding!.column, 'Name');
    assert.equal(finding!.kind, 'individual_name');
    assert.equal(finding!.count, people.length);
    assert.deepEqual(finding!.rows, [1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('ignores a few name shapes among places', () => {
    const rows = ['Grays Library', 'Alice Park', 'Blackshots Leisure Centre', 'Thameside Theatre', 'Orsett Heath', 'Stanford Hub', 'Jack Brown'].map((name) => [name]);
    assert.deepEqual(scanRows(['Name'], rows), [], 'one value in seven is under the column share');
  });

  it('finds no people among real place names', () => {
    const toilets = readFixture('samples/open_data_-_banes_public_toilets_-_15.09.14_-v3-2.csv');
    const assets = readFixture('test/fixtures/transparency/trafford_land_and_building_assets.csv');
    const places = [
      ...toilets.rows.map((row) => [row[toilets.headers.indexOf('LocationText')]!]),
      ...assets.rows.map((row) => [row[assets.headers.indexOf('PropertyName')]!]),
    ];
    assert.ok(places.length > 600);
    assert.deepEqual(scanRows(['Name'], places), []);
  });

  it('keeps the East Sussex supplier column to titled names', () => {
    // Its sole traders are about one value in thirty, under the column share, so only titled names count.
    const fixture = readFixture('test/fixtures/spending/ESCC-payment-data-Q2281011.csv', 'windows-1252', 1);
    const column = fixture.headers.indexOf('Name');
    const titled = fixture.rows.filter((row) => looksLikeTitledIndividual(row[column]!)).length;
    const [finding] = scanRows(fixture.headers, fixture.rows);
    assert.ok(titled > 0);
    assert.equal(finding!.count, titled);
  });

  it('redaction removes name shapes', () => {
    const fixer = new RowFixer(['Name'], [{ type: 'redact', column: 'Name', kind: 'individual_name' }]);
    assert.deepEqual(fixer.fix(['Sarah Saunders']), [REDACTED_TEXT]);
    assert.deepEqual(fixer.fix(['Grays Library']), ['Grays Library']);
  });
});
