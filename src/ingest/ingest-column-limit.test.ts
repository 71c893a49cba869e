import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { analyseFile, MAX_FILE_COLUMNS } from './analyse.ts';
import { IngestError } from './ingest.types.ts';

/** Writes a CSV with `columns` columns and two rows of small numbers. */
function wideCsv(folder: string, columns: number): string {
  const file = path.join(folder, `wide-${columns}.csv`);
  const header = Array.from({ length: columns }, (_, index) => `c${index + 1}`).join(',');
  const row = Array.from({ length: columns }, (_, index) => String(index)).join(',');
  fs.writeFileSync(file, `${header}\n${row}\n${row}\n`);
  return file;
}

describe('column limit', () => {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'civic-wide-'));
  after(() => fs.rmSync(folder, { recursive: true, force: true }));

  test('limit leaves room for _id', () => {
    assert.equal(MAX_FILE_COLUMNS, 1599);
  });

  test('widest loadable file is analysed', async () => {
    const file = wideCsv(folder, MAX_FILE_COLUMNS);
    const analysis = await analyseFile({ path: file, filename: path.basename(file) });
    assert.equal(analysis.schema.fields.length, MAX_FILE_COLUMNS);
  });

  test('one more column is rejected', async () => {
    const file = wideCsv(folder, 1700);
    await assert.rejects(analyseFile({ path: file, filename: 'wide.csv' }), (error: unknown) => {
      assert.ok(error instanceof IngestError);
      assert.equal(error.code, 'too_many_columns');
      assert.match(error.message, /^wide\.csv has 1700 columns \(header on line 1\), but a PostgreSQL table can have at most 1600 columns/);
      assert.match(error.message, /a file can have at most 1599/);
      assert.match(error.message, /Split the columns into two or more files/);
      return true;
    });
  });
});
