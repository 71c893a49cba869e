import { sql, type Insertable, type Kysely, type RawBuilder } from 'kysely';
import type { DB } from '../db/schema.ts';
import { canonicalDetails, entryHash, formatOccurredAt, sortKeys, toBuffer, type ChainFields } from './chain.ts';
import type { AuditEvent } from './audit.repository.ts';
import type { AuditLogTable } from './audit.tables.ts';
import { MerkleFrontier } from './merkle.ts';

/** Rows per INSERT statement, well under PostgreSQL's limit of 65,535 bind parameters. */
const INSERT_BATCH = 2000;

export interface ChainHead {
  size: number;
  headHash: Buffer;
  frontier: MerkleFrontier;
}

interface ChainHeadRow {
  size: number;
  head_hash: Uint8Array;
  frontier: Uint8Array;
}

/**
 * Locks the chain head row until the transaction ends and returns it. Every appender takes this lock first, so entries
 * get consecutive ids and each links to the one committed before it: the chain cannot fork, whatever the concurrency.
 */
export async function lockChainHead(trx: Kysely<DB>): Promise<ChainHead> {
  return readHead(trx, sql`for update`);
}

/** Reads the chain head without locking it. */
export async function readChainHead(trx: Kysely<DB>): Promise<ChainHead> {
  return readHead(trx, sql``);
}

async function readHead(trx: Kysely<DB>, lock: RawBuilder<unknown>): Promise<ChainHead> {
  const { rows } = await sql<ChainHeadRow>`select size, head_hash, frontier from audit_chain_head where id ${lock}`.execute(trx);
  const row = rows[0];
  if (!row) throw new Error('The audit chain head row is missing; run the migrations.');
  const size = Number(row.size);
  return { size, headHash: toBuffer(row.head_hash), frontier: MerkleFrontier.decode(size, toBuffer(row.frontier)) };
}

/** Turns an event into the exact field values that are stored and hashed. */
export function chainFieldsOf(event: AuditEvent, occurredAt: Date): ChainFields {
  return {
    occurredAt: formatOccurredAt(occurredAt),
    organisationId: event.organisationId,
    actorUserId: event.actorUserId,
    actorKind: event.actorKind,
    action: event.action,
    subjectType: event.subjectType,
    subjectId: event.subjectId ?? null,
    requestId: event.requestId ?? null,
    // A JSON round trip drops undefined values and turns dates into strings, as the jsonb column will hold them.
    details: sortKeys(JSON.parse(JSON.stringify(event.details ?? {}))),
  };
}

/** Audit rows whose chain positions and hashes are fixed under the chain head lock, with the head they lead to. */
export interface PreparedEntries {
  ids: number[];
  rows: Insertable<AuditLogTable>[];
  head: { size: number; headHash: Buffer; frontier: Buffer };
}

/**
 * Locks the chain head and builds the rows that append `events` to it, without writing them. The caller writes them
 * with `writeEntries`, or adds its own write to the same statement with `withEntries`, before its transaction ends.
 */
export async function prepareChainedEntries(trx: Kysely<DB>, events: readonly AuditEvent[], occurredAt?: Date): Promise<PreparedEntries> {
  const head = await lockChainHead(trx);
  // Read the clock after taking the lock, so on one instance times rise with the ids.
  return chainEntries(head, events, occurredAt ?? new Date());
}

/** Builds the rows that append `events` after `head`, whose frontier it advances, and the head they lead to. */
export function chainEntries(head: ChainHead, events: readonly AuditEvent[], now: Date): PreparedEntries {
  let previous = head.headHash;
  const rows = events.map((event, index) => {
    const fields = chainFieldsOf(event, now);
    const hash = entryHash(previous, fields);
    const row = {
      id: head.size + index + 1,
      occurred_at: now,
      organisation_id: fields.organisationId,
      actor_user_id: fields.actorUserId,
      actor_kind: event.actorKind,
      action: fields.action,
      subject_type: fields.subjectType,
      subject_id: fields.subjectId,
      request_id: fields.requestId,
      // The column keeps this text as given, so a verifier can hash it as read.
      details: canonicalDetails(fields.details),
      prev_hash: previous,
      entry_hash: hash,
    };
    head.frontier.append(hash);
    previous = hash;
    return row;
  });
  return { ids: rows.map((row) => row.id), rows, head: { size: head.frontier.size, headHash: previous, frontier: head.frontier.encode() } };
}

/**
 * Writes all but the last batch of prepared rows and returns a query creator whose statement also inserts the last
 * batch and moves the chain head, as data-modifying WITH queries. The caller must execute one statement built on it.
 */
export async function withEntries(trx: Kysely<DB>, prepared: PreparedEntries) {
  const { rows, head } = prepared;
  const lastBatchStart = Math.max(0, Math.floor((rows.length - 1) / INSERT_BATCH) * INSERT_BATCH);
  for (let start = 0; start < lastBatchStart; start += INSERT_BATCH) {
    await trx.insertInto('audit_log').values(rows.slice(start, start + INSERT_BATCH)).execute();
  }
  return trx
    .with('entries', (db) => db.insertInto('audit_log').values(rows.slice(lastBatchStart)))
    .with('chain_head', (db) => db.updateTable('audit_chain_head').set({ size: head.size, head_hash: head.headHash, frontier: head.frontier }).where(sql<boolean>`id`));
}

/** Writes prepared rows and the new chain head, with the last batch and the head in one statement. */
export async function writeEntries(trx: Kysely<DB>, prepared: PreparedEntries): Promise<void> {
  const statement = await withEntries(trx, prepared);
  await statement.selectNoFrom(sql<number>`1`.as('written')).execute();
}

/**
 * Appends events to the chain in the caller's transaction and returns their ids (chain positions). Holds the chain
 * head lock until the transaction ends, so callers should append as late in their transaction as they can.
 */
export async function appendChainedEntries(trx: Kysely<DB>, events: readonly AuditEvent[], occurredAt?: Date): Promise<number[]> {
  if (events.length === 0) return [];
  const prepared = await prepareChainedEntries(trx, events, occurredAt);
  await writeEntries(trx, prepared);
  return prepared.ids;
}
