import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { testEngines } from '../../test/helpers/engines.ts';
import {
  catalogueCounts,
  countStoredRows,
  csvWithSurplusCell,
  datastoreTables,
  readStoredRow,
  SPENDING_CASES,
  spendingFixture,
  temporaryFolder,
} from '../../test/helpers/import-fixtures.ts';
import { AppError } from '../errors.ts';
import { IngestError } from '../ingest/ingest.types.ts';
import { spendingFile } from '../ingest/lane.test-support.ts';
import { laneStats, nativeLane } from '../ingest/native-lane.ts';
import { parseDecimal } from '../ingest/numbers.ts';
import { createLogger } from '../logger.ts';
import { CatalogueService } from './catalogue.service.ts';
import { organisationScope, PLATFORM_SCOPE, PUBLIC_SCOPE } from './catalogue.types.ts';
import { buildFilterIndexes, filterIndexRequest, FILTER_INDEX_JOB } from './filter-indexes.ts';
import { ingestFunctions } from './import.ingest.ts';
import { ImportService } from './import.service.ts';
import type { ImportOptions, IngestFunctions } from './import.types.ts';

const OPERATOR = { kind: 'operator', name: 'test' } as const;

function source(file: string) {
  return { path: file, filename: path.basename(file) };
}

function options(dataset: string, extra: Partial<ImportOptions> = {}): ImportOptions {
  return { organisation: 'devon-county-council', dataset, actor: OPERATOR, ...extra };
}

for (const engine of testEngines()) {
  describe(`import service on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let imports: ImportService;
    let catalogue: CatalogueService;
    const folder = temporaryFolder('civic-import-');

    before(async () => {
      handle = await engine.create();
      imports = new ImportService(handle.db, ingestFunctions, createLogger('silent'));
      catalogue = new CatalogueService(handle.db);
    });
    after(async () => {
      await handle.drop();
      folder.remove();
    });

    for (const expected of SPENDING_CASES) {
      test(`loads ${expected.file}`, async () => {
        const dataset = expected.file.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/-csv$/, '');
        const report = await imports.importFile(source(spendingFixture(expected.file)), options(dataset));
        assert.equal(report.rows, expected.rows);
        assert.equal(report.version, 1);
        assert.equal(report.header_row, expected.headerRow);
        assert.match(report.encoding, expected.encoding);
        assert.equal(report.delimiter, ',');
        assert.equal(report.title_metadata, expected.titleMetadata);
        assert.deepEqual(report.warnings.map((warning) => warning.code), expected.warnings);
        for (const [column, type] of Object.entries(expected.types)) {
          assert.equal(report.schema.fields.find((field) => field.name === column)?.type, type, `type of ${column}`);
        }

        const resource = await catalogue.getResource(PLATFORM_SCOPE, report.resource_id);
        assert.equal(resource.rowCount, expected.rows);
        assert.equal(await countStoredRows(handle.db, resource.tableName), expected.rows);
        for (const [id, values] of Object.entries(expected.values)) {
          const row = await readStoredRow(handle.db, resource.tableName, Number(id));
          assert.ok(row, `row ${id} exists`);
          for (const [column, value] of Object.entries(values)) assert.deepEqual(row[column], value, `row ${id} column ${column}`);
        }
      });
    }

    test('typed columns in the stored table', async () => {
      const resource = await catalogue.currentResource(PLATFORM_SCOPE, 'mth-10-january-2014');
      const { rows } = await sql<{ column_name: string; data_type: string }>`
        select column_name, data_type from information_schema.columns
        where table_schema = 'datastore' and table_name = ${resource!.tableName} order by ordinal_position`.execute(handle.db.owner);
      const types = Object.fromEntries(rows.map((row) => [row.column_name, row.data_type]));
      assert.equal(types._id, 'bigint');
      assert.equal(types.date, 'date');
      assert.equal(types.amount_in_sterling, 'numeric');
      assert.equal(types.transaction_number, 'text');
    });

    test('filter indexes built after commit', async () => {
      const resource = await catalogue.currentResource(PLATFORM_SCOPE, 'dccspendingover500-202603');
      const indexedColumns = async () => {
        const { rows } = await sql<{ indexdef: string }>`select indexdef from pg_indexes where schemaname = 'datastore' and tablename = ${resource!.tableName}`.execute(handle.db.owner);
        return rows.map((row) => /\((\w+)\)$/.exec(row.indexdef)?.[1]);
      };
      assert.deepEqual(await indexedColumns(), ['_id'], 'only the primary key exists at commit');
      const job = await handle.db.owner.selectFrom('jobs').select(['status', 'payload']).where('unique_key', '=', `${FILTER_INDEX_JOB}:${resource!.id}`).executeTakeFirstOrThrow();
      assert.equal(job.status, 'pending');
      assert.ok(await buildFilterIndexes(handle.db, filterIndexRequest(job.payload as Record<string, unknown>)));
      const done = await handle.db.owner.selectFrom('jobs').select('status').where('unique_key', '=', `${FILTER_INDEX_JOB}:${resource!.id}`).executeTakeFirstOrThrow();
      assert.equal(done.status, 'completed');
      const indexed = await indexedColumns();
      assert.ok(await buildFilterIndexes(handle.db, filterIndexRequest(job.payload as Record<string, unknown>)), 'a second build is harmless');
      assert.deepEqual(await indexedColumns(), indexed);
      assert.deepEqual(await indexedColumns(), indexed);
      assert.ok(indexed.includes('_id'));
      assert.ok(indexed.includes('date'));
      assert.ok(indexed.includes('expense_code'));
      assert.ok(indexed.includes('body'));
      assert.ok(!indexed.includes('amount'), 'amounts are not indexed');
      assert.ok(!indexed.includes('expense_area'), 'long text is not indexed');
    });

    test('index job skips removed versions', async () => {
      const report = await imports.importFile(source(spendingFixture('ESCC-payment-data-Q2281011.csv')), options('index-job-removed'));
      const key = `${FILTER_INDEX_JOB}:${report.resource_id}`;
      const job = await handle.db.owner.selectFrom('jobs').select('payload').where('unique_key', '=', key).executeTakeFirstOrThrow();
      const request = filterIndexRequest(job.payload as Record<string, unknown>);
      await sql.raw(`drop table datastore.${request.tableName}`).execute(handle.db.owner);
      assert.equal(await buildFilterIndexes(handle.db, request), false);
      assert.throws(() => filterIndexRequest({ ...job.payload as Record<string, unknown>, table: 'resources; drop table jobs' }), /is not a datastore table name/);
    });

    test('concurrent index builds both succeed', async () => {
      const report = await imports.importFile(source(spendingFixture('DCCSpendingOver500_202603.csv')), options('index-job-concurrent'));
      const job = await handle.db.owner.selectFrom('jobs').select('payload').where('unique_key', '=', `${FILTER_INDEX_JOB}:${report.resource_id}`).executeTakeFirstOrThrow();
      const request = filterIndexRequest(job.payload as Record<string, unknown>);
      const results = await Promise.all([buildFilterIndexes(handle.db, request), buildFilterIndexes(handle.db, request), buildFilterIndexes(handle.db, request)]);
      assert.deepEqual(results, [true, true, true]);
      const { rows } = await sql<{ count: string }>`select count(*) from pg_indexes where schemaname = 'datastore' and tablename = ${request.tableName}`.execute(handle.db.owner);
      assert.equal(Number(rows[0]!.count), request.columns.length + 1);
    });

    test('failed import queues no index job', async () => {
      const jobsBefore = await handle.db.owner.selectFrom('jobs').select(sql<string>`count(*)`.as('n')).where('kind', '=', FILTER_INDEX_JOB).executeTakeFirstOrThrow();
      // A check fails after the rows, the primary key and the queued job are in, so the rollback must take the job too.
      const failing = new ImportService(handle.db, ingestFunctions, createLogger('silent'), [{ name: 'refuses', run: async () => { throw new Error('refused after loading'); } }]);
      await assert.rejects(failing.importFile(source(spendingFixture('ESCC-payment-data-Q2281011.csv')), options('index-job-failed')), /refused after loading/);
      const jobsAfter = await handle.db.owner.selectFrom('jobs').select(sql<string>`count(*)`.as('n')).where('kind', '=', FILTER_INDEX_JOB).executeTakeFirstOrThrow();
      assert.equal(Number(jobsAfter.n), Number(jobsBefore.n));
    });

    test('stores rows the native lane wrote', async () => {
      // The early load, which the lane writes for, starts after 10,000 rows.
      let row20000: string[] = [];
      const file = spendingFile(folder.path, 'lane-spending.csv', { rows: 30_000, change: (row, cells) => (row === 20_000 ? (row20000 = cells) : undefined) });
      const before = laneStats.rows;
      const report = await imports.importFile(source(file), options('lane-spending'));
      assert.equal(report.rows, 30_000);
      // The lane writes binary COPY, which only PostgreSQL takes.
      if (engine.name === 'postgres' && nativeLane() !== null) assert.ok(laneStats.rows - before > 15_000, 'the lane wrote the middle of the file');
      const { rows } = await sql<Record<string, string>>`
        select supplier, amount::text as amount, count::text as count, cost_centre, paid::text as paid, period::text as period, notes
        from ${sql.table(`datastore.${(await catalogue.currentResource(PLATFORM_SCOPE, 'lane-spending'))!.tableName}`)} where _id = 20000`.execute(handle.db.owner);
      const [day, month, year] = row20000[4]!.split('/');
      const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
      const [periodDay, periodMonth] = row20000[5]!.split('-');
      assert.deepEqual(rows[0], {
        supplier: row20000[0],
        amount: parseDecimal(row20000[1]!, '.'),
        count: row20000[2],
        cost_centre: row20000[3],
        paid: `${year}-${month}-${day}`,
        period: `2025-${String(months.indexOf(periodMonth!) + 1).padStart(2, '0')}-${periodDay}`,
        notes: row20000[6] === '' ? null : row20000[6],
      });
    });

    test('concurrent imports create one organisation', async () => {
      const file = path.join(folder.path, 'two-at-once.csv');
      fs.writeFileSync(file, 'code,amount\n001,1.50\n002,2.50\n');
      const organisation = { organisation: 'created-twice-at-once' };
      const [first, second] = await Promise.all([
        imports.importFile(source(file), { ...options('first-at-once'), ...organisation }),
        imports.importFile(source(file), { ...options('second-at-once'), ...organisation }),
      ]);
      assert.equal(first.organisation, 'created-twice-at-once');
      assert.equal(second.organisation, 'created-twice-at-once');
      const { rows } = await sql<{ count: number }>`select count(*)::int as count from organisations where slug = 'created-twice-at-once'`.execute(handle.db.owner);
      assert.equal(rows[0]!.count, 1);
    });

    test('original file stored byte for byte', async () => {
      const resource = await catalogue.currentResource(PLATFORM_SCOPE, 'escc-payment-data-q2281011');
      const original = await catalogue.getResourceFile(PLATFORM_SCOPE, resource!.id);
      const bytes = fs.readFileSync(spendingFixture('ESCC-payment-data-Q2281011.csv'));
      assert.equal(original.content.length, bytes.length);
      assert.ok(original.content.equals(bytes));
      assert.equal(original.sha256, createHash('sha256').update(bytes).digest('hex'));
      assert.equal(original.filename, 'ESCC-payment-data-Q2281011.csv');
      assert.equal(original.mediaType, 'text/csv');
    });

    test('surplus cell leaves nothing behind', async () => {
      const before = await catalogueCounts(handle.db);
      const tablesBefore = await datastoreTables(handle.db);
      const file = csvWithSurplusCell(folder.path, 6);
      await assert.rejects(imports.importFile(source(file), { ...options('surplus-first'), organisation: 'new-org-for-failure' }), (error: unknown) => {
        assert.ok(error instanceof IngestError, String(error));
        assert.equal(error.location.line, 6);
        assert.match(error.message, /surplus-line-6\.csv/);
        return true;
      });
      assert.deepEqual(await catalogueCounts(handle.db), before);
      assert.deepEqual(await datastoreTables(handle.db), tablesBefore);
      assert.equal(await catalogue.findOrganisation(PLATFORM_SCOPE, 'new-org-for-failure'), undefined);
    });

    test('failed second version keeps the first', async () => {
      const good = path.join(folder.path, 'good.csv');
      fs.writeFileSync(good, 'code,amount\n001,1.50\n002,2.50\n003,3.50\n');
      const first = await imports.importFile(source(good), options('versioned'));
      await assert.rejects(imports.importFile(source(csvWithSurplusCell(folder.path, 4)), options('versioned')), IngestError);

      const detail = await catalogue.showDataset(PLATFORM_SCOPE, 'versioned');
      assert.deepEqual(detail.versions.map((version) => version.version), [1]);
      assert.equal(detail.currentResource?.id, first.resource_id);
      assert.equal(await countStoredRows(handle.db, detail.currentResource!.tableName), 3);
      assert.deepEqual(await readStoredRow(handle.db, detail.currentResource!.tableName, 1), { _id: 1, code: '001', amount: 1.5 });
    });

    test('failure during COPY rolls back', async () => {
      const failingIngest: IngestFunctions = {
        ...ingestFunctions,
        async *copyRows(src, analysis, ingestOptions) {
          let chunks = 0;
          for await (const chunk of ingestFunctions.copyRows(src, analysis, ingestOptions)) {
            yield chunk;
            if (++chunks === 2) throw new Error('disk read failed part-way');
          }
        },
      };
      const failing = new ImportService(handle.db, failingIngest, createLogger('silent'));
      const before = await catalogueCounts(handle.db);
      const tablesBefore = await datastoreTables(handle.db);
      await assert.rejects(failing.importFile(source(spendingFixture('DCCSpendingOver500_201210.csv')), options('versioned')), /disk read failed/);
      assert.deepEqual(await catalogueCounts(handle.db), before);
      assert.deepEqual(await datastoreTables(handle.db), tablesBefore);
      const current = await catalogue.currentResource(PLATFORM_SCOPE, 'versioned');
      assert.equal(current?.version, 1);
    });

    test('new version becomes current', async () => {
      const second = path.join(folder.path, 'second.csv');
      fs.writeFileSync(second, 'code,amount\n001,1.50\n002,2.50\n003,3.50\n004,4.50\n');
      const report = await imports.importFile(source(second), options('versioned', { title: 'Versioned payments' }));
      assert.equal(report.version, 2);
      const detail = await catalogue.showDataset(PLATFORM_SCOPE, 'versioned');
      assert.deepEqual(detail.versions.map((version) => version.version), [2, 1]);
      assert.equal(detail.currentResource?.id, report.resource_id);
      assert.equal(detail.currentResource?.rowCount, 4);
      assert.equal(detail.title, 'Versioned payments');
      assert.equal(await countStoredRows(handle.db, detail.versions[1]!.tableName), 3, 'version 1 keeps its rows');
    });

    test('private dataset hidden from others', async () => {
      const report = await imports.importFile(source(spendingFixture('DCCSpendingOver500_202504.csv')), options('private-spending'));
      assert.equal(report.visibility, 'private');
      const owner = await catalogue.findOrganisation(PLATFORM_SCOPE, 'devon-county-council');
      const publicSlugs = (await catalogue.listDatasets(PUBLIC_SCOPE, { limit: 100 })).datasets.map((dataset) => dataset.slug);
      const ownSlugs = (await catalogue.listDatasets(organisationScope(owner!.id), { limit: 100 })).datasets.map((dataset) => dataset.slug);
      assert.ok(!publicSlugs.includes('private-spending'));
      assert.ok(ownSlugs.includes('private-spending'));
      await assert.rejects(catalogue.getResource(PUBLIC_SCOPE, report.resource_id), (error: unknown) => error instanceof AppError && error.kind === 'not_found');
    });

    test('open import is listed publicly', async () => {
      const report = await imports.importFile(source(spendingFixture('mth-10-january-2014.csv')), { ...options('nhs-spend-open'), organisation: 'royal-wolverhampton', visibility: 'open' });
      assert.equal(report.visibility, 'open');
      const listed = await catalogue.listDatasets(PUBLIC_SCOPE, { organisationSlug: 'royal-wolverhampton' });
      assert.deepEqual(listed.datasets.map((dataset) => dataset.slug), ['nhs-spend-open']);
      assert.equal(listed.datasets[0]?.title, 'Expenditure over £25,000- Payment made in January 2014');
      assert.equal(listed.datasets[0]?.organisation.name, 'Royal Wolverhampton');
      assert.equal(listed.datasets[0]?.licenceId, 'OGL-UK-3.0');
    });

    test('organisation actor limited to its own', async () => {
      const devon = await catalogue.findOrganisation(PLATFORM_SCOPE, 'devon-county-council');
      const nhs = await catalogue.findOrganisation(PLATFORM_SCOPE, 'royal-wolverhampton');
      const file = spendingFixture('DCCSpendingOver500_202504.csv');
      await assert.rejects(
        imports.importFile(source(file), { ...options('private-spending'), actor: { kind: 'organisation', organisationId: nhs!.id } }),
        (error: unknown) => error instanceof AppError && error.kind === 'forbidden',
      );
      await assert.rejects(
        imports.importFile(source(file), { ...options('x-dataset'), organisation: 'no-such-org', actor: { kind: 'organisation', organisationId: devon!.id } }),
        (error: unknown) => error instanceof AppError && error.kind === 'not_found',
      );
      await assert.rejects(
        imports.importFile(source(file), { ...options('nhs-spend-open'), actor: { kind: 'organisation', organisationId: devon!.id } }),
        (error: unknown) => error instanceof AppError && error.code === 'dataset_slug_taken',
      );
      const report = await imports.importFile(source(file), { ...options('private-spending'), actor: { kind: 'organisation', organisationId: devon!.id } });
      assert.equal(report.version, 2);

      // Another organisation's private dataset is hidden from this actor, and the refusal must not claim a race.
      await imports.importFile(source(file), { ...options('nhs-private-ledger'), organisation: 'royal-wolverhampton', visibility: 'private' });
      await assert.rejects(
        imports.importFile(source(file), { ...options('nhs-private-ledger'), actor: { kind: 'organisation', organisationId: devon!.id } }),
        (error: unknown) => error instanceof AppError && error.code === 'dataset_slug_taken' && /already in use\. Choose another dataset slug/.test(error.message),
      );
    });

    test('new dataset option rejects existing', async () => {
      const devon = await catalogue.findOrganisation(PLATFORM_SCOPE, 'devon-county-council');
      const before = await catalogue.showDataset(PLATFORM_SCOPE, 'private-spending');
      const file = spendingFixture('DCCSpendingOver500_202504.csv');
      await assert.rejects(
        imports.importFile(source(file), { ...options('private-spending'), newDataset: true, actor: { kind: 'organisation', organisationId: devon!.id } }),
        (error: unknown) => error instanceof AppError && error.kind === 'conflict' && error.code === 'dataset_exists',
      );
      const after = await catalogue.showDataset(PLATFORM_SCOPE, 'private-spending');
      assert.equal(after.versions.length, before.versions.length);

      const report = await imports.importFile(source(file), { ...options('devon-new-ledger'), newDataset: true, actor: { kind: 'organisation', organisationId: devon!.id } });
      assert.equal(report.version, 1);
    });

    test('import checks can keep data private', async () => {
      const checked = new ImportService(handle.db, ingestFunctions, createLogger('silent'));
      checked.addCheck({
        name: 'count-suppliers',
        async run(context) {
          const { rows } = await context.raw.query<{ suppliers: number }>(`select count(distinct supplier)::int as suppliers from ${context.table}`);
          return { visibility: 'private', report: { suppliers: rows[0]!.suppliers }, warnings: [{ code: 'kept_private', message: 'Kept private by the test check.' }] };
        },
      });
      const report = await checked.importFile(source(spendingFixture('mth-10-january-2014.csv')), { ...options('checked'), visibility: 'open' });
      assert.equal(report.visibility, 'private');
      assert.equal(report.suppliers, 56);
      assert.deepEqual(report.warnings.map((warning) => warning.code), ['kept_private']);
      const stored = await catalogue.currentResource(PLATFORM_SCOPE, 'checked');
      assert.equal(stored?.loadReport.suppliers, 56);
      assert.equal((await catalogue.findDataset(PLATFORM_SCOPE, 'checked'))?.visibility, 'private');
    });

    test('throwing check blocks the import', async () => {
      const blocking = new ImportService(handle.db, ingestFunctions, createLogger('silent'), [
        { name: 'block', run: async () => { throw new AppError('validation', 'blocked', 'Blocked by the test check.'); } },
      ]);
      const before = await catalogueCounts(handle.db);
      await assert.rejects(blocking.importFile(source(spendingFixture('mth-10-january-2014.csv')), options('blocked')), /Blocked by the test check/);
      assert.deepEqual(await catalogueCounts(handle.db), before);
    });

    test('invalid slugs rejected before reading', async () => {
      await assert.rejects(imports.importFile(source(spendingFixture('mth-10-january-2014.csv')), options('Bad Slug')), /Dataset "Bad Slug" is not a valid slug/);
      await assert.rejects(imports.importFile(source(spendingFixture('mth-10-january-2014.csv')), { ...options('ok-slug'), organisation: '-x' }), /Organisation "-x" is not a valid slug/);
    });
  });
}
