import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyseFile } from './analyse.ts';
import { column, fixture, load } from './ingest.test-support.ts';
import { listSheets } from './workbook.ts';

describe('sheet option on text files', () => {
  it('rejects a sheet for a CSV file', async () => {
    await assert.rejects(analyseFile(fixture('ingest', 'money.csv'), { sheet: 'S1' }), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'sheet_not_applicable');
      assert.match(error.message, /money\.csv is a text file with no sheets/);
      assert.match(error.message, /"S1"/);
      return true;
    });
  });
});

describe('XLSX workbooks', () => {
  it('lists sheets with their hidden state', async () => {
    assert.deepEqual(await listSheets(fixture('ingest', 'two-sheets.xlsx')), [
      { name: 'Payments', hidden: false, rows: 4 },
      { name: 'Wards', hidden: false, rows: 2 },
      { name: 'Lookup', hidden: true, rows: 2 },
    ]);
  });

  it('asks for --sheet when several visible sheets hold data', async () => {
    await assert.rejects(analyseFile(fixture('ingest', 'two-sheets.xlsx')), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'sheet_required');
      assert.match(error.message, /"Payments", "Wards"/);
      assert.match(error.message, /--sheet/);
      return true;
    });
  });

  it('loads the named sheet with a merged title and a two-line header cell', async () => {
    const loaded = await load(fixture('ingest', 'two-sheets.xlsx'), { sheet: 'Payments' });
    assert.equal(loaded.analysis.sheet, 'Payments');
    assert.equal(loaded.analysis.header_row, 3);
    assert.equal(loaded.analysis.title, 'Payments over £500, April 2025');
    assert.deepEqual(loaded.analysis.schema.fields.map((field) => [field.name, field.title, field.type]), [
      ['paid_on', 'Paid on', 'date'],
      ['supplier_name', 'Supplier\nname', 'string'],
      ['amount', 'Amount', 'number'],
    ]);
    assert.deepEqual(column(loaded, 'paid_on'), ['2025-04-05', '2025-04-06']);
    assert.deepEqual(column(loaded, 'amount'), ['100.5', '250']);
  });

  it('names rows in total and note warnings', async () => {
    const loaded = await load(fixture('ingest', 'sheet-totals.xlsx'));
    assert.deepEqual(column(loaded, 'ward'), ['Aveley', 'Ockendon']);
    const [total, notes] = loaded.analysis.warnings;
    assert.equal(total?.message, 'Row 4 of sheet Wards of sheet-totals.xlsx looks like a total, so it was not loaded as data.');
    assert.equal(notes?.message, '2 note rows after the table, from row 6 of sheet Wards of sheet-totals.xlsx to row 7, were not loaded as data.');
  });

  it('skips hidden sheets unless named', async () => {
    const visible = await analyseFile(fixture('ingest', 'one-visible-sheet.xlsx'));
    assert.equal(visible.sheet, 'Only');
    const hidden = await load(fixture('ingest', 'one-visible-sheet.xlsx'), { sheet: 'Hidden notes' });
    assert.equal(hidden.analysis.sheet, 'Hidden notes');
    assert.deepEqual(hidden.rows, [['1', 'Budget', 'Draft figures']]);
  });

  it('rejects an unknown sheet name', async () => {
    await assert.rejects(analyseFile(fixture('ingest', 'two-sheets.xlsx'), { sheet: 'Nope' }), { code: 'sheet_not_found' });
  });

  it('reads large.xlsx with its hidden sheets and stacked header', async () => {
    const source = fixture('messy', 'large.xlsx');
    const sheets = await listSheets(source);
    assert.deepEqual(sheets.map((sheet) => [sheet.name, sheet.hidden]), [['Report', false], ['data', true], ['criteria', true]]);
    const report = await analyseFile(source);
    assert.equal(report.sheet, 'Report');
    assert.equal(report.header_row, 4);
    assert.equal(report.header_end_row, 6);
    assert.equal(report.schema.fields[2]!.title, "'A'\nALL\nBONDS\nISSUED");
    assert.equal(report.schema.fields[2]!.name, 'a_all_bonds_issued');
    assert.equal(report.schema.fields[2]!.type, 'integer');
    const data = await analyseFile(source, { sheet: 'data' });
    assert.equal(data.header_row, 3);
    assert.equal(data.rows, 8544);
    assert.equal(data.schema.fields[0]!.type, 'date');
  });
});

describe('ODS workbooks', () => {
  it('lists sheets, loads the visible one and reads typed cells', async () => {
    const source = fixture('ingest', 'sheets.ods');
    assert.deepEqual(await listSheets(source), [
      { name: 'Grants', hidden: false, rows: 5 },
      { name: 'Workings', hidden: true, rows: 1 },
    ]);
    const loaded = await load(source);
    assert.equal(loaded.analysis.sheet, 'Grants');
    assert.equal(loaded.analysis.header_row, 3);
    assert.equal(loaded.analysis.title, 'Grants awarded 2025');
    assert.deepEqual(loaded.analysis.schema.fields.map((field) => [field.name, field.title, field.type]), [
      ['awarded', 'Awarded', 'date'],
      ['group_name', 'Group\nname', 'string'],
      ['amount', 'Amount', 'number'],
    ]);
    assert.deepEqual(column(loaded, 'awarded'), ['2025-04-05', '2025-04-06', '2025-04-06']);
    assert.deepEqual(column(loaded, 'group_name'), ['Grays  Youth Club', 'Tilbury Foodbank', 'Tilbury Foodbank']);
    assert.deepEqual(column(loaded, 'amount'), ['1500.5', '200', '200']);
  });
});

describe('formula errors', () => {
  const cases = [
    { file: 'error-cells.xlsx', spent: ['3.5', null, '2.25'] },
    // The #DIV/0! cell is empty, not the 0 that LibreOffice stores beside its text.
    { file: 'error-cells.ods', spent: ['3.5', null, null, '2.25'] },
  ];
  for (const { file, spent } of cases) {
    it(`loads errors as missing values from ${file}`, async () => {
      const loaded = await load(fixture('ingest', file));
      assert.equal(loaded.analysis.schema.fields.find((field) => field.name === 'spent_per_head')!.type, 'number');
      assert.deepEqual(column(loaded, 'spent_per_head'), spent);
      const warning = loaded.analysis.warnings.find((candidate) => candidate.code === 'missing_value_markers' && candidate.column === 'Spent per head');
      assert.ok(warning, JSON.stringify(loaded.analysis.warnings));
      assert.match(warning.message, /"#DIV\/0!"/);
    });
  }

  it('keeps #N/A out of a numeric column', async () => {
    const loaded = await load(fixture('ingest', 'error-cells.xlsx'));
    assert.equal(loaded.analysis.schema.fields.find((field) => field.name === 'budget')!.type, 'integer');
    assert.deepEqual(column(loaded, 'budget'), ['1200', '800', null]);
  });
});
