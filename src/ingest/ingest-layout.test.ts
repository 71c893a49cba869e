import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyseFile } from './analyse.ts';
import { makeColumnNames } from './column-names.ts';
import { IngestError } from './ingest.types.ts';
import { column, fixture, load } from './ingest.test-support.ts';

const ingest = (name: string) => load(fixture('ingest', name));

async function rejection(name: string): Promise<IngestError> {
  try {
    await analyseFile(fixture('ingest', name));
  } catch (error) {
    assert.ok(error instanceof IngestError, `expected an IngestError, got ${String(error)}`);
    return error;
  }
  assert.fail(`${name} was accepted`);
}

describe('dialect', () => {
  it('sniffs semicolons and reads decimal commas', async () => {
    const loaded = await ingest('semicolon-decimal-comma.csv');
    assert.equal(loaded.analysis.delimiter, ';');
    assert.equal(loaded.analysis.decimal_mark, ',');
    assert.deepEqual(column(loaded, 'bedrag'), ['1234.56', '7.5', '-0.25']);
    assert.deepEqual(column(loaded, 'aantal'), ['1613', '12', '3']);
  });

  it('sniffs tabs', async () => {
    const loaded = await ingest('tab.tsv');
    assert.equal(loaded.analysis.delimiter, '\t');
    assert.deepEqual(column(loaded, 'population'), ['7512', '9834']);
    assert.deepEqual(column(loaded, 'area_ha'), ['1021.5', '660.2']);
  });

  it('sniffs pipes', async () => {
    const loaded = await ingest('pipe.txt');
    assert.equal(loaded.analysis.delimiter, '|');
    assert.deepEqual(column(loaded, 'opened'), ['2019-02-01', '2020-11-15']);
  });

  it('reads CR-only line endings', async () => {
    const loaded = await ingest('cr-only.csv');
    assert.equal(loaded.analysis.rows, 2);
    assert.deepEqual(column(loaded, 'count'), ['12', '7']);
  });

  it('keeps quoted line breaks and doubled quotes', async () => {
    const loaded = await ingest('crlf-quoted.csv');
    assert.deepEqual(column(loaded, 'comment'), ['Said "hello"\r\nthen left', 'a, b and c', 'plain']);
    assert.deepEqual(column(loaded, 'amount'), ['5', '6', '7']);
  });

  it('escapes tabs, newlines and backslashes for COPY', async () => {
    const loaded = await ingest('multiline-quoted.csv');
    assert.match(loaded.chunks.join(''), /Progress:\\n- shelving done\\n- "quiet room" next/);
    assert.equal(column(loaded, 'notes')[1], 'Waiting on:\n- lease');
  });
});

describe('header and column ids', () => {
  it('finds the header below a title, blank and note row', async () => {
    const loaded = await ingest('preamble.csv');
    assert.equal(loaded.analysis.header_row, 4);
    assert.equal(loaded.analysis.title, 'Thurrock Council payments over £500');
    assert.deepEqual(column(loaded, 'date'), ['2025-04-05', '2025-04-06']);
  });

  it('joins a units row to the header', async () => {
    const loaded = await ingest('units-row.csv');
    assert.equal(loaded.analysis.header_end_row, 2);
    assert.deepEqual(loaded.analysis.schema.fields.map((field) => field.name), ['ward', 'population_people', 'area_ha']);
    assert.deepEqual(column(loaded, 'ward'), ['Aveley', 'Grays']);
  });

  it('keeps a first row with text in a number column as data', async () => {
    const loaded = await ingest('first-row-text-amount.csv');
    assert.equal(loaded.analysis.header_end_row, 1);
    assert.deepEqual(loaded.analysis.schema.fields.map((field) => field.name), ['supplier', 'amount']);
    assert.deepEqual(column(loaded, 'supplier'), ['Acme Ltd', 'Bolt & Co', 'Cart Ltd']);
    assert.equal(loaded.analysis.rows, 3);
  });

  it('makes distinct ids and keeps the original titles', async () => {
    const loaded = await ingest('awkward-headers.csv');
    const names = loaded.analysis.schema.fields.map((field) => field.name);
    assert.deepEqual(names.slice(0, 7), ['name', 'name_2', 'column_3', 'amount_gbp', 'column_2020', 'cafe_name', 'id']);
    assert.equal(names[7], 'x'.repeat(63));
    assert.equal(names[8], `${'x'.repeat(61)}_2`);
    assert.deepEqual(
      loaded.analysis.schema.fields.map((field) => field.title).slice(0, 7),
      ['Name', 'Name', '', 'Amount (£)', '2020', 'Café Ñame', '_id'],
    );
  });

  it('never makes an empty, numeric-led or _id column id', () => {
    const names = makeColumnNames(['', '  ', '2021/22', '_id', '!!!', 'Ōkami Ward']);
    assert.deepEqual(names, ['column_1', 'column_2', 'column_2021_22', 'id', 'column_5', 'okami_ward']);
  });

  it('keeps ids unique after truncating to 63 bytes', () => {
    const long = 'Total expenditure on adult social care for the year ending March';
    const names = makeColumnNames([`${long} 2024`, `${long} 2025`, `${long} 2024`]);
    assert.equal(new Set(names).size, 3);
    for (const name of names) assert.ok(Buffer.byteLength(name) <= 63, name);
  });

  it('names blank duplicate headers column_N', async () => {
    const loaded = await ingest('blank-duplicate-headers.csv');
    assert.deepEqual(
      loaded.analysis.schema.fields.map((field) => field.name),
      ['department', 'contract', 'value', 'column_4', 'column_5', 'column_6', 'supplier'],
    );
    assert.deepEqual(column(loaded, 'value'), ['123456', '7000']);
  });

  it('keeps a header with a blank last name', async () => {
    const loaded = await ingest('blank-last-header.csv');
    assert.equal(loaded.analysis.header_row, 1);
    assert.deepEqual(loaded.analysis.schema.fields.map((field) => field.name), ['name', 'amount', 'tax', 'column_4']);
    assert.deepEqual(column(loaded, 'name'), ['Acme Ltd', 'Bolt & Co', 'Cart Ltd']);
  });

  it('drops punctuation from headers', async () => {
    const loaded = await ingest('punctuation-headers.csv');
    assert.deepEqual(loaded.analysis.schema.fields.map((field) => field.name), ['w_r_d', 'c_o_and_u_n_t_s', 'p_l_a_c_e_percent']);
    assert.equal(loaded.analysis.schema.fields[2]!.title, 'p\\l/a[c{e%');
  });
});

describe('row shapes', () => {
  it('drops Excel padding silently', async () => {
    const loaded = await ingest('excel-padding.csv');
    assert.equal(loaded.analysis.schema.fields.length, 2);
    assert.deepEqual(loaded.analysis.warnings, []);
    assert.deepEqual(loaded.rows, [['1', 'Aveley', '12'], ['2', 'Ockendon', '7']]);
  });

  it('rejects a surplus cell with data', async () => {
    const error = await rejection('surplus-cell.csv');
    assert.equal(error.code, 'surplus_cell');
    assert.equal(error.location.line, 4);
    assert.match(error.message, /line 4 of surplus-cell\.csv has a value in column 3/);
    assert.match(error.message, /double quotes/);
  });

  it('rejects an unquoted extra comma after accents', async () => {
    const error = await rejection('accents-extra-comma.csv');
    assert.equal(error.code, 'surplus_cell');
    assert.equal(error.location.line, 4);
  });

  it('pads short rows with nulls and warns', async () => {
    const loaded = await ingest('short-rows.csv');
    assert.deepEqual(loaded.rows, [['1', 'Aveley', '12', '3.5'], ['2', 'Ockendon', '7', null], ['3', 'Grays', null, null]]);
    const warning = loaded.analysis.warnings.find((w) => w.code === 'short_rows');
    assert.equal(warning?.line, 3);
    assert.match(warning?.message ?? '', /^2 rows have fewer cells/);
  });

  it('excludes a totals row and a source note', async () => {
    const loaded = await ingest('totals.csv');
    assert.equal(loaded.analysis.rows, 2);
    assert.deepEqual(loaded.analysis.excluded_lines, [4, 6]);
    assert.deepEqual(loaded.analysis.warnings.map((w) => [w.code, w.line]), [['summary_row_excluded', 4], ['footer_rows_excluded', 6]]);
    assert.deepEqual(column(loaded, 'amount'), ['100.00', '250.50']);
  });

  it('excludes a Grand total row', async () => {
    const loaded = await ingest('grand-total.csv');
    assert.deepEqual(column(loaded, 'ward'), ['Aveley', 'Ockendon']);
    assert.equal(loaded.analysis.warnings[0]?.line, 4);
  });
});

describe('files that cannot load', () => {
  for (const [file, code] of [
    ['empty.csv', 'empty_file'],
    ['blank-lines.csv', 'empty_file'],
    ['header-only.csv', 'header_only'],
    ['binary.csv', 'binary_file'],
    ['report.pdf', 'unknown_extension'],
    ['unterminated.csv', 'unterminated_quote'],
  ] as const) {
    it(`rejects ${file} with ${code}`, async () => {
      const error = await rejection(file);
      assert.equal(error.code, code);
      assert.match(error.message, new RegExp(file.replace('.', '\\.')));
    });
  }

  it('names the line of an unterminated quote', async () => {
    const error = await rejection('unterminated.csv');
    assert.equal(error.location.line, 2);
  });

  it('rejects a missing file', async () => {
    await assert.rejects(analyseFile({ path: '/nonexistent/file.csv', filename: 'file.csv' }), { code: 'file_not_found' });
  });
});
