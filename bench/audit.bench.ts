/**
 * Times the tamper-evident audit log. Append rate through appendAuditEvent (one entry per transaction) and
 * appendAuditEvents (batches), each against a raw INSERT of the same columns into an unchained table in the same run;
 * then `civic audit verify` over a generated log of 1,000,000 entries. The entries are hashed in Node.js and loaded with
 * COPY, so generation is quick. PostgreSQL runs when DATABASE_URL or TEST_DATABASE_URL is set (the bench creates and
 * drops its own database); PGlite always runs, in memory.
 *
 *   node --import tsx bench/audit.bench.ts [entries to verify] [single appends] [batched appends]
 *   (defaults: 1,000,000, 2,000 and 50,000; 0 appends skips the append comparison)
 *
 * BENCH_ENGINES=postgres (or pglite) limits the run to one engine.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { appendAuditEvent, appendAuditEvents, type AuditEvent } from '../src/audit/audit.repository.ts';
import { verifyDatabaseLog } from '../src/audit/audit-verify.ts';
import { entryHash, formatOccurredAt, GENESIS_HASH, sortKeys } from '../src/audit/chain.ts';
import { CheckpointSigner } from '../src/audit/checkpoint-signer.ts';
import { MerkleFrontier } from '../src/audit/merkle.ts';
import { readEntryCopy, withAuditSnapshot } from '../src/audit/entry-source.ts';
import { defaultThreads } from '../src/audit/hash-pool.ts';
import { Database } from '../src/db/database.ts';
import { withOrganisation } from '../src/db/tenant.ts';
import { KeyRing } from '../src/keys/key-ring.ts';

const verifyCount = Number(process.argv[2] ?? 1_000_000);
const singleCount = Number(process.argv[3] ?? 2_000);
const batchedCount = Number(process.argv[4] ?? 50_000);
const BATCH = 500;
const COPY_CHUNK_ROWS = 5_000;

function event(index: number, organisationId: string): AuditEvent {
  return {
    organisationId,
    actorUserId: null,
    actorKind: 'token',
    action: 'disclosure.recorded',
    subjectType: 'disclosure',
    subjectId: randomUUID(),
    requestId: `bench-${index}`,
    details: { agreementVersion: 3, fields: ['nhs_number_pseudonym', 'care_package'], purpose: 'direct_care', rowCount: index % 500, subjectCount: index % 500 },
  };
}

function rate(count: number, ms: number): string {
  return `${Math.round((count / ms) * 1000).toLocaleString('en-GB')} entries/s`;
}

/** Times `work`, with the CPU time this process spent on it (all its threads), which other load on the machine inflates less. */
async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; cpuMs: number; result: T }> {
  const start = performance.now();
  const cpu = process.cpuUsage();
  const result = await work();
  const used = process.cpuUsage(cpu);
  return { ms: performance.now() - start, cpuMs: (used.user + used.system) / 1000, result };
}

async function createOrganisation(db: Database): Promise<string> {
  const row = await db.owner.insertInto('organisations').values({ slug: `bench-${randomUUID().slice(0, 8)}`, name: 'Bench council' }).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

async function benchAppends(db: Database, organisationId: string): Promise<void> {
  await sql`create table bench_raw_log (like audit_log including defaults)`.execute(db.owner);
  await sql`alter table bench_raw_log drop column prev_hash, drop column entry_hash`.execute(db.owner);
  await sql`create sequence bench_raw_log_id`.execute(db.owner);
  const rawInsert = (trx: typeof db.owner, events: AuditEvent[]) =>
    sql`insert into bench_raw_log (id, occurred_at, organisation_id, actor_user_id, actor_kind, action, subject_type, subject_id, request_id, details)
        select nextval('bench_raw_log_id'), now(), e.organisation_id, null, e.actor_kind, e.action, e.subject_type, e.subject_id, e.request_id, e.details
        from jsonb_to_recordset(${JSON.stringify(events.map((item) => ({ organisation_id: item.organisationId, actor_kind: item.actorKind, action: item.action, subject_type: item.subjectType, subject_id: item.subjectId, request_id: item.requestId, details: item.details })))}::jsonb)
          as e(organisation_id uuid, actor_kind text, action text, subject_type text, subject_id text, request_id text, details jsonb)`.execute(trx);

  const rawSingle = await timed(async () => {
    for (let index = 0; index < singleCount; index += 1) await db.owner.transaction().execute((trx) => rawInsert(trx, [event(index, organisationId)]));
  });
  const chainedSingle = await timed(async () => {
    for (let index = 0; index < singleCount; index += 1) await withOrganisation(db.app, organisationId, (trx) => appendAuditEvent(trx, event(index, organisationId)));
  });
  const rawBatched = await timed(async () => {
    for (let start = 0; start < batchedCount; start += BATCH) {
      const events = Array.from({ length: Math.min(BATCH, batchedCount - start) }, (_, offset) => event(start + offset, organisationId));
      await db.owner.transaction().execute((trx) => rawInsert(trx, events));
    }
  });
  const chainedBatched = await timed(async () => {
    for (let start = 0; start < batchedCount; start += BATCH) {
      const events = Array.from({ length: Math.min(BATCH, batchedCount - start) }, (_, offset) => event(start + offset, organisationId));
      await withOrganisation(db.app, organisationId, (trx) => appendAuditEvents(trx, events));
    }
  });
  console.log(`  append, one per transaction (${singleCount.toLocaleString('en-GB')}): appendAuditEvent ${rate(singleCount, chainedSingle.ms)}, raw INSERT ${rate(singleCount, rawSingle.ms)}, ratio ${(chainedSingle.ms / rawSingle.ms).toFixed(2)}`);
  console.log(`  append, batches of ${BATCH} (${batchedCount.toLocaleString('en-GB')}): appendAuditEvents ${rate(batchedCount, chainedBatched.ms)}, raw INSERT ${rate(batchedCount, rawBatched.ms)}, ratio ${(chainedBatched.ms / rawBatched.ms).toFixed(2)}`);
}

/** Escapes a value for COPY text format. */
function copyText(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

/** Appends `count` chained entries after the current head with COPY, as appendAuditEvent would have written them. */
async function generateEntries(db: Database, organisationId: string, count: number): Promise<void> {
  const head = await db.owner.selectFrom('audit_chain_head').selectAll().executeTakeFirstOrThrow();
  const startSize = Number(head.size);
  const frontier = MerkleFrontier.decode(startSize, Buffer.from(head.frontier));
  let previous: Buffer = startSize === 0 ? GENESIS_HASH : Buffer.from(head.head_hash);
  const base = Date.UTC(2026, 0, 1);

  async function* chunks(): AsyncGenerator<string> {
    let lines: string[] = [];
    for (let index = 1; index <= count; index += 1) {
      const item = event(index, organisationId);
      const occurredAt = formatOccurredAt(new Date(base + index * 1000));
      const details = sortKeys(item.details);
      const hash = entryHash(previous, { occurredAt, organisationId, actorUserId: null, actorKind: item.actorKind, action: item.action, subjectType: item.subjectType, subjectId: item.subjectId ?? null, requestId: item.requestId ?? null, details });
      lines.push([startSize + index, occurredAt, organisationId, '\\N', item.actorKind, item.action, item.subjectType, item.subjectId, item.requestId, copyText(JSON.stringify(details)), `\\\\x${previous.toString('hex')}`, `\\\\x${hash.toString('hex')}`].join('\t'));
      frontier.append(hash);
      previous = hash;
      if (lines.length === COPY_CHUNK_ROWS) {
        yield `${lines.join('\n')}\n`;
        lines = [];
      }
    }
    if (lines.length > 0) yield `${lines.join('\n')}\n`;
  }

  await db.withConnection('owner', async (raw) => {
    await raw.copyFrom(
      'copy audit_log (id, occurred_at, organisation_id, actor_user_id, actor_kind, action, subject_type, subject_id, request_id, details, prev_hash, entry_hash) from stdin',
      chunks(),
    );
    await raw.query('update audit_chain_head set size = $1, head_hash = $2, frontier = $3 where id', [frontier.size, previous, frontier.encode()]);
  });
}

async function benchVerify(db: Database, organisationId: string, publicKey: Buffer): Promise<void> {
  const existing = Number((await db.owner.selectFrom('audit_chain_head').select('size').executeTakeFirstOrThrow()).size);
  const generation = await timed(() => generateEntries(db, organisationId, verifyCount - existing));
  console.log(`  generated ${(verifyCount - existing).toLocaleString('en-GB')} entries with COPY in ${(generation.ms / 1000).toFixed(1)} s`);
  // A log that has grown over months has been vacuumed. Without this, autovacuum starts on the fresh rows part-way
  // through the timings and takes a core from them.
  await db.withConnection('owner', (raw) => raw.query('vacuum (analyze) audit_log'));
  // The baseline reads the same rows through the same COPY and throws them away: the floor any verifier pays.
  const reading = await timed(() => withAuditSnapshot(db, async (raw) => {
    let bytes = 0;
    for await (const chunk of readEntryCopy(raw, db.engine, { fromId: 1 })) bytes += chunk.length;
    return bytes;
  }));
  console.log(`  raw COPY of the same entries (read, not checked): ${(reading.ms / 1000).toFixed(1)} s, ${(reading.result / 1e6).toFixed(0)} MB, Node.js CPU ${(reading.cpuMs / 1000).toFixed(1)} s`);
  for (const threads of new Set([0, 1, defaultThreads(verifyCount)])) {
    const verification = await timed(() => verifyDatabaseLog(db, { publicKey, threads }));
    const report = verification.result;
    if (report.problemCount > 0) throw new Error(`Verification found problems: ${report.problems.map((problem) => problem.message).join('; ')}`);
    const how = threads === 0 ? 'on the main thread' : `with ${threads} worker thread${threads === 1 ? '' : 's'}`;
    console.log(`  civic audit verify ${how}, ${report.checked.toLocaleString('en-GB')} entries: ${(verification.ms / 1000).toFixed(1)} s (${rate(report.checked, verification.ms)}), ${(verification.ms / reading.ms).toFixed(2)}× the raw COPY, Node.js CPU ${(verification.cpuMs / 1000).toFixed(1)} s`);
  }
}

async function runOn(name: string, db: Database): Promise<void> {
  console.log(`${name}:`);
  await db.migrate();
  const organisationId = await createOrganisation(db);
  if (singleCount > 0 || batchedCount > 0) await benchAppends(db, organisationId);
  const publicKey = new CheckpointSigner(new KeyRing(randomBytes(32))).publicKey;
  await benchVerify(db, organisationId, publicKey);
}

const engines = (process.env.BENCH_ENGINES ?? 'pglite,postgres').split(',').map((name) => name.trim());

if (engines.includes('pglite')) {
  const pglite = await Database.open({ engine: 'pglite' });
  try {
    await runOn('PGlite (in memory)', pglite);
  } finally {
    await pglite.close();
  }
}

const adminUrl = process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL;
if (adminUrl && engines.includes('postgres')) {
  const name = `civic_bench_audit_${Date.now()}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = await Database.open({ engine: 'postgres', url: url.toString(), poolSize: 4 });
  try {
    await runOn('PostgreSQL', db);
  } finally {
    await db.close();
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}
