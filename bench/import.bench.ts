/**
 * Times a typed import through the import pipeline against a raw `COPY … (FORMAT csv, HEADER)` of the same file into an
 * all-text table, on the same engine in the same run, and reports the ratio and each run's peak resident memory.
 * PostgreSQL runs when DATABASE_URL or TEST_DATABASE_URL is set (the bench creates and drops its own database);
 * PGlite always runs, in a temporary data folder. Each measurement runs in its own process, so peak memory is its own.
 *
 *   npm run bench -- import [rows]     (default 1,000,000 rows)
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { ingestFunctions } from '../src/catalogue/import.ingest.ts';
import { buildQueuedFilterIndexes } from '../src/catalogue/filter-indexes.ts';
import { ImportService } from '../src/catalogue/import.service.ts';
import type { IngestFunctions } from '../src/catalogue/import.types.ts';
import { Database } from '../src/db/database.ts';
import { createLogger } from '../src/logger.ts';
import { generateSpendingCsv, SPENDING_HEADER } from './generate-spending.ts';

type EngineName = 'postgres' | 'pglite';
type Mode = 'raw' | 'typed';

interface Measurement {
  engine: EngineName;
  mode: Mode;
  seconds: number;
  rows: number;
  peakRssMb: number;
  /** Seconds in the analysis pass (typed only). */
  analyseSeconds?: number;
  /** Milliseconds per phase of the import, from its `import committed` log line (typed only). */
  phasesMs?: Record<string, number>;
  /** Seconds the queued filter index job took after the commit (typed only; not part of `seconds`). */
  indexSeconds?: number;
}

const run = promisify(execFile);
const THIS_FILE = fileURLToPath(import.meta.url);

/**
 * Yields the file in pieces that each end on a line break, as PGlite's COPY needs; the data has no quoted line breaks.
 * With `skipHeader` the first line is left out.
 */
async function* lineAlignedChunks(filePath: string, skipHeader: boolean): AsyncGenerator<Buffer> {
  let carry = Buffer.alloc(0);
  let headerPending = skipHeader;
  for await (const chunk of fs.createReadStream(filePath, { highWaterMark: 1024 * 1024 })) {
    let data = Buffer.concat([carry, chunk as Buffer]);
    if (headerPending) {
      const headerEnd = data.indexOf(10);
      if (headerEnd < 0) {
        carry = data;
        continue;
      }
      data = data.subarray(headerEnd + 1);
      headerPending = false;
    }
    const end = data.lastIndexOf(10) + 1;
    if (end > 0) yield data.subarray(0, end);
    carry = Buffer.from(data.subarray(end));
  }
  if (carry.length > 0) yield carry;
}

async function openEngine(engine: EngineName): Promise<{ db: Database; close(): Promise<void> }> {
  if (engine === 'pglite') {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'civic-bench-pglite-'));
    const db = await Database.open({ engine: 'pglite', dataDir: folder });
    await db.migrate();
    return { db, close: async () => { await db.close(); fs.rmSync(folder, { recursive: true, force: true }); } };
  }
  const adminUrl = process.env.DATABASE_URL || process.env.TEST_DATABASE_URL!;
  const name = `civic_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = await Database.open({ engine: 'postgres', url: url.toString(), poolSize: 2 });
  await db.migrate();
  return {
    db,
    async close() {
      await db.close();
      const cleaner = new pg.Client({ connectionString: adminUrl });
      await cleaner.connect();
      await cleaner.query(`drop database if exists ${name} with (force)`);
      await cleaner.end();
    },
  };
}

/**
 * Copies the file into an all-text table. PGlite splits COPY input into several statements of about 8 MB, and each
 * would skip a first line as its header, so there the header is dropped before COPY instead of by the HEADER option.
 */
async function measureRaw(db: Database, filePath: string): Promise<number> {
  const columns = SPENDING_HEADER.split(',').map((_, position) => `c${position + 1} text`).join(', ');
  const pglite = db.engine === 'pglite';
  return db.withConnection('owner', async (raw) => {
    await raw.query(`create table bench_raw (${columns})`);
    return raw.copyFrom(`copy bench_raw from stdin with (format csv${pglite ? '' : ', header'})`, lineAlignedChunks(filePath, pglite));
  });
}

async function measureTyped(
  db: Database,
  filePath: string,
): Promise<{ rows: number; analyseSeconds: number; phasesMs: Record<string, number>; committed: number; resourceId: string }> {
  let analyseSeconds = 0;
  const timed: IngestFunctions = {
    ...ingestFunctions,
    async analyseFile(source, options) {
      const started = performance.now();
      const analysis = await ingestFunctions.analyseFile(source, options);
      analyseSeconds = (performance.now() - started) / 1000;
      return analysis;
    },
  };
  let phasesMs: Record<string, number> = {};
  const logLines = { write: (line: string) => {
    const entry = JSON.parse(line) as { msg?: string; phases_ms?: Record<string, number> };
    if (entry.msg === 'import committed' && entry.phases_ms) phasesMs = entry.phases_ms;
  } };
  const imports = new ImportService(db, timed, createLogger('info', logLines));
  const report = await imports.importFile({ path: filePath, filename: 'spending.csv' }, { organisation: 'bench-council', dataset: 'bench-spending', actor: { kind: 'operator', name: 'bench' } });
  return { rows: report.rows, analyseSeconds, phasesMs, committed: performance.now(), resourceId: report.resource_id };
}

/** Takes one measurement in this process and prints it as JSON for the parent. */
async function measureCase(engine: EngineName, mode: Mode, filePath: string): Promise<void> {
  const { db, close } = await openEngine(engine);
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  try {
    const started = performance.now();
    let measurement: Measurement;
    if (mode === 'raw') {
      const rows = await measureRaw(db, filePath);
      measurement = { engine, mode, seconds: (performance.now() - started) / 1000, rows, peakRssMb: 0 };
    } else {
      const typed = await measureTyped(db, filePath);
      // The table serves from the commit; the job that a server's worker would run next builds its filter indexes.
      await buildQueuedFilterIndexes(db, typed.resourceId);
      const seconds = (typed.committed - started) / 1000;
      const indexSeconds = (performance.now() - typed.committed) / 1000;
      measurement = { engine, mode, seconds, rows: typed.rows, peakRssMb: 0, analyseSeconds: typed.analyseSeconds, phasesMs: typed.phasesMs, indexSeconds };
    }
    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.resourceUsage().maxRSS * 1024);
    measurement.peakRssMb = Math.round(peakRss / 1_048_576);
    process.stdout.write(`${JSON.stringify(measurement)}\n`);
  } finally {
    clearInterval(sampler);
    await close();
  }
}

function printPair(engine: EngineName, raw: Measurement, typed: Measurement, rows: number): void {
  if (raw.rows !== rows || typed.rows !== rows) throw new Error(`Row counts differ: raw ${raw.rows}, typed ${typed.rows}, file ${rows}.`);
  const ready = typed.seconds + typed.indexSeconds!;
  console.log(
    `${engine.padEnd(8)} raw COPY ${raw.seconds.toFixed(1)} s (peak RSS ${raw.peakRssMb} MB) | typed import to commit ${typed.seconds.toFixed(1)} s ` +
      `(analysis ${typed.analyseSeconds!.toFixed(1)} s, peak RSS ${typed.peakRssMb} MB) | ratio ${(typed.seconds / raw.seconds).toFixed(2)}`,
  );
  console.log(
    `${' '.repeat(9)}filter indexes after the commit ${typed.indexSeconds!.toFixed(1)} s | indexes ready at ${ready.toFixed(1)} s | ratio ${(ready / raw.seconds).toFixed(2)}`,
  );
  // The phases run in order, except stage_original, which runs during analyse (on another connection on PostgreSQL).
  const phases = Object.entries(typed.phasesMs ?? {}).map(([phase, ms]) => `${phase} ${(ms / 1000).toFixed(1)}`);
  console.log(`${' '.repeat(9)}typed phases (s): ${phases.join(', ')}`);
}

async function main(): Promise<void> {
  const caseIndex = process.argv.indexOf('--case');
  if (caseIndex >= 0) {
    const [engine, mode] = process.argv[caseIndex + 1]!.split(':') as [EngineName, Mode];
    await measureCase(engine, mode, process.argv[caseIndex + 2]!);
    return;
  }

  const rows = Number(process.argv[2] ?? 1_000_000);
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'civic-import-bench-'));
  const filePath = path.join(folder, 'spending.csv');
  try {
    const bytes = await generateSpendingCsv(filePath, rows);
    console.log(`spending file: ${rows.toLocaleString('en-GB')} rows, ${(bytes / 1_048_576).toFixed(1)} MB`);
    const available: EngineName[] = process.env.DATABASE_URL || process.env.TEST_DATABASE_URL ? ['postgres', 'pglite'] : ['pglite'];
    // BENCH_ENGINES=pglite (or postgres) runs one engine only.
    const engines = available.filter((engine) => !process.env.BENCH_ENGINES || process.env.BENCH_ENGINES.split(',').includes(engine));
    // BENCH_RUNS=N repeats the pair of measurements, raw then typed, to show how much they move between runs.
    const runs = Math.max(1, Number(process.env.BENCH_RUNS ?? 1));
    for (const engine of engines) {
      for (let round = 1; round <= runs; round++) {
        const results: Partial<Record<Mode, Measurement>> = {};
        for (const mode of ['raw', 'typed'] as const) {
          const { stdout } = await run(process.execPath, ['--import', 'tsx', THIS_FILE, '--case', `${engine}:${mode}`, filePath], { maxBuffer: 1024 * 1024 });
          results[mode] = JSON.parse(stdout.trim().split('\n').pop()!) as Measurement;
        }
        printPair(engine, results.raw!, results.typed!, rows);
      }
    }
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
}

await main();
