import { CompiledQuery, type Insertable, type Kysely } from 'kysely';
import { executePrepared } from '../db/prepared.ts';
import type { DB } from '../db/schema.ts';
import type { PreparedEntries } from './chain.repository.ts';
import type { DisclosuresTable } from './disclosure.tables.ts';
import type { ExpectedHead } from './remembered-head.ts';

/** The columns of a queued disclosure's indexing job, as enqueueJob would write them. */
export interface IndexJobRow {
  kind: string;
  organisation_id: string;
  payload: string;
  run_at: Date;
  max_attempts: number;
}

// Moves the chain head only if it is where the remembered head expects ($1, $2), and writes the audit entry, the
// disclosure, its queue row and its indexing job only if the head moved. The UPDATE waits for any other appender's
// lock on the head row and then reads the head that appender committed, so the check compares against the latest head.
const WRITE_AFTER_HEAD = `with head as (
  update audit_chain_head set
    size = case when size = $1::bigint and head_hash = $2::bytea then $3::bigint else size end,
    head_hash = case when size = $1::bigint and head_hash = $2::bytea then $4::bytea else head_hash end,
    frontier = case when size = $1::bigint and head_hash = $2::bytea then $5::bytea else frontier end
  where id
  returning size = $3::bigint and head_hash = $4::bytea as moved
), entry as (
  insert into audit_log (id, occurred_at, organisation_id, actor_user_id, actor_kind, action, subject_type, subject_id, request_id, details, prev_hash, entry_hash)
  select $6::bigint, $7::timestamptz, $8::uuid, $9::uuid, $10::text, $11::text, $12::text, $13::text, $14::text, $15::json, $16::bytea, $17::bytea
  from head where moved
), disclosure as (
  insert into disclosures (id, organisation_id, recipient_organisation_id, agreement_id, agreement_version, purpose, dataset_id, resource_id, fields, row_count, after_row_id, last_row_id, occurred_at, request_id, audit_entry_id)
  select $18::uuid, $19::uuid, $20::uuid, $21::uuid, $22::integer, $23::text, $24::uuid, $25::uuid, $26::text[], $27::bigint, $28::bigint, $29::bigint, $30::timestamptz, $31::text, $6::bigint
  from head where moved
  returning id, organisation_id, resource_id
), queued as (
  insert into disclosure_index_queue (disclosure_id, organisation_id, resource_id)
  select id, organisation_id, resource_id from disclosure
), job as (
  insert into jobs (kind, organisation_id, payload, run_at, max_attempts)
  select $32::text, $33::uuid, $34::jsonb, $35::timestamptz, $36::integer
  from head where moved
)
select moved from head`;

/**
 * Writes a disclosure whose subjects are queued, with its audit entry built after a remembered head, in one statement
 * and without locking the head first. Returns false, having written nothing but a lock on the head row, when the head
 * was not where it was expected: the caller then builds the entry again under the lock.
 */
export async function writeDisclosureAfterHead(
  trx: Kysely<DB>,
  expected: ExpectedHead,
  prepared: PreparedEntries,
  disclosure: Insertable<DisclosuresTable> & { id: string; after_row_id: number; last_row_id: number },
  job: IndexJobRow,
): Promise<boolean> {
  const [entry] = prepared.rows;
  if (!entry || prepared.rows.length !== 1) throw new Error('A disclosure is written with exactly one audit entry.');
  const { head } = prepared;
  const parameters = [
    expected.size,
    expected.headHash,
    head.size,
    head.headHash,
    head.frontier,
    entry.id,
    entry.occurred_at,
    entry.organisation_id,
    entry.actor_user_id,
    entry.actor_kind,
    entry.action,
    entry.subject_type,
    entry.subject_id,
    entry.request_id,
    entry.details,
    entry.prev_hash,
    entry.entry_hash,
    disclosure.id,
    disclosure.organisation_id,
    disclosure.recipient_organisation_id,
    disclosure.agreement_id,
    disclosure.agreement_version,
    disclosure.purpose,
    disclosure.dataset_id,
    disclosure.resource_id,
    disclosure.fields,
    disclosure.row_count,
    disclosure.after_row_id,
    disclosure.last_row_id,
    disclosure.occurred_at,
    disclosure.request_id,
    job.kind,
    job.organisation_id,
    job.payload,
    job.run_at,
    job.max_attempts,
  ];
  const [result] = await executePrepared<{ moved: boolean }>(trx, CompiledQuery.raw(WRITE_AFTER_HEAD, parameters));
  return result?.moved === true;
}
