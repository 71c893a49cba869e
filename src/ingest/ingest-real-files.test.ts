/**
 * Real published files (test/fixtures/messy, health and spending, with their sources in SOURCES.md there). Each
 * expected value was read from the file itself.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyseFile } from './analyse.ts';
import { column, fieldTypes, fixture, load } from './ingest.test-support.ts';

describe('messy real files', () => {
  it('mixedGLB.csv: CR-only, three preamble rows, **** markers', async () => {
    const loaded = await load(fixture('messy', 'mixedGLB.csv'));
    const { analysis } = loaded;
    assert.deepEqual([analysis.encoding, analysis.delimiter, analysis.header_row, analysis.rows], ['UTF-8', ',', 4, 133]);
    assert.match(analysis.title ?? '', /^Combined Land--Ocean Temperature Anomaly/);
    assert.equal(fieldTypes(analysis).j_d, 'integer');
    assert.deepEqual(analysis.schema.fields.find((field) => field.name === 'd_n')?.missingValues, ['****']);
    assert.deepEqual(loaded.rows[0]!.slice(0, 4), ['1', '1880', '-43', '-27']);
    assert.equal(column(loaded, 'j_d')[0], '-28');
    assert.equal(column(loaded, 'd_n')[0], null);
    assert.equal(column(loaded, 'djf')[0], null);
    assert.deepEqual(column(loaded, 'year').at(-1), '2012');
  });

  it('excel_pasting.csv: header on line 4, Total and Source rows dropped', async () => {
    const loaded = await load(fixture('messy', 'excel_pasting.csv'));
    const { analysis } = loaded;
    assert.deepEqual([analysis.encoding, analysis.delimiter, analysis.header_row, analysis.rows], ['UTF-8', ',', 4, 13]);
    assert.deepEqual(analysis.schema.fields.slice(0, 2).map((field) => field.name), ['year', 'column_2000']);
    assert.deepEqual(column(loaded, 'column_2000').slice(0, 2), ['2666', '498']);
    assert.equal(column(loaded, 'year')[9], 'Machinery and \nequipment');
    assert.deepEqual(analysis.excluded_lines, [21, 23, 24]);
    assert.ok(analysis.warnings.some((w) => w.code === 'summary_row_excluded' && w.line === 21));
  });

  it('weird_head_padding.csv: semicolons, metadata block, notes after', async () => {
    const loaded = await load(fixture('messy', 'weird_head_padding.csv'));
    const { analysis } = loaded;
    assert.deepEqual([analysis.delimiter, analysis.header_row, analysis.rows], [';', 12, 60]);
    assert.equal(analysis.schema.fields[0]!.name, 'column_1');
    assert.equal(fieldTypes(analysis).column_1993, 'integer');
    assert.equal(column(loaded, 'column_1993')[7], '1613');
    assert.ok(analysis.warnings.some((w) => w.code === 'footer_rows_excluded' && w.line === 74));
  });

  it('sparse_with_column_errors.csv: Latin-1 with a blank fourth header', async () => {
    const loaded = await load(fixture('messy', 'sparse_with_column_errors.csv'));
    const { analysis } = loaded;
    assert.deepEqual([analysis.encoding, analysis.header_row, analysis.rows], ['ISO-8859-1', 1, 2200]);
    assert.deepEqual(analysis.schema.fields.map((field) => field.name), ['lp', 'bezeichnung', 'kapitel_titel', 'column_4']);
    assert.match(column(loaded, 'bezeichnung')[0] ?? '', /^Trägerorganisationen/);
    assert.ok(column(loaded, 'column_4').includes('090268321'));
  });

  it('spanish_chars.csv: Latin-1 quoted amounts and a source line', async () => {
    const loaded = await load(fixture('messy', 'spanish_chars.csv'));
    const { analysis } = loaded;
    assert.deepEqual([analysis.encoding, analysis.rows], ['ISO-8859-1', 114]);
    assert.equal(fieldTypes(analysis).gasto_total_2011, 'number');
    assert.equal(column(loaded, 'gasto_total_2011')[0], '229932.50');
    assert.deepEqual(analysis.excluded_lines, [120]);
  });

  it('begrotingsanalyse-2011.csv: stacked header over four rows', async () => {
    const loaded = await load(fixture('messy', 'begrotingsanalyse-2011.csv'));
    const { analysis } = loaded;
    assert.deepEqual([analysis.header_row, analysis.header_end_row, analysis.rows], [4, 7, 36]);
    assert.equal(analysis.schema.fields[2]!.title, 'provincie\nA\nGroningen');
    assert.equal(analysis.schema.fields[2]!.name, 'provincie_a_groningen');
    assert.equal(column(loaded, 'cluster')[1], 'Onroerendezaakbelastingen');
  });

  it('utf8bom.csv: one line is a header without data', async () => {
    await assert.rejects(analyseFile(fixture('messy', 'utf8bom.csv')), { code: 'header_only' });
  });

  for (const file of ['test-utf8-bom.csv', 'test-utf16.csv', 'test-utf16-bom.csv']) {
    it(`${file}: the CSV on the Web syntax test`, async () => {
      const loaded = await load(fixture('messy', file));
      const { analysis } = loaded;
      assert.equal(analysis.encoding, file === 'test-utf8-bom.csv' ? 'UTF-8' : 'UTF-16LE');
      assert.equal(analysis.rows, 3);
      assert.deepEqual(fieldTypes(analysis), { test_text: 'string', test_number: 'number', test_date: 'date %Y-%m-%d' });
      assert.equal(column(loaded, 'test_number')[0], '1234.56');
      assert.ok(column(loaded, 'test_text').some((text) => text?.includes('"') && text.includes('\n')));
    });
  }
});

describe('health real file', () => {
  it('utf-16le_encoded.csv: UTF-16LE with BOM, ODS codes as text', async () => {
    const loaded = await load(fixture('health', 'utf-16le_encoded.csv'));
    const { analysis } = loaded;
    assert.deepEqual([analysis.encoding, analysis.delimiter, analysis.header_row, analysis.rows], ['UTF-16LE', ',', 1, 327]);
    assert.equal(analysis.schema.fields.length, 19);
    assert.equal(fieldTypes(analysis).organisation_code, 'string');
    assert.equal(column(loaded, 'organisation_code')[0], '5C1');
    assert.equal(fieldTypes(analysis).part_ii_patients, 'integer');
  });
});

describe('spending real files', () => {
  const expectations = [
    ['DCCSpendingOver500_201210.csv', 'UTF-8', 6827],
    ['DCCSpendingOver500_201706.csv', 'UTF-8', 7990],
    ['DCCSpendingOver500_202504.csv', 'UTF-8', 237],
    ['DCCSpendingOver500_202508.csv', 'UTF-8', 1770],
    ['DCCSpendingOver500_202603.csv', 'UTF-8', 3545],
  ] as const;
  for (const [file, encoding, rows] of expectations) {
    it(`${file}: ${rows} rows`, async () => {
      const analysis = await analyseFile(fixture('spending', file));
      assert.deepEqual([analysis.encoding, analysis.delimiter, analysis.header_row, analysis.rows], [encoding, ',', 1, rows]);
      assert.equal(fieldTypes(analysis).amount, 'number');
    });
  }

  it('DCCSpendingOver500_202603.csv: padded Amount header, totals row dropped', async () => {
    const analysis = await analyseFile(fixture('spending', 'DCCSpendingOver500_202603.csv'));
    const amount = analysis.schema.fields.find((field) => field.name === 'amount');
    assert.equal(amount?.title, ' Amount ');
    assert.deepEqual(analysis.excluded_lines, [3547]);
    assert.deepEqual(analysis.warnings.map((w) => [w.code, w.line]), [['summary_row_excluded', 3547]]);
  });

  it('DCCSpendingOver500_201706.csv: BOM and midnight timestamps', async () => {
    const loaded = await load(fixture('spending', 'DCCSpendingOver500_201706.csv'));
    assert.equal(loaded.analysis.schema.fields[0]!.name, 'body');
    assert.equal(fieldTypes(loaded.analysis).date, 'date %Y-%m-%d 00:00:00');
    assert.equal(column(loaded, 'date')[0], '2017-06-01');
    assert.equal(column(loaded, 'amount')[0], '502.53');
  });

  it('ESCC-payment-data-Q2281011.csv: single-byte £ amounts under a title', async () => {
    const loaded = await load(fixture('spending', 'ESCC-payment-data-Q2281011.csv'));
    const { analysis } = loaded;
    // No byte in 0x80–0x9F occurs, so Windows-1252 and ISO-8859-1 read every byte alike; ingest names the latter.
    assert.deepEqual([analysis.encoding, analysis.header_row, analysis.rows], ['ISO-8859-1', 2, 5767]);
    assert.equal(analysis.title, 'Transparency Q2 - 01.07.11 to 30.09.11 as at 28.10.11');
    assert.deepEqual(column(loaded, 'amount').slice(0, 3), ['512', '852', '23705']);
  });

  it('mth-10-january-2014.csv: title, blank line, padded header', async () => {
    const loaded = await load(fixture('spending', 'mth-10-january-2014.csv'));
    const { analysis } = loaded;
    assert.deepEqual([analysis.header_row, analysis.rows, analysis.schema.fields.length], [3, 89, 8]);
    assert.equal(analysis.title, 'Expenditure over £25,000- Payment made in January 2014');
    assert.equal(fieldTypes(analysis).transaction_number, 'string');
    assert.equal(column(loaded, 'transaction_number')[0], '0001337928');
    assert.equal(column(loaded, 'date')[0], '2014-01-31');
    assert.equal(column(loaded, 'amount_in_sterling')[0], '31896.06');
  });
});
