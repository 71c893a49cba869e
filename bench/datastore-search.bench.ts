/**
 * Times datastore_search pages over HTTP (loopback) against the same SQL run directly on the database, in the same
 * run, on a generated table of 200,000 spending rows, and prints the ratio. Workloads: the first page, deep pages
 * (offsets above 100,000, which the API reads by `_id` keyset) and a filtered, sorted page with an exact count. The
 * deep-page workload also times plain OFFSET SQL, to show what keyset paging saves.
 * PostgreSQL runs when DATABASE_URL or TEST_DATABASE_URL is set (the bench creates and drops its own database);
 * PGlite always runs, in memory.
 *
 *   npm run bench -- datastore-search [rows] [requests]     (default 200,000 rows, 200 requests per workload)
 */
import { randomBytes } from 'node:crypto';
import { sql, type RawBuilder } from 'kysely';
import pg from 'pg';
import { Database } from '../src/db/database.ts';
import type { TableSchemaField } from '../src/ingest/table-schema.ts';
import { KeyRing } from '../src/keys/key-ring.ts';
import { createLogger } from '../src/logger.ts';
import { startServer } from '../src/main.ts';
import { createServices } from '../src/services.ts';
import { testConfig } from '../test/helpers/services.ts';
import { buildDataset, buildOrganisation, createDatastoreTable, recordResource } from '../test/helpers/catalogue-builders.ts';

const rowCount = Number(process.argv[2] ?? 200_000);
const requestCount = Number(process.argv[3] ?? 200);
const PAGE = 100;

const FIELDS: TableSchemaField[] = [
  { name: 'supplier', title: 'Supplier Name', type: 'string' },
  { name: 'amount', title: 'Amount', type: 'number' },
  { name: 'paid_on', title: 'Date Paid', type: 'date' },
  { name: 'service', title: 'Service Area', type: 'string' },
];

interface Workload {
  name: string;
  /** Query string of the datastore_search request number `i`. */
  request(i: number): string;
  /** The SQL the API runs for request `i`, run directly as the baseline. */
  direct(i: number): RawBuilder<unknown>[];
  /** Other SQL worth timing for the same pages, such as plain OFFSET paging. */
  alternative?: { name: string; sql(i: number): RawBuilder<unknown> };
}

function deepOffset(i: number): number {
  return 100_000 + ((i * 7919) % Math.max(1, rowCount - 100_000 - PAGE));
}

function workloads(resourceId: string, table: RawBuilder<unknown>): Workload[] {
  const columns = sql`_id, supplier, amount, paid_on, service`;
  return [
    {
      name: 'first page',
      request: () => `resource_id=${resourceId}&limit=${PAGE}`,
      direct: () => [sql`select ${columns} from ${table} order by _id asc limit ${PAGE} offset 0`],
    },
    {
      name: 'deep page (keyset)',
      request: (i) => `resource_id=${resourceId}&limit=${PAGE}&offset=${deepOffset(i)}`,
      direct: (i) => [sql`select ${columns} from ${table} where _id > ${deepOffset(i)} order by _id asc limit ${PAGE} offset 0`],
      alternative: { name: 'plain OFFSET SQL', sql: (i) => sql`select ${columns} from ${table} order by _id asc limit ${PAGE} offset ${deepOffset(i)}` },
    },
    {
      name: 'filtered, sorted, counted',
      request: (i) => `resource_id=${resourceId}&limit=${PAGE}&sort=amount%20desc&filters=${encodeURIComponent(JSON.stringify({ supplier: `Supplier ${i % 50}` }))}`,
      direct: (i) => [
        sql`select ${columns} from ${table} where supplier in (cast(${`Supplier ${i % 50}`} as text)) order by amount desc, _id asc limit ${PAGE} offset 0`,
        sql`select count(*) as count from ${table} where supplier in (cast(${`Supplier ${i % 50}`} as text))`,
      ],
    },
  ];
}

async function openEngine(engine: 'pglite' | 'postgres', adminUrl?: string): Promise<{ db: Database; drop(): Promise<void> }> {
  if (engine === 'pglite') {
    const db = await Database.open({ engine: 'pglite' });
    await db.migrate();
    return { db, drop: () => db.close() };
  }
  const name = `civic_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl!);
  url.pathname = `/${name}`;
  const db = await Database.open({ engine: 'postgres', url: url.toString(), poolSize: 5 });
  await db.migrate();
  return {
    db,
    async drop() {
      await db.close();
      const cleaner = new pg.Client({ connectionString: adminUrl });
      await cleaner.connect();
      await cleaner.query(`drop database if exists ${name} with (force)`);
      await cleaner.end();
    },
  };
}

async function buildTable(db: Database): Promise<{ resourceId: string; table: RawBuilder<unknown> }> {
  const organisation = await buildOrganisation(db, { slug: 'bench-council', name: 'Bench Council' });
  const dataset = await buildDataset(db, { organisation, slug: 'bench-spending', title: 'Bench spending' });
  const tableName = `t_${randomBytes(8).toString('hex')}`;
  await createDatastoreTable(db, tableName, FIELDS);
  const table = sql.id('datastore', tableName);
  await sql`insert into ${table} (_id, supplier, amount, paid_on, service)
    select g, 'Supplier ' || (g % 50), ((g * 7919) % 250000) / 100.0 + 500, date '2026-01-01' + (g % 365), 'Service ' || (g % 12)
    from generate_series(1, ${rowCount}) as g`.execute(db.app);
  await sql`analyze ${table}`.execute(db.app);
  const resource = await recordResource(db, { dataset, fields: FIELDS, tableName, rowCount });
  return { resourceId: resource.id, table };
}

async function timeLoop(count: number, work: (i: number) => Promise<void>): Promise<number> {
  for (let i = 0; i < Math.min(10, count); i++) await work(i);
  const started = process.hrtime.bigint();
  for (let i = 0; i < count; i++) await work(i);
  return Number(process.hrtime.bigint() - started) / 1e6 / count;
}

async function run(engine: 'pglite' | 'postgres', adminUrl?: string): Promise<void> {
  const { db, drop } = await openEngine(engine, adminUrl);
  try {
    const { resourceId, table } = await buildTable(db);
    const config = testConfig({ logLevel: 'silent' });
    const services = createServices({ config, logger: createLogger('silent'), db, keys: new KeyRing(randomBytes(32)) });
    const server = await startServer(services, { port: 0, host: '127.0.0.1', closeDatabase: false });
    try {
      console.log(`\n${engine}: ${rowCount.toLocaleString('en-GB')} rows, ${requestCount} requests per workload, ${PAGE} rows per page`);
      console.log('workload                      HTTP ms/page   direct SQL ms/page   ratio');
      for (const workload of workloads(resourceId, table)) {
        const http = await timeLoop(requestCount, async (i) => {
          const response = await fetch(`${server.url}/api/3/action/datastore_search?${workload.request(i)}`);
          const body = (await response.json()) as { success: boolean; result: { records: unknown[] } };
          if (!body.success || body.result.records.length === 0) throw new Error(`${workload.name} request ${i} failed: ${JSON.stringify(body).slice(0, 200)}`);
        });
        const direct = await timeLoop(requestCount, async (i) => {
          for (const statement of workload.direct(i)) await statement.execute(db.app);
        });
        console.log(`${workload.name.padEnd(30)}${http.toFixed(2).padStart(12)}${direct.toFixed(2).padStart(21)}${(http / direct).toFixed(2).padStart(8)}`);
        if (workload.alternative) {
          const alternative = workload.alternative;
          const timed = await timeLoop(requestCount, async (i) => void (await alternative.sql(i).execute(db.app)));
          console.log(`  (${alternative.name}: ${timed.toFixed(2)} ms/page, ${(timed / direct).toFixed(1)}× the keyset SQL)`);
        }
      }
    } finally {
      await server.close();
    }
  } finally {
    await drop();
  }
}

const adminUrl = process.env.DATABASE_URL || process.env.TEST_DATABASE_URL;
if (adminUrl && !['127.0.0.1', 'localhost', '[::1]'].includes(new URL(adminUrl).hostname)) {
  console.error('The datastore-search bench runs on loopback only. Point DATABASE_URL at 127.0.0.1 or unset it.');
  process.exit(2);
}
if (adminUrl) await run('postgres', adminUrl);
await run('pglite');
