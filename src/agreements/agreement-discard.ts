import type { Kysely } from 'kysely';
import { appendAuditEvent } from '../audit/audit.repository.ts';
import type { DB } from '../db/schema.ts';
import { setOrganisation, withOrganisation } from '../db/tenant.ts';
import { conflict, forbidden, notFound, type AppError } from '../errors.ts';
import { queueAgreementEvent } from './agreement-events.ts';
import { currentVersion } from './agreement-versions.ts';
import * as repository from './agreement.repository.ts';
import type { AgreementService } from './agreement.service.ts';
import type { Actor, AgreementSummary, AgreementVersion } from './agreement.types.ts';
import type { AgreementStatus } from './agreements.tables.ts';

/** Roles that may draft, amend and discard an agreement for the provider. */
export const DRAFTING_ROLES = ['administrator', 'data_steward', 'data_protection_officer'];

/** Builds the conflict for a change requested on an agreement whose first draft was discarded. */
export function discardedConflict(reference: string, change: string): AppError {
  return conflict('agreement_discarded', `${reference} was discarded before it came into force, so it cannot be ${change}. Draft a new agreement with another reference.`);
}

/** Explains why a version that is not a draft cannot be discarded, and what to do instead. */
function notDraftConflict(agreement: AgreementSummary, version: AgreementVersion): AppError {
  const name = `Version ${version.version} of ${agreement.reference}`;
  if (version.status === 'awaiting_approval') {
    return conflict('agreement_not_draft', `${name} is awaiting approval, so it cannot be discarded. Withdraw it to draft first, then discard it.`);
  }
  if (version.id === agreement.versionInForceId) {
    return conflict(
      'agreement_not_draft',
      `${name} is the version in force, so it cannot be discarded. To stop releases, suspend or terminate the agreement. To change its terms, start an amendment.`,
    );
  }
  return conflict('agreement_not_draft', `${name} is ${version.status.replace('_', ' ')}, so it cannot be discarded. Only a draft can be discarded.`);
}

/** Returns why the agreement's current version cannot be discarded, or null when it is a draft that can be. */
export function discardRefusal(agreement: AgreementSummary, version: AgreementVersion): AppError | null {
  if (agreement.status === 'discarded') return discardedConflict(agreement.reference, 'discarded again');
  if (agreement.status === 'terminated') {
    return conflict('agreement_terminated', `${agreement.reference} has been terminated, so its versions are kept as they are for the record. Draft a new agreement instead.`);
  }
  if (version.status !== 'draft') return notDraftConflict(agreement, version);
  return null;
}

/**
 * Discards the draft version of an agreement the actor's organisation provides. The version is kept, marked
 * `discarded`, with its transition and audit entry. Discarding an amendment leaves the version in force, and the
 * agreement's status, as they were. Discarding the first draft of an agreement with no version ever in force marks
 * the agreement `discarded`, which takes it off every list. Returns the agreement's status afterwards.
 */
export async function discardDraft(agreements: AgreementService, actor: Actor, reference: string, reason: string): Promise<AgreementStatus> {
  return withOrganisation(agreements.db.app, actor.organisationId, async (trx) => {
    const agreement = await repository.findAgreementByReference(trx, reference);
    if (!agreement || agreement.organisationId !== actor.organisationId) {
      throw notFound('agreement_not_found', `Your organisation provides no agreement with the reference ${reference}.`);
    }
    if (!actor.roles.some((role) => DRAFTING_ROLES.includes(role))) {
      throw forbidden('agreement_role', 'Only an administrator, data steward or data protection officer can discard a draft.');
    }
    const version = currentVersion(await repository.listVersions(trx, agreement.id));
    const refusal = discardRefusal(agreement, version);
    if (refusal) throw refusal;
    await setOrganisation(trx, agreement.organisationId);
    return markDiscarded(trx, agreements, actor, agreement, version, reason.trim());
  });
}

async function markDiscarded(trx: Kysely<DB>, agreements: AgreementService, actor: Actor, agreement: AgreementSummary, version: AgreementVersion, reason: string): Promise<AgreementStatus> {
  const to: AgreementStatus = agreement.versionInForceId === null ? 'discarded' : agreement.status;
  await repository.setVersionStatus(trx, version.id, 'discarded', agreements.clock());
  if (to !== agreement.status) await repository.updateAgreement(trx, agreement.id, { status: to });
  await agreements.recordTransition(trx, actor, {
    organisationId: agreement.organisationId,
    agreementId: agreement.id,
    versionId: version.id,
    from: agreement.status,
    to,
    reason: `Draft version ${version.version} discarded${reason === '' ? '' : `: ${reason}`}`,
  });
  await appendAuditEvent(trx, {
    organisationId: agreement.organisationId,
    actorUserId: actor.userId,
    actorKind: actor.kind,
    action: 'agreement.draft_discarded',
    subjectType: 'agreement',
    subjectId: agreement.id,
    requestId: actor.requestId ?? null,
    details: { reference: agreement.reference, version: version.version, reason },
  });
  // Parties are notified of a status change. Discarding an amendment changes nothing they release under.
  if (to !== agreement.status) {
    await queueAgreementEvent(trx, {
      organisationId: agreement.organisationId,
      agreementId: agreement.id,
      type: 'agreement.status_changed',
      details: { reference: agreement.reference, from: agreement.status, to },
    });
  }
  return to;
}
