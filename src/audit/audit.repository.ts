import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { AuditActorKind } from './audit.tables.ts';
import { appendChainedEntries, prepareChainedEntries, type PreparedEntries } from './chain.repository.ts';

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

/** Checks an event's details as every append does; for callers that build the event's row themselves. */
export function checkAuditEvent(event: AuditEvent): void {
  for (const key of Object.keys(event.details ?? {})) {
    if (FORBIDDEN_DETAIL_KEYS.test(key)) {
      throw new Error(`Audit details for ${event.action} contain the key "${key}", which may hold a secret or personal data.`);
    }
  }
}

/**
 * Appends one audit row in the caller's transaction, so the event commits or rolls back with the change it records,
 * and returns its id. Every audit write goes through this function or `appendAuditEvents`, and audit rows are never
 * updated or deleted. The row joins the hash chain: appending locks the chain head until the transaction ends, so
 * concurrent appenders take turns.
 */
export async function appendAuditEvent(trx: Kysely<DB>, event: AuditEvent): Promise<number> {
  checkAuditEvent(event);
  const [id] = await appendChainedEntries(trx, [event]);
  return id!;
}

/** Appends several audit rows under one lock of the chain head and returns their ids in order. */
export async function appendAuditEvents(trx: Kysely<DB>, events: readonly AuditEvent[]): Promise<number[]> {
  for (const event of events) checkAuditEvent(event);
  return appendChainedEntries(trx, events);
}

/**
 * Checks one event and prepares its row as appendAuditEvent would, without writing it, for a caller that writes the
 * row in the same statement as its own change (see `withEntries`). The chain head stays locked until the transaction
 * ends, and the caller must write the row before then.
 */
export async function prepareAuditEvent(trx: Kysely<DB>, event: AuditEvent): Promise<PreparedEntries> {
  checkAuditEvent(event);
  return prepareChainedEntries(trx, [event]);
}
