import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { analyseFile } from './analyse.ts';
import type { FileAnalysis } from './ingest.types.ts';

describe('stray values warning', () => {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'civic-strays-'));
  after(() => fs.rmSync(folder, { recursive: true, force: true }));

  /** Writes rows under the header `Supplier,Amount,Paid` and analyses the file. */
  async function analyse(name: string, rows: string[]): Promise<FileAnalysis> {
    const file = path.join(folder, name);
    fs.writeFileSync(file, ['Supplier,Amount,Paid', ...rows].join('\n') + '\n');
    return analyseFile({ path: file, filename: name });
  }

  const cleanRows = (count: number) => Array.from({ length: count }, (_, index) => `Supplier ${index},${100 + index}.50,${String((index % 28) + 1).padStart(2, '0')}/04/2025`);

  test('one stray amount is named with its line', async () => {
    const rows = cleanRows(40);
    rows[5] = 'Acme,TBC,06/04/2025';
    const analysis = await analyse('tbc.csv', rows);
    assert.equal(analysis.schema.fields.find((field) => field.name === 'amount')?.type, 'string', 'the type stays text');
    const warnings = analysis.warnings.filter((warning) => warning.code === 'stray_values');
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.column, 'Amount');
    assert.equal(warnings[0]!.line, 7);
    assert.match(warnings[0]!.message, /^Column "Amount" would be numeric but for 1 value: "TBC" on line 7 of tbc\.csv\. It was loaded as text/);
    assert.match(warnings[0]!.message, /Correct the value in the file, or supply a Table Schema/);
  });

  test('stray dates are named', async () => {
    const rows = cleanRows(40);
    rows[2] = 'Acme,10,unknown';
    rows[30] = 'Bolt,11,31/02/2025';
    const analysis = await analyse('dates.csv', rows);
    const warning = analysis.warnings.find((candidate) => candidate.code === 'stray_values');
    assert.match(warning?.message ?? '', /^Column "Paid" would be a date column but for 2 values: "unknown" on line 4, "31\/02\/2025" on line 32 of dates\.csv/);
  });

  test('examples are capped with a count', async () => {
    const rows = cleanRows(1000);
    for (const index of [10, 20, 30, 40, 50, 60, 70, 80]) rows[index] = `Acme,n/k ${index},01/04/2025`;
    const analysis = await analyse('many.csv', rows);
    const warning = analysis.warnings.find((candidate) => candidate.code === 'stray_values');
    assert.match(warning?.message ?? '', /but for 8 values: "n\/k 10" on line 12, .*"n\/k 50" on line 52 and 3 more of many\.csv/);
  });

  test('text columns get no warning', async () => {
    const rows = cleanRows(100);
    for (let index = 0; index < 10; index++) rows[index * 10] = `Acme,pending ${index},01/04/2025`;
    const analysis = await analyse('text.csv', rows);
    assert.deepEqual(analysis.warnings.filter((warning) => warning.code === 'stray_values'), [], 'ten of a hundred is more than a few');
  });

  test('identifier columns get no warning', async () => {
    const file = path.join(folder, 'vat.csv');
    const rows = Array.from({ length: 40 }, (_, index) => `Supplier ${index},${313825600 + index}`);
    rows[3] = 'Acme,GB 481 1093 07';
    fs.writeFileSync(file, ['Supplier,VAT reg no', ...rows].join('\n') + '\n');
    const analysis = await analyseFile({ path: file, filename: 'vat.csv' });
    assert.deepEqual(analysis.warnings.filter((warning) => warning.code === 'stray_values'), []);
  });

  test('too few values get no warning', async () => {
    const analysis = await analyse('short.csv', ['Acme,TBC,01/04/2025', 'Bolt,12,02/04/2025']);
    assert.deepEqual(analysis.warnings.filter((warning) => warning.code === 'stray_values'), []);
  });
});
