/**
 * `civic import` as a user runs it: the real command in a child process, on an embedded database in a temporary data
 * folder. Each check of stored rows opens that folder after the command has exited.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { generateSpendingCsv } from '../bench/generate-spending.ts';
import { sql } from 'kysely';
import { FILTER_INDEX_JOB } from '../src/catalogue/filter-indexes.ts';
import { Database } from '../src/db/database.ts';
import { CatalogueService } from '../src/catalogue/catalogue.service.ts';
import { PLATFORM_SCOPE } from '../src/catalogue/catalogue.types.ts';
import { catalogueCounts, csvWithSurplusCell, datastoreTables, readStoredRow, SPENDING_CASES, spendingFixture, temporaryFolder } from './helpers/import-fixtures.ts';

const execFileAsync = promisify(execFile);
const CLI = path.resolve(import.meta.dirname, '../bin/civic.mjs');

interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

describe('civic import command', () => {
  const folder = temporaryFolder('civic-cli-');
  const dataDir = path.join(folder.path, 'data');
  const env: NodeJS.ProcessEnv = { ...process.env, CIVIC_DATA_DIR: dataDir, DATABASE_URL: '' };
  delete env.LOG_LEVEL;

  async function civic(args: string[], extraEnv: Record<string, string> = {}): Promise<CliResult> {
    try {
      const { stdout, stderr } = await execFileAsync(process.execPath, [CLI, ...args], { env: { ...env, ...extraEnv }, maxBuffer: 16 * 1024 * 1024 });
      return { status: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { status: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  }

  /** Runs a command line through the shell, for arguments that Node.js cannot pass as raw bytes itself. */
  async function civicInShell(script: string, extraEnv: Record<string, string>): Promise<CliResult> {
    try {
      const { stdout, stderr } = await execFileAsync('/bin/sh', ['-c', `exec "${process.execPath}" ${script}`], { env: { ...env, ...extraEnv } });
      return { status: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { status: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  }

  /** Opens the data folder after the command has exited, for checks on what it stored. */
  async function withDatabase<T>(work: (db: Database) => Promise<T>): Promise<T> {
    const db = await Database.open({ engine: 'pglite', dataDir });
    try {
      await db.migrate();
      return await work(db);
    } finally {
      await db.close();
    }
  }

  before(() => fs.mkdirSync(dataDir, { recursive: true }));
  after(() => folder.remove());

  test('--json reports every real spending file', async () => {
    for (const expected of SPENDING_CASES) {
      const dataset = expected.file.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/-csv$/, '');
      const result = await civic(['import', spendingFixture(expected.file), '--organisation', 'devon-county-council', '--dataset', dataset, '--json']);
      assert.equal(result.status, 0, result.stderr);
      const lines = result.stdout.trim().split('\n');
      assert.equal(lines.length, 1, 'one JSON document on standard output');
      const report = JSON.parse(lines[0]!);
      assert.equal(report.rows, expected.rows, expected.file);
      assert.equal(report.header_row, expected.headerRow);
      assert.deepEqual(report.warnings.map((warning: { code: string }) => warning.code), expected.warnings);
      for (const [column, type] of Object.entries(expected.types)) {
        assert.equal(report.schema.fields.find((field: { name: string }) => field.name === column)?.type, type, `${expected.file} ${column}`);
      }
      assert.doesNotMatch(result.stderr, /Analysing|Loading/, 'no progress bar without a terminal');
    }

    await withDatabase(async (db) => {
      const catalogue = new CatalogueService(db);
      for (const expected of SPENDING_CASES) {
        const dataset = expected.file.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/-csv$/, '');
        const resource = await catalogue.currentResource(PLATFORM_SCOPE, dataset);
        assert.equal(resource?.rowCount, expected.rows);
        for (const [id, values] of Object.entries(expected.values)) {
          const row = await readStoredRow(db, resource!.tableName, Number(id));
          for (const [column, value] of Object.entries(values)) assert.deepEqual(row?.[column], value, `${expected.file} row ${id} ${column}`);
        }
        // The command builds the filter indexes itself before it exits, so no job is left for a server.
        const indexes = await sql<{ count: string }>`select count(*) from pg_indexes where schemaname = 'datastore' and tablename = ${resource!.tableName}`.execute(db.owner);
        assert.ok(Number(indexes.rows[0]!.count) > 1, `${expected.file} has filter indexes besides the primary key`);
      }
      const pending = await db.owner.selectFrom('jobs').select('unique_key').where('kind', '=', FILTER_INDEX_JOB).where('status', '=', 'pending').execute();
      assert.deepEqual(pending, []);
    });
  });

  test('human report without --json', async () => {
    const result = await civic(['import', spendingFixture('mth-10-january-2014.csv'), '--organisation', 'royal-wolverhampton', '--dataset', 'nhs-spend', '--visibility', 'open']);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^Loaded 89 rows from mth-10-january-2014\.csv into royal-wolverhampton\/nhs-spend, version 1 \(open\)\./);
    assert.match(result.stdout, /transaction_number\s+string/);
  });

  test('human report of a one-row sheet', async () => {
    const workbook = path.resolve(import.meta.dirname, 'fixtures/ingest/two-sheets.xlsx');
    const result = await civic(['import', workbook, '--organisation', 'thurrock-council', '--dataset', 'ward-population', '--sheet', 'Wards']);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^Loaded 1 row from two-sheets\.xlsx into thurrock-council\/ward-population, version 1 \(private\)\./);
    assert.match(result.stdout, /: 2 columns, /);
  });

  test('metadata options set the details', async () => {
    const args = ['import', spendingFixture('mth-10-january-2014.csv'), '--organisation', 'royal-wolverhampton', '--dataset', 'nhs-described', '--json'];
    const first = await civic([...args, '--description', 'Spend over £25,000.', '--licence', 'CC-BY-4.0', '--tags', 'nhs, spend', '--update-frequency', 'monthly',
      '--temporal-start', '2014-01-01', '--temporal-end', '2014-01-31', '--spatial', 'Wolverhampton']);
    assert.equal(first.status, 0, first.stderr);
    const second = await civic([...args, '--update-frequency', 'quarterly']);
    assert.equal(second.status, 0, second.stderr);
    await withDatabase(async (db) => {
      const dataset = await new CatalogueService(db).findDataset(PLATFORM_SCOPE, 'nhs-described');
      assert.equal(dataset?.title, 'Expenditure over £25,000- Payment made in January 2014', 'the title row above the header');
      assert.equal(dataset?.description, 'Spend over £25,000.');
      assert.equal(dataset?.licenceId, 'CC-BY-4.0');
      assert.deepEqual(dataset?.tags, ['nhs', 'spend']);
      assert.equal(dataset?.updateFrequency, 'quarterly', 'a later import changes the frequency');
      assert.equal(dataset?.temporalStart, '2014-01-01');
      assert.equal(dataset?.temporalEnd, '2014-01-31');
      assert.equal(dataset?.spatial, 'Wolverhampton');
    });
  });

  test('open dataset made private says so', async () => {
    const args = ['--organisation', 'thurrock-council', '--dataset', 'payments-reopened'];
    const open = await civic(['import', spendingFixture('mth-10-january-2014.csv'), ...args, '--visibility', 'open']);
    assert.equal(open.status, 0, open.stderr);
    const personal = await civic(['import', path.resolve(import.meta.dirname, 'fixtures/privacy/personal-data.csv'), ...args]);
    assert.equal(personal.status, 0, personal.stderr);
    assert.match(personal.stdout, /version 2 \(private\)/);
    assert.match(personal.stdout, /Warning: Version 2 has different columns from version 1/);
    const lines = personal.stdout.trim().split('\n');
    assert.match(lines[lines.length - 1]!, /^Warning: Dataset "payments-reopened" was open, but the publication gate kept version 2 private, so the whole dataset, earlier versions included, is no longer public\. Fix the personal data .* with "civic publish payments-reopened"/);
  });

  test('usage errors exit with status 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['import', '--organisation', 'a-org', '--dataset', 'a-set'], /Give the FILE to import/],
      [['import', 'x.csv', '--organisation', 'a-org'], /--dataset SLUG is required/],
      [['import', 'x.csv', '--organisation', 'a-org', '--dataset', 'a-set', '--visibility', 'public'], /--visibility is "public". Use private or open/],
      [['import', 'x.csv', '--organisation', 'a-org', '--dataset', 'a-set', '--server', 'http://127.0.0.1:9'], /--server needs --token/],
      [['import', 'x.csv', '--organisation', 'a-org', '--dataset', 'a-set', '--colour'], /Unknown option '--colour'\. See the options below\./],
      [['import', 'x.csv', '--organization', 'a-org', '--dataset', 'a-set'], /Unknown option '--organization'\. Did you mean --organisation\?/],
      [['import', 'x.csv', '--organisation', 'a-org', '--dataset', 'a-set', '--licence', 'GPL'], /--licence: Licence "GPL" is not known\. Use one of: OGL-UK-3\.0/],
      [['import', 'x.csv', '--organisation', 'a-org', '--dataset', 'a-set', '--update-frequency', 'fortnightly'], /--update-frequency: Update frequency "fortnightly" is not known/],
      [['import', 'x.csv', '--organisation', 'a-org', '--dataset', 'a-set', '--temporal-start', '2026-02-01', '--temporal-end', '2026-01-01'], /--temporal-end: The end of the period must be/],
      [['import', 'x.csv', '--organisation', 'a-org', '--dataset', 'a-set', '--tags', 'ok,#bad'], /--tags: Tag "#bad" is invalid/],
      [['import', 'x.csv', '--organisation', 'A Org', '--dataset', 'a-set'], /--organisation: Organisation "A Org" is not a valid slug\. Use 2 to 100 lowercase letters/],
      [['import', 'x.csv', '--organisation', 'a-org', '--dataset', 'A Set'], /--dataset: Dataset "A Set" is not a valid slug\. Use 2 to 100 lowercase letters/],
    ];
    for (const [args, message] of cases) {
      const result = await civic(args, { CIVIC_TOKEN: '' });
      assert.equal(result.status, 2, args.join(' '));
      assert.match(result.stderr, message);
      assert.match(result.stderr, /Usage: civic import FILE/);
    }
  });

  test('missing file and bad schema exit 1', async () => {
    const missing = await civic(['import', path.join(folder.path, 'nowhere.csv'), '--organisation', 'a-org', '--dataset', 'a-set']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /^civic import: File .*nowhere\.csv was not found\. Check the path\.\n$/);

    // A Latin-1 name ("£" is byte A3), passed by a shell as the raw bytes a user's terminal would send.
    fs.writeFileSync(Buffer.concat([Buffer.from(`${folder.path}/spend`), Buffer.from([0xa3]), Buffer.from('500.csv')]), 'Supplier,Amount\nAcme Ltd,600\n');
    const latin1 = await civicInShell(`"$CIVIC_CLI" import "$(printf '%s/spend\\243500.csv' "$FOLDER")" --organisation a-org --dataset a-set`, { CIVIC_CLI: CLI, FOLDER: folder.path });
    assert.equal(latin1.status, 1);
    assert.match(latin1.stderr, /^civic import: File .*spend\uFFFD500\.csv cannot be opened because its name is not valid UTF-8/);
    assert.match(latin1.stderr, /Rename the file to a name in UTF-8 and try again\.\n$/);

    const badJson = path.join(folder.path, 'bad.json');
    // A trailing comma inside an object, as in real CSVW metadata files that councils publish.
    fs.writeFileSync(badJson, '{\n  "fields": [\n    {"name": "code", "type": "string",}\n  ]\n}\n');
    const invalidJson = await civic(['import', spendingFixture('mth-10-january-2014.csv'), '--organisation', 'a-org', '--dataset', 'a-set', '--schema', badJson]);
    assert.equal(invalidJson.status, 1);
    assert.match(invalidJson.stderr, /Schema file .*bad\.json is not a valid Table Schema: the JSON is invalid at line 3/);
    assert.equal(invalidJson.stderr.trim().split('\n').length, 1);

    const notSchema = path.join(folder.path, 'not-schema.json');
    fs.writeFileSync(notSchema, JSON.stringify({ columns: ['code'] }));
    const invalidShape = await civic(['import', spendingFixture('mth-10-january-2014.csv'), '--organisation', 'a-org', '--dataset', 'a-set', '--schema', notSchema]);
    assert.equal(invalidShape.status, 1);
    assert.match(invalidShape.stderr, /not-schema\.json is not a valid Table Schema: "fields" must be a list of at least one field/);
  });

  test('surplus cell fails and stores nothing', async () => {
    const before = await withDatabase(async (db) => ({ counts: await catalogueCounts(db), tables: await datastoreTables(db) }));
    const file = csvWithSurplusCell(folder.path, 7);
    const result = await civic(['import', file, '--organisation', 'failing-org', '--dataset', 'failing-set', '--json']);
    assert.equal(result.status, 1);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.match(result.stderr, /^civic import: .*surplus-line-7\.csv/);
    assert.match(result.stderr, /line 7/);
    await withDatabase(async (db) => {
      assert.deepEqual(await catalogueCounts(db), before.counts);
      assert.deepEqual(await datastoreTables(db), before.tables);
      assert.equal(await new CatalogueService(db).findOrganisation(PLATFORM_SCOPE, 'failing-org'), undefined);
    });
  });

  test('progress bar only on a terminal', async (context) => {
    if (!fs.existsSync('/usr/bin/script')) {
      context.skip('script(1) is not installed, so no pseudo-terminal is available');
      return;
    }
    // script(1) runs the command on a pseudo-terminal, so standard error is a TTY as it is for a person.
    const command = [process.execPath, CLI, 'import', spendingFixture('DCCSpendingOver500_202508.csv'), '--organisation', 'devon-county-council', '--dataset', 'tty-run'];
    const quoted = command.map((part) => `'${part.replaceAll("'", "'\\''")}'`).join(' ');
    const { stdout } = await execFileAsync('script', ['-qec', quoted, '/dev/null'], { env, maxBuffer: 16 * 1024 * 1024 });
    assert.match(stdout, /(Analysing|Loading) +\[[^\]]*\] +\d+%/);
    assert.match(stdout, /Loaded 1770 rows/);
  });

  test('locked folder points to --server', async () => {
    const holder = await Database.open({ engine: 'pglite', dataDir });
    try {
      const result = await civic(['import', spendingFixture('mth-10-january-2014.csv'), '--organisation', 'a-org', '--dataset', 'a-set']);
      assert.equal(result.status, 1);
      assert.match(result.stderr, /is in use by another process/);
      assert.match(result.stderr, /--server URL --token TOKEN/);
    } finally {
      await holder.close();
    }
  });

  test('killed mid-COPY leaves nothing', async () => {
    const bigFile = path.join(folder.path, 'big-spending.csv');
    await generateSpendingCsv(bigFile, 300_000);
    const before = await withDatabase(async (db) => ({ counts: await catalogueCounts(db), tables: await datastoreTables(db) }));

    const child = spawn(process.execPath, [CLI, 'import', bigFile, '--organisation', 'killed-org', '--dataset', 'killed-set'], {
      env: { ...env, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    const copying = new Promise<boolean>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('"msg":"import copy started"')) resolve(true);
      });
      child.on('exit', () => resolve(false));
    });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    assert.equal(await copying, true, `the import reached COPY before exiting: ${stderr.slice(-500)}`);
    child.kill('SIGKILL');
    await exited;
    assert.doesNotMatch(stderr, /import committed/);

    await withDatabase(async (db) => {
      assert.deepEqual(await catalogueCounts(db), before.counts);
      assert.deepEqual(await datastoreTables(db), before.tables);
      assert.equal(await new CatalogueService(db).findOrganisation(PLATFORM_SCOPE, 'killed-org'), undefined);
    });
  });
});
