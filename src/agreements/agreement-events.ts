import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { enqueueJob } from '../jobs/job-queue.ts';

/** Job kind whose handler fans an agreement event out to the parties' webhook subscriptions. */
export const AGREEMENT_EVENT_JOB = 'exchange.agreement_event';

export type AgreementEventType = 'agreement.status_changed' | 'agreement.version_in_force' | 'agreement.review_due';

/**
 * Queues a notification about an agreement in the caller's transaction. The event holds only the agreement's
 * reference, version and status, never data about people.
 */
export async function queueAgreementEvent(
  trx: Kysely<DB>,
  event: { organisationId: string; agreementId: string; type: AgreementEventType; details: Record<string, string | number | null> },
): Promise<void> {
  await enqueueJob(trx, {
    kind: AGREEMENT_EVENT_JOB,
    organisationId: event.organisationId,
    payload: { agreement_id: event.agreementId, type: event.type, details: event.details },
  });
}
