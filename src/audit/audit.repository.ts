import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { AuditActorKind } from './audit.tables.ts';

/** One audit event. `details` must hold no secrets and no personal data (no passwords, tokens or email addresses). */
export interface AuditEvent {
  organisationId: string | null;
  actorUserId: string | null;
  actorKind: AuditActorKind;
  action: string;
  subjectType: string;
  subjectId?: string | null;
  requestId?: string | null;
  details?: Record<string, unknown>;
}

/** Keys that must never reach the audit log, whatever a caller passes. */
const FORBIDDEN_DETAIL_KEYS = /password|secret|^token$|email|_hash$/i;

/**
 * Appends one audit row in the caller's transaction, so the event commits or rolls back with the change it records.
 * Every audit write goes through this function, and audit rows are never updated or deleted.
 */
export async function appendAuditEvent(trx: Kysely<DB>, event: AuditEvent): Promise<void> {
  const details = event.details ?? {};
  for (const key of Object.keys(details)) {
    if (FORBIDDEN_DETAIL_KEYS.test(key)) {
      throw new Error(`Audit details for ${event.action} contain the key "${key}", which may hold a secret or personal data.`);
    }
  }
  await trx
    .insertInto('audit_log')
    .values({
      organisation_id: event.organisationId,
      actor_user_id: event.actorUserId,
      actor_kind: event.actorKind,
      action: event.action,
      subject_type: event.subjectType,
      subject_id: event.subjectId ?? null,
      request_id: event.requestId ?? null,
      details: JSON.stringify(details),
    })
    .execute();
}
