import type { ColumnType } from 'kysely';
import type { DisclosureTables } from './disclosure.tables.ts';

export type AuditActorKind = 'user' | 'token' | 'platform' | 'system';

export interface AuditLogTable {
  /** Position in the hash chain: 1, 2, 3, … with no gaps, assigned by appendAuditEvent under the chain lock. */
  id: number;
  occurred_at: ColumnType<Date, Date | string | undefined, never>;
  organisation_id: string | null;
  actor_user_id: string | null;
  actor_kind: AuditActorKind;
  /** Dotted verb such as `api_token.created`. */
  action: string;
  subject_type: string;
  subject_id: string | null;
  request_id: string | null;
  details: ColumnType<unknown, string, never>;
  /** Hash of the entry before this one; 32 zero bytes for entry 1. */
  prev_hash: ColumnType<Uint8Array, Uint8Array, never>;
  /** SHA-256 over `prev_hash` and the canonical encoding of this entry (src/audit/chain.ts). */
  entry_hash: ColumnType<Uint8Array, Uint8Array, never>;
}

export interface AuditTables extends DisclosureTables {
  audit_log: AuditLogTable;
}
