import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { analyseFile } from './analyse.ts';
import type { EarlyLoadTarget } from './early-load.ts';
import { IngestError, type FileAnalysis } from './ingest.types.ts';
import { spendingFile } from './lane.test-support.ts';
import { laneStats, nativeLane } from './native-lane.ts';
import type { TableSchema } from './table-schema.ts';

/** An early load target that takes binary COPY, as the import on PostgreSQL does, and keeps what it receives. */
class BinaryTarget implements EarlyLoadTarget {
  schema: TableSchema | null = null;
  chunks: Buffer[] = [];
  complete: boolean | null = null;

  readonly binaryAllowed = true;

  constructor(readonly afterRows: number) {}

  begin(schema: TableSchema): 'binary' {
    this.schema = schema;
    return 'binary';
  }

  async write(chunk: string | Buffer): Promise<void> {
    this.chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  }

  end(complete: boolean): void {
    this.complete = complete;
  }
}

interface Outcome {
  analysis?: FileAnalysis;
  error?: string;
  schema: TableSchema | null;
  complete: boolean | null;
  bytes: Buffer;
  laneRows: number;
}

async function analyse(file: string, lane: boolean, afterRows = 100): Promise<Outcome> {
  const target = new BinaryTarget(afterRows);
  const before = laneStats.rows;
  const source = { path: file, filename: path.basename(file) };
  try {
    const { lane_rows: reported = 0, ...analysis } = await analyseFile(source, { earlyLoad: target, nativeLane: lane });
    assert.equal(reported, laneStats.rows - before, 'the analysis reports the rows the lane wrote');
    return { analysis, schema: target.schema, complete: target.complete, bytes: Buffer.concat(target.chunks), laneRows: reported };
  } catch (error) {
    if (!(error instanceof IngestError)) throw error;
    return { error: error.message, schema: target.schema, complete: target.complete, bytes: Buffer.concat(target.chunks), laneRows: laneStats.rows - before };
  }
}

/** Analyses the file with and without the lane and checks that both give the same analysis and the same COPY bytes. */
async function compare(file: string, afterRows?: number): Promise<Outcome> {
  const withLane = await analyse(file, true, afterRows);
  const without = await analyse(file, false, afterRows);
  assert.equal(without.laneRows, 0);
  assert.deepEqual(withLane.analysis, without.analysis);
  assert.equal(withLane.error, without.error);
  assert.deepEqual(withLane.schema, without.schema);
  assert.equal(withLane.complete, without.complete);
  if (withLane.complete) assert.ok(withLane.bytes.equals(without.bytes), 'the lane wrote other COPY bytes');
  return withLane;
}

describe('native lane of the analysis', { skip: nativeLane() === null && !process.env.CI && 'the native lane is not built (no C++ compiler)' }, () => {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'civic-lane-'));
  after(() => fs.rmSync(folder, { recursive: true, force: true }));

  it('is built', () => {
    assert.notEqual(nativeLane(), null, 'npm ci builds native/csv_lane.cc with node-gyp');
  });

  it('matches on a clean file', async () => {
    const outcome = await compare(spendingFile(folder, 'clean.csv', { rows: 20_000 }));
    assert.equal(outcome.complete, true);
    assert.ok(outcome.laneRows > 15_000, `the lane wrote ${outcome.laneRows} rows`);
    assert.equal(outcome.analysis!.rows, 20_000);
    const types = Object.fromEntries(outcome.analysis!.schema.fields.map((field) => [field.name, field.type]));
    assert.deepEqual(types, { supplier: 'string', amount: 'number', count: 'integer', cost_centre: 'string', paid: 'date', period: 'date', notes: 'string' });
  });

  it('reads a small file as the TypeScript path does', async () => {
    // About 100 KB: more characters than the delimiter sniffing reads, and less than its first piece of the file.
    const outcome = await compare(spendingFile(folder, 'small.csv', { rows: 1500, bom: true }), 50);
    assert.equal(outcome.laneRows, 0);
    assert.equal(outcome.analysis!.rows, 1500);
    assert.equal(outcome.analysis!.delimiter, ',');
  });

  it('matches with CRLF, a byte-order mark and blank rows', async () => {
    const file = spendingFile(folder, 'crlf-bom.csv', { rows: 12_000, lineEnd: '\r\n', bom: true, change: (row) => (row % 700 === 0 ? null : undefined) });
    const outcome = await compare(file);
    assert.ok(outcome.laneRows > 0);
    assert.equal(outcome.analysis!.rows, 12_000 - 17);
  });

  it('matches with bare CR line ends', async () => {
    const outcome = await compare(spendingFile(folder, 'cr.csv', { rows: 12_000, lineEnd: '\r' }));
    assert.ok(outcome.laneRows > 0);
  });

  it('matches with values the lane leaves', async () => {
    const odd: Record<number, (cells: string[]) => string[]> = {
      5500: (cells) => [cells[0]!, '(300.00)', ...cells.slice(2)],
      6000: (cells) => [cells[0]!, '12.50 CR', ...cells.slice(2)],
      6500: (cells) => [cells[0]!, '\u00a0512.00\u00a0', ...cells.slice(2)],
      7000: (cells) => [cells[0]!, cells[1]!, ' +7 ', ...cells.slice(3)],
      7500: (cells) => [...cells.slice(0, 6), '\u00a0'],
      8000: (cells) => [cells[0]!, '1.5e3', ...cells.slice(2)],
      8500: (cells) => [...cells.slice(0, 4), ' 05/04/2025 ', ...cells.slice(5)],
      9000: (cells) => [...cells, ''],
      9500: (cells) => cells.slice(0, 5),
    };
    const file = spendingFile(folder, 'odd.csv', { rows: 12_000, change: (row, cells) => odd[row]?.(cells) });
    const outcome = await compare(file);
    assert.ok(outcome.laneRows > 0);
    assert.equal(outcome.complete, true);
  });

  it('matches when a late value changes a type', async () => {
    const file = spendingFile(folder, 'late-text.csv', { rows: 12_000, change: (row, cells) => (row === 10_000 ? [cells[0]!, 'see note', ...cells.slice(2)] : undefined) });
    const outcome = await compare(file);
    assert.equal(outcome.complete, false);
    assert.equal(outcome.analysis!.schema.fields[1]!.type, 'string');
  });

  it('reads a long file whose columns never settle', async () => {
    // One text value early in the amounts keeps counting them as strays, so the lane never gets a plan, and the
    // reader's window moves on many times under the tokenizer's open records.
    const file = spendingFile(folder, 'unsettled.csv', { rows: 40_000, change: (row, cells) => (row === 5 ? [cells[0]!, 'see note', ...cells.slice(2)] : undefined) });
    const outcome = await compare(file);
    assert.equal(outcome.laneRows, 0);
    assert.equal(outcome.analysis!.rows, 40_000);
    assert.equal(outcome.analysis!.warnings.find((warning) => warning.code === 'stray_values')?.line, 6);
  });

  it('matches with a cell longer than a read', async () => {
    const long = `${'Long note, '.repeat(40_000)}end`;
    // In the count column the lane leaves the record to the tokenizer, which reads it over several steps.
    const file = spendingFile(folder, 'long-cell.csv', { rows: 30_000, change: (row, cells) => (row === 20_000 ? [cells[0]!, cells[1]!, long, ...cells.slice(3)] : undefined) });
    const outcome = await compare(file);
    assert.ok(outcome.laneRows > 0);
    assert.equal(outcome.analysis!.text_lengths?.[2], long.length);
  });

  it('matches with a cell longer than the lane reads', async () => {
    // A text cell of 3.6 MB: longer than the 2 MB the lane reads per call, so the reader's window grows around it.
    const long = `${'para "x", '.repeat(300_000)}${'ł'.repeat(50)}`;
    const file = spendingFile(folder, 'giant-cell.csv', { rows: 40_000, change: (row, cells) => (row === 20_000 ? [...cells.slice(0, 6), long] : undefined) });
    const outcome = await compare(file);
    assert.ok(outcome.laneRows > 20_000);
    assert.equal(outcome.analysis!.text_lengths?.[6], long.length);
  });

  it('rejects a NUL character on both paths', async () => {
    const file = spendingFile(folder, 'nul.csv', { rows: 20_000, change: (row, cells) => (row === 15_000 ? [`Nul\u0000Supplier`, ...cells.slice(1)] : undefined) });
    const line = fs.readFileSync(file, 'utf8').split('\n').findIndex((text) => text.includes('\u0000')) + 1;
    const outcome = await compare(file);
    assert.match(outcome.error ?? '', new RegExp(`^The value in column "Supplier" on line ${line} of nul\\.csv contains a NUL character \\(byte 0\\)`));
  });

  it('matches with a late missing-value marker', async () => {
    const file = spendingFile(folder, 'late-marker.csv', { rows: 12_000, change: (row, cells) => (row === 9000 ? [cells[0]!, 'n/a', ...cells.slice(2)] : undefined) });
    const outcome = await compare(file);
    assert.deepEqual(outcome.analysis!.schema.fields[1]!.missingValues, ['n/a']);
  });

  it('matches with totals and notes at the end', async () => {
    const file = spendingFile(folder, 'totals.csv', { rows: 12_000, tail: ['Total,"£1,234,567.89",,,,,', '', 'Source: finance system,,,,,,'] });
    const outcome = await compare(file);
    assert.equal(outcome.analysis!.rows, 12_000);
    assert.equal(outcome.analysis!.excluded_lines.length, 2);
  });

  it('names the line of a late surplus cell', async () => {
    const file = spendingFile(folder, 'surplus.csv', { rows: 12_000, change: (row, cells) => (row === 9000 ? [...cells, 'extra'] : undefined) });
    const outcome = await compare(file);
    // Quoted line breaks in the notes push the row below line 9001, so the lane must count them.
    const line = fs.readFileSync(file, 'utf8').split('\n').findIndex((text) => text.endsWith(',extra')) + 1;
    assert.ok(line > 9001);
    assert.match(outcome.error ?? '', new RegExp(`line ${line} of surplus\\.csv has a value in column 8`));
  });
});
