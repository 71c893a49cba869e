/**
 * Times agreement-enforced releases against a plain datastore_search of the same rows, over loopback HTTP, in the
 * same run, and prints the ratio. The table has social-care-like rows. The agreement releases 8 of its 10 fields with
 * the NHS number pseudonymised, and every release writes its disclosure record and audit entry in its transaction.
 * Releases of more than 64 rows queue their subjects, so after the timed workloads the bench runs the indexing job
 * and prints its time separately: that work happens after the releases commit, off the request path.
 * Workloads: pages of 1,000 records read through the whole table, and the whole table as one CSV export against
 * paging through it with datastore_search. Then several clients page through the table at once, each reading all of
 * it, for each way: throughput while the server is busy, where one request's wait for its commit overlaps with the
 * work of others.
 * PostgreSQL runs when DATABASE_URL or TEST_DATABASE_URL is set (the bench creates and drops its own database);
 * PGlite always runs, in memory.
 *
 *   node --import tsx bench/exchange.bench.ts [rows] [passes] [clients]
 *   (defaults: 50,000 rows, 3 passes per workload, 4 clients at once)
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { sql } from 'kysely';
import pg from 'pg';
import { Database } from '../src/db/database.ts';
import type { TableSchemaField } from '../src/ingest/table-schema.ts';
import { KeyRing } from '../src/keys/key-ring.ts';
import { createLogger } from '../src/logger.ts';
import { startServer } from '../src/main.ts';
import { createServices, type Services } from '../src/services.ts';
import { buildUser, memberAuth } from '../test/helpers/accounts.ts';
import { buildDataset, buildOrganisation, createDatastoreTable, recordResource } from '../test/helpers/catalogue-builders.ts';
import { testConfig } from '../test/helpers/services.ts';

const rowCount = Number(process.argv[2] ?? 50_000);
const passes = Number(process.argv[3] ?? 3);
const clients = Number(process.argv[4] ?? 4);
const PAGE = 1000;
const REFERENCE = 'BENCH-ISA-001';

const FIELDS: TableSchemaField[] = [
  { name: 'person_id', title: 'Person ID', type: 'string' },
  { name: 'nhs_number', title: 'NHS number', type: 'string' },
  { name: 'name', title: 'Name', type: 'string' },
  { name: 'date_of_birth', title: 'Date of birth', type: 'date' },
  { name: 'postcode', title: 'Postcode', type: 'string' },
  { name: 'care_package', title: 'Care package', type: 'string' },
  { name: 'start_date', title: 'Start date', type: 'date' },
  { name: 'weekly_cost', title: 'Weekly cost', type: 'number' },
  { name: 'locality', title: 'Locality', type: 'string' },
  { name: 'social_worker_notes', title: 'Social worker notes', type: 'string' },
];
const RELEASED = ['person_id', 'nhs_number', 'date_of_birth', 'postcode', 'care_package', 'start_date', 'weekly_cost', 'locality'];

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

/** Builds the table, an open dataset over it (so datastore_search serves it anonymously) and an active agreement. */
async function setUp(services: Services): Promise<{ resourceId: string; token: string }> {
  const { db } = services;
  const council = await buildOrganisation(db, { slug: 'bench-council', name: 'Bench Council' });
  const trust = await buildOrganisation(db, { slug: 'bench-trust', name: 'Bench Trust' });
  const dataset = await buildDataset(db, { organisation: council, slug: 'bench-social-care', title: 'Bench social care', visibility: 'open' });
  const tableName = `t_${randomBytes(8).toString('hex')}`;
  await createDatastoreTable(db, tableName, FIELDS);
  const table = sql.id('datastore', tableName);
  await sql`insert into ${table} (_id, person_id, nhs_number, name, date_of_birth, postcode, care_package, start_date, weekly_cost, locality, social_worker_notes)
    select g, 'P' || g, '999 ' || lpad((g % 1000)::text, 3, '0') || ' ' || lpad(g::text, 4, '0'), 'Resident ' || g, date '1940-01-01' + (g % 20000),
      'RM17 ' || (g % 9) || 'AA', 'Package ' || (g % 6), date '2024-01-01' + (g % 700), round(((g * 7919) % 180000) / 100.0, 2), 'Locality ' || (g % 8), 'Notes for ' || g
    from generate_series(1, ${rowCount}) as g`.execute(db.app);
  await sql`analyze ${table}`.execute(db.app);
  const resource = await recordResource(db, { dataset, fields: FIELDS, tableName, rowCount });

  const member = async (organisationId: string, role: 'data_protection_officer' | 'administrator' | 'analyst') => {
    const user = await buildUser(db, { member: { organisationId, role } });
    return { userId: user.id, actor: { userId: user.id, organisationId, roles: [role], kind: 'user' as const } };
  };
  const councilDpo = await member(council.id, 'data_protection_officer');
  const trustDpo = await member(trust.id, 'data_protection_officer');
  const analyst = await member(trust.id, 'analyst');
  const { agreements, workflow } = services.exchange;
  await agreements.createDraft(councilDpo.actor, REFERENCE, {
    title: 'Bench agreement',
    summary: 'Benchmark agreement.',
    parties: [
      { organisation_id: council.id, sharing_role: 'provider', controller_role: 'controller', approvers: [{ role: 'data_protection_officer', user_id: councilDpo.userId, name: 'Council DPO' }] },
      { organisation_id: trust.id, sharing_role: 'recipient', controller_role: 'controller', approvers: [{ role: 'data_protection_officer', user_id: trustDpo.userId, name: 'Trust DPO' }] },
    ],
    purposes: ['direct_care'],
    purpose_description: 'Benchmark.',
    special_category: true,
    lawful_basis: { article6: 'e', article9: 'h', schedule1: 2, statutory_powers: ['Health and Social Care Act 2012 s.251B'] },
    datasets: [{ dataset_id: dataset.id, fields: RELEASED, pseudonymise: [{ field: 'nhs_number', normalise: 'nhs_number' }], subject: { field: 'nhs_number', kind: 'nhs_number' } }],
    retention_months: 12,
    security_requirements: ['Benchmark'],
    start_date: '2020-01-01',
    end_date: '2099-12-31',
    review_date: '2099-06-30',
  });
  await workflow.submit(councilDpo.actor, REFERENCE);
  await workflow.decide(councilDpo.actor, REFERENCE, 'data_protection_officer', 'approved', '');
  await workflow.decide(trustDpo.actor, REFERENCE, 'data_protection_officer', 'approved', '');
  const token = await services.tokens.create(memberAuth(analyst.userId, trust.id, 'analyst'), { name: 'Bench', scopes: ['exchange'] });
  return { resourceId: resource.id, token: token.token };
}

/** Reads a whole streamed body and returns its length in bytes. */
function download(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (response) => {
        let bytes = 0;
        response.on('data', (chunk: Buffer) => (bytes += chunk.length));
        response.on('end', () => (response.statusCode === 200 ? resolve(bytes) : reject(new Error(`status ${response.statusCode}`))));
      })
      .on('error', reject);
  });
}

/**
 * Runs each workload once to warm up, then `passes` rounds that run every workload in turn, and returns each one's
 * best (lowest) time in milliseconds. Taking turns keeps a change in the machine's load from favouring one workload.
 */
async function bestInTurns<K extends string>(workloads: Record<K, () => Promise<void>>): Promise<Record<K, number>> {
  const names = Object.keys(workloads) as K[];
  const fastest = Object.fromEntries(names.map((name) => [name, Infinity])) as Record<K, number>;
  for (const name of names) await workloads[name]();
  for (let pass = 0; pass < passes; pass++) {
    for (const name of names) {
      const started = process.hrtime.bigint();
      await workloads[name]();
      fastest[name] = Math.min(fastest[name], Number(process.hrtime.bigint() - started) / 1e6);
    }
  }
  return fastest;
}

async function run(engine: 'pglite' | 'postgres', adminUrl?: string): Promise<void> {
  const { db, drop } = await openEngine(engine, adminUrl);
  try {
    const config = testConfig({ logLevel: 'silent' });
    const services = createServices({ config, logger: createLogger('silent'), db, keys: new KeyRing(randomBytes(32)) });
    const { resourceId, token } = await setUp(services);
    const server = await startServer(services, { port: 0, host: '127.0.0.1', closeDatabase: false });
    const headers = { authorization: `Bearer ${token}`, 'civic-purpose': 'direct_care' };
    const base = `${server.url}/api/v1/exchange/agreements/${REFERENCE}/datasets/bench-social-care`;
    try {
      const search = async (fields: string) => {
        let read = 0;
        for (let offset = 0; offset < rowCount; offset += PAGE) {
          const response = await fetch(`${server.url}/api/3/action/datastore_search?resource_id=${resourceId}&limit=${PAGE}&offset=${offset}&fields=${fields}&include_total=false`);
          const body = (await response.json()) as { success: boolean; result: { records: unknown[] } };
          if (!body.success) throw new Error(`datastore_search failed: ${JSON.stringify(body).slice(0, 200)}`);
          read += body.result.records.length;
        }
        if (read !== rowCount) throw new Error(`datastore_search read ${read} rows, expected ${rowCount}`);
      };
      const records = async () => {
        let read = 0;
        let cursor: string | null = null;
        do {
          const response = await fetch(`${base}/records?limit=${PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { headers });
          const body = (await response.json()) as { records: unknown[]; next_cursor: string | null };
          if (!response.ok) throw new Error(`records failed: ${JSON.stringify(body).slice(0, 200)}`);
          read += body.records.length;
          cursor = body.next_cursor;
        } while (cursor);
        if (read !== rowCount) throw new Error(`records read ${read} rows, expected ${rowCount}`);
      };
      const released = RELEASED.join(',');
      console.log(`\n${engine}: ${rowCount.toLocaleString('en-GB')} rows, pages of ${PAGE}, best of ${passes} passes taken in turns`);
      // The same pages through the release service, without HTTP, JSON or the signature: what enforcement itself costs.
      const auth = await services.tokens.authenticateBearer(`Bearer ${token}`, 'exchange');
      const caller = { organisationId: auth.organisationId, userId: auth.userId, tokenId: auth.tokenId, requestId: 'bench' };
      const request = { recipientOrganisationId: auth.organisationId, agreementReference: REFERENCE, dataset: 'bench-social-care', purpose: 'direct_care', fields: RELEASED };
      const direct = async () => {
        let cursor: string | undefined;
        do {
          const page = await services.exchange.releases.records(caller, request, cursor === undefined ? {} : { cursor });
          cursor = page.next_cursor ?? undefined;
        } while (cursor !== undefined);
      };
      const together = (work: () => Promise<void>) => async () => void (await Promise.all(Array.from({ length: clients }, () => work())));
      const times = await bestInTurns({
        plain: () => search(released),
        enforced: records,
        exported: async () => void (await download(`${base}/export?format=csv`, headers)),
        direct,
        plainTogether: together(() => search(released)),
        enforcedTogether: together(records),
      });
      const { plain, enforced, exported, plainTogether, enforcedTogether } = times;
      const rate = (ms: number, readers = 1) => Math.round((readers * rowCount) / (ms / 1000)).toLocaleString('en-GB');
      console.log(`datastore_search pages          ${plain.toFixed(0).padStart(8)} ms  ${rate(plain).padStart(9)} rows/s`);
      console.log(`exchange records pages          ${enforced.toFixed(0).padStart(8)} ms  ${rate(enforced).padStart(9)} rows/s  ratio ${(enforced / plain).toFixed(2)}`);
      console.log(`exchange CSV export             ${exported.toFixed(0).padStart(8)} ms  ${rate(exported).padStart(9)} rows/s  ratio ${(exported / plain).toFixed(2)}`);
      console.log(`release service, no HTTP        ${times.direct.toFixed(0).padStart(8)} ms  ${rate(times.direct).padStart(9)} rows/s  ratio ${(times.direct / plain).toFixed(2)}`);
      console.log(`${clients} clients at once, each reading every row:`);
      console.log(`  datastore_search pages        ${plainTogether.toFixed(0).padStart(8)} ms  ${rate(plainTogether, clients).padStart(9)} rows/s`);
      console.log(`  exchange records pages        ${enforcedTogether.toFixed(0).padStart(8)} ms  ${rate(enforcedTogether, clients).padStart(9)} rows/s  ratio ${(enforcedTogether / plainTogether).toFixed(2)}`);
      const queued = await db.owner.selectFrom('disclosure_index_queue').select((eb) => eb.fn.countAll<string>().as('count')).executeTakeFirstOrThrow();
      const started = process.hrtime.bigint();
      await services.exchange.worker.runDue();
      const indexing = Number(process.hrtime.bigint() - started) / 1e6;
      const subjects = await db.owner.selectFrom('disclosure_subjects').select((eb) => eb.fn.countAll<string>().as('count')).executeTakeFirstOrThrow();
      console.log(`subject indexing job afterwards ${indexing.toFixed(0).padStart(8)} ms  for ${queued.count} queued disclosures, ${Number(subjects.count).toLocaleString('en-GB')} subject hashes`);
    } finally {
      await server.close();
    }
  } finally {
    await drop();
  }
}

const adminUrl = process.env.DATABASE_URL || process.env.TEST_DATABASE_URL;
if (adminUrl && !['127.0.0.1', 'localhost', '[::1]'].includes(new URL(adminUrl).hostname)) {
  console.error('The exchange bench runs on loopback only. Point DATABASE_URL at 127.0.0.1 or unset it.');
  process.exit(2);
}
if (adminUrl) await run('postgres', adminUrl);
await run('pglite');
