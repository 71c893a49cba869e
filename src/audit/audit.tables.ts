import type { ColumnType, Generated } from 'kysely';

export type AuditActorKind = 'user' | 'token' | 'platform' | 'system';

export interface AuditLogTable {
  id: Generated<number>;
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
}

export interface AuditTables {
  audit_log: AuditLogTable;
}
