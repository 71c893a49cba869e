import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { setOrganisation, setPlatformScope, withOrganisation } from '../db/tenant.ts';
import { conflict, forbidden, notFound, validationError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { dateState, londonDate, passedDateErrors, reviewReminderDue } from './agreement-dates.ts';
import { checkTermsDatasets } from './agreement-datasets.ts';
import { currentVersion } from './agreement-versions.ts';
import { queueAgreementEvent } from './agreement-events.ts';
import * as repository from './agreement.repository.ts';
import type { AgreementService } from './agreement.service.ts';
import { statusChangeRefusal, type StatusChange } from './agreement-status-rules.ts';
import { APPROVER_ROLES } from './agreement.terms.ts';
import type { Actor, AgreementSummary, AgreementVersion, RequiredApproval } from './agreement.types.ts';
import type { AgreementStatus, ApproverRole } from './agreements.tables.ts';

/** A message to the people who must review an agreement; sent by the mailer when the service has one. */
export interface ReviewReminder {
  agreementId: string;
  reference: string;
  title: string;
  reviewDate: string;
  approverUserIds: string[];
}

export type ReminderSender = (reminder: ReviewReminder) => Promise<void>;

/**
 * A message to the people who act next on an agreement version: its approvers when it is submitted, and the other
 * approvers when one of them declines it or when the last approval brings it into force.
 */
export interface DecisionNotice {
  kind: 'awaiting_decision' | 'declined' | 'in_force';
  reference: string;
  title: string;
  version: number;
  recipientUserIds: string[];
  /** The approver who declined, named with their role and organisation, and their reason; for `declined` only. */
  decline?: { by: string; comment: string };
}

export type NoticeSender = (notice: DecisionNotice) => Promise<void>;

/** The user ids of every approver a version names, once each, leaving out `except`. */
function approverIds(version: AgreementVersion, except?: string): string[] {
  const ids = version.terms.parties.flatMap((party) => party.approvers.map((approver) => approver.userId));
  return [...new Set(ids)].filter((id) => id !== except);
}

/**
 * The agreement state machine: draft → awaiting approval → active → suspended, expired, lapsed review or terminated.
 * A version comes into force only when every approver named for every party has approved it.
 */
export class AgreementWorkflow {
  constructor(
    private readonly agreements: AgreementService,
    private readonly logger: Logger,
    private readonly sendReminder: ReminderSender | null = null,
    private readonly sendNotice: NoticeSender | null = null,
  ) {}

  /** Sends a notice after its change has committed. A failure is only logged, because the change is already made. */
  async #notify(notice: DecisionNotice | null): Promise<void> {
    if (notice === null || this.sendNotice === null || notice.recipientUserIds.length === 0) return;
    try {
      await this.sendNotice(notice);
    } catch (error) {
      this.logger.error({ err: error, reference: notice.reference, kind: notice.kind }, 'agreement notice email failed');
    }
  }

  get #clock() {
    return this.agreements.clock;
  }

  /** Submits the draft version for approval; the datasets are checked again against their current versions. */
  async submit(actor: Actor, reference: string, comment = ''): Promise<void> {
    const notice = await this.#asOwner(actor, reference, async (trx, agreement): Promise<DecisionNotice> => {
      if (!actor.roles.some((role) => ['administrator', 'data_steward', 'data_protection_officer'].includes(role))) {
        throw forbidden('agreement_role', 'Only an administrator, data steward or data protection officer can submit agreements.');
      }
      const latest = await latestVersion(trx, agreement);
      if (latest.status !== 'draft') throw conflict('agreement_not_draft', `Version ${latest.version} of ${reference} is not a draft, so it cannot be submitted.`);
      const errors = [...(await checkTermsDatasets(trx, agreement.organisationId, latest.terms)), ...passedDateErrors(latest.terms, this.#clock())];
      if (errors.length > 0) throw validationError('agreement_invalid', 'The agreement has problems. Correct them and try again.', errors);
      await repository.setVersionStatus(trx, latest.id, 'awaiting_approval', this.#clock());
      const to: AgreementStatus = agreement.versionInForceId === null ? 'awaiting_approval' : agreement.status;
      if (to !== agreement.status) await repository.updateAgreement(trx, agreement.id, { status: to });
      await this.agreements.recordTransition(trx, actor, {
        organisationId: agreement.organisationId,
        agreementId: agreement.id,
        versionId: latest.id,
        from: agreement.status,
        to,
        reason: comment || `Version ${latest.version} submitted for approval`,
      });
      return { kind: 'awaiting_decision', reference, title: latest.terms.title, version: latest.version, recipientUserIds: approverIds(latest) };
    });
    await this.#notify(notice);
  }

  /** Withdraws a version awaiting approval back to draft, so it can be edited. */
  async withdraw(actor: Actor, reference: string, reason: string): Promise<void> {
    await this.#asOwner(actor, reference, async (trx, agreement) => {
      const latest = await latestVersion(trx, agreement);
      if (latest.status !== 'awaiting_approval') throw conflict('agreement_not_awaiting_approval', `Version ${latest.version} of ${reference} is not awaiting approval.`);
      await this.#returnToDraft(trx, actor, agreement, latest, reason || 'Withdrawn for editing');
    });
  }

  /**
   * Records an approver's decision on the version awaiting approval. The actor must be the approver named for `role`
   * in their own organisation's party entry. A decline returns the version to draft; the last approval brings it into
   * force.
   */
  async decide(actor: Actor, reference: string, role: ApproverRole, decision: 'approved' | 'declined', comment: string): Promise<AgreementStatus> {
    if (decision === 'declined' && comment.trim() === '') {
      throw validationError('comment_required', 'Enter the reason for declining', [{ field: 'comment', message: 'Enter the reason for declining' }]);
    }
    const outcome = await withOrganisation(this.agreements.db.app, actor.organisationId, async (trx): Promise<{ status: AgreementStatus; notice: DecisionNotice | null }> => {
      const agreement = await repository.findAgreementByReference(trx, reference);
      if (!agreement) throw notFound('agreement_not_found', `No agreement with the reference ${reference} names your organisation.`);
      await setOrganisation(trx, agreement.organisationId);
      const latest = await latestVersion(trx, agreement);
      if (latest.status !== 'awaiting_approval') throw conflict('agreement_not_awaiting_approval', `Version ${latest.version} of ${reference} is not awaiting approval.`);
      const party = latest.terms.parties.find((candidate) => candidate.organisationId === actor.organisationId);
      const approver = party?.approvers.find((candidate) => candidate.role === role);
      if (!party || !approver || approver.userId !== actor.userId) {
        throw forbidden('not_named_approver', `You are not named as the ${APPROVER_ROLES[role].toLowerCase()} approving ${reference} for your organisation.`);
      }
      const since = latest.submittedAt ?? latest.createdAt;
      const previous = await repository.listApprovals(trx, latest.id, since);
      if (previous.some((record) => record.partyOrganisationId === party.organisationId && record.role === role)) {
        throw conflict('already_decided', `The ${APPROVER_ROLES[role].toLowerCase()} of your organisation has already decided on version ${latest.version}.`);
      }
      await repository.insertApproval(trx, {
        organisationId: agreement.organisationId,
        agreementId: agreement.id,
        versionId: latest.id,
        partyOrganisationId: party.organisationId,
        role,
        userId: actor.userId,
        decision,
        comment: comment.trim(),
        at: this.#clock(),
      });
      const notice = { reference, title: latest.terms.title, version: latest.version, recipientUserIds: approverIds(latest, actor.userId) };
      // The history names the person and their organisation, as the terms name them.
      const organisation = await trx.selectFrom('organisations').select('name').where('id', '=', party.organisationId).executeTakeFirst();
      const approverText = `${approver.name}, ${APPROVER_ROLES[role].toLowerCase()} of ${organisation?.name ?? 'a party'}`;
      if (decision === 'declined') {
        const status = await this.#returnToDraft(trx, actor, agreement, latest, `Declined by ${approverText}: ${comment.trim()}`);
        return { status, notice: { ...notice, kind: 'declined', decline: { by: approverText, comment: comment.trim() } } };
      }
      const pending = requiredApprovals(latest, [...previous, { partyOrganisationId: party.organisationId, role, decision }]).filter((item) => item.decision !== 'approved');
      await this.agreements.recordTransition(trx, actor, {
        organisationId: agreement.organisationId,
        agreementId: agreement.id,
        versionId: latest.id,
        from: agreement.status,
        to: agreement.status,
        reason: `Approved by ${approverText}${comment.trim() ? `: ${comment.trim()}` : ''}`,
      });
      if (pending.length > 0) return { status: agreement.status, notice: null };
      return { status: await this.#bringIntoForce(trx, actor, agreement, latest), notice: { ...notice, kind: 'in_force' } };
    });
    await this.#notify(outcome.notice);
    return outcome.status;
  }

  async #bringIntoForce(trx: Kysely<DB>, actor: Actor, agreement: AgreementSummary, version: AgreementVersion): Promise<AgreementStatus> {
    const now = this.#clock();
    if (agreement.versionInForceId) await repository.setVersionStatus(trx, agreement.versionInForceId, 'superseded', now);
    await repository.setVersionStatus(trx, version.id, 'approved', now);
    // A suspension stays in place across an amendment. Otherwise the new version makes the agreement active again,
    // unless its dates passed while it awaited approval, when it takes the status the daily check would give it.
    const state = dateState(version.terms, now);
    let to: AgreementStatus = 'active';
    let reason = `Version ${version.version} approved by every party and in force`;
    if (agreement.status === 'suspended') {
      to = 'suspended';
    } else if (state === 'expired') {
      to = 'expired';
      reason = `Version ${version.version} approved by every party, but its end date ${version.terms.endDate} has passed`;
    } else if (state === 'review_overdue') {
      to = 'lapsed_review';
      reason = `Version ${version.version} approved by every party, but its review date ${version.terms.reviewDate} has passed`;
    }
    await repository.updateAgreement(trx, agreement.id, { status: to, versionInForceId: version.id, title: version.terms.title });
    await this.agreements.recordTransition(trx, actor, {
      organisationId: agreement.organisationId,
      agreementId: agreement.id,
      versionId: version.id,
      from: agreement.status,
      to,
      reason,
    });
    await queueAgreementEvent(trx, {
      organisationId: agreement.organisationId,
      agreementId: agreement.id,
      type: 'agreement.version_in_force',
      details: { reference: agreement.reference, version: version.version, status: to },
    });
    return to;
  }

  async #returnToDraft(trx: Kysely<DB>, actor: Actor, agreement: AgreementSummary, version: AgreementVersion, reason: string): Promise<AgreementStatus> {
    await repository.setVersionStatus(trx, version.id, 'draft', this.#clock());
    const to: AgreementStatus = agreement.versionInForceId === null ? 'draft' : agreement.status;
    if (to !== agreement.status) await repository.updateAgreement(trx, agreement.id, { status: to });
    await this.agreements.recordTransition(trx, actor, { organisationId: agreement.organisationId, agreementId: agreement.id, versionId: version.id, from: agreement.status, to, reason });
    return to;
  }

  /** Suspends releases under an active agreement; any party's data protection officer or SIRO may (see statusChangeRefusal). */
  async suspend(actor: Actor, reference: string, reason: string): Promise<void> {
    await this.#changeStatus(actor, reference, reason, { change: 'suspend', from: ['active', 'lapsed_review'], to: 'suspended' });
  }

  /** Lifts a suspension; only the approvers named for the provider may. */
  async resume(actor: Actor, reference: string, reason: string): Promise<void> {
    await this.#changeStatus(actor, reference, reason, { change: 'resume', from: ['suspended'], to: 'active' });
  }

  /** Ends the agreement for good; only the approvers named for the provider may. */
  async terminate(actor: Actor, reference: string, reason: string): Promise<void> {
    await this.#changeStatus(actor, reference, reason, {
      change: 'terminate',
      from: ['draft', 'awaiting_approval', 'active', 'suspended', 'expired', 'lapsed_review'],
      to: 'terminated',
    });
  }

  async #changeStatus(actor: Actor, reference: string, reason: string, rule: { change: StatusChange; from: AgreementStatus[]; to: AgreementStatus }): Promise<void> {
    if (reason.trim() === '') throw validationError('reason_required', 'Enter the reason', [{ field: 'reason', message: 'Enter the reason' }]);
    await withOrganisation(this.agreements.db.app, actor.organisationId, async (trx) => {
      const agreement = await repository.findAgreementByReference(trx, reference);
      const isParty = agreement && (agreement.organisationId === actor.organisationId || (await isPartyTo(trx, agreement.id, actor.organisationId)));
      if (!agreement || !isParty) throw notFound('agreement_not_found', `No agreement with the reference ${reference} names your organisation.`);
      const versions = await repository.listVersions(trx, agreement.id);
      const governing = versions.find((version) => version.id === agreement.versionInForceId) ?? currentVersion(versions);
      const refusal = statusChangeRefusal(rule.change, actor, agreement, governing.terms);
      if (refusal) throw refusal;
      if (!rule.from.includes(agreement.status)) {
        throw conflict('agreement_status', `${reference} is ${agreement.status.replace('_', ' ')}, so it cannot become ${rule.to.replace('_', ' ')}.`);
      }
      await setOrganisation(trx, agreement.organisationId);
      await this.#transition(trx, actor, agreement, rule.to, reason.trim());
    });
  }

  async #transition(trx: Kysely<DB>, actor: Actor | null, agreement: AgreementSummary, to: AgreementStatus, reason: string): Promise<void> {
    await repository.updateAgreement(trx, agreement.id, { status: to });
    await this.agreements.recordTransition(trx, actor, {
      organisationId: agreement.organisationId,
      agreementId: agreement.id,
      versionId: agreement.versionInForceId,
      from: agreement.status,
      to,
      reason,
    });
    await queueAgreementEvent(trx, {
      organisationId: agreement.organisationId,
      agreementId: agreement.id,
      type: 'agreement.status_changed',
      details: { reference: agreement.reference, from: agreement.status, to },
    });
  }

  /**
   * Runs the daily check: expires agreements past their end date, lapses those past their review date, and sends the
   * review reminder from three months before the review date. Runs in the platform scope as the system.
   */
  async runDailyCheck(): Promise<{ expired: number; lapsed: number; reminded: number }> {
    const now = this.#clock();
    const today = londonDate(now);
    const counts = { expired: 0, lapsed: 0, reminded: 0 };
    const reminders: ReviewReminder[] = [];
    await this.agreements.db.app.transaction().execute(async (trx) => {
      await setPlatformScope(trx);
      for (const agreement of await repository.listActiveWithDates(trx)) {
        if (today > agreement.endDate) {
          await this.#transition(trx, null, agreement, 'expired', `The end date ${agreement.endDate} has passed`);
          counts.expired += 1;
          continue;
        }
        if (today > agreement.reviewDate && agreement.status === 'active') {
          await this.#transition(trx, null, agreement, 'lapsed_review', `The review date ${agreement.reviewDate} has passed without a reviewed version`);
          counts.lapsed += 1;
        }
        if (reviewReminderDue(agreement.reviewDate, now) && agreement.reviewReminderSentFor !== agreement.reviewDate) {
          const versions = await repository.listVersions(trx, agreement.id);
          const inForce = versions.find((version) => version.id === agreement.versionInForceId)!;
          await repository.updateAgreement(trx, agreement.id, { reviewReminderSentFor: agreement.reviewDate });
          await queueAgreementEvent(trx, {
            organisationId: agreement.organisationId,
            agreementId: agreement.id,
            type: 'agreement.review_due',
            details: { reference: agreement.reference, review_date: agreement.reviewDate },
          });
          reminders.push({
            agreementId: agreement.id,
            reference: agreement.reference,
            title: agreement.title,
            reviewDate: agreement.reviewDate,
            approverUserIds: inForce.terms.parties.flatMap((party) => party.approvers.map((approver) => approver.userId)),
          });
          counts.reminded += 1;
        }
      }
    });
    for (const reminder of reminders) {
      if (!this.sendReminder) break;
      try {
        await this.sendReminder(reminder);
      } catch (error) {
        this.logger.error({ err: error, agreementId: reminder.agreementId }, 'review reminder email failed');
      }
    }
    if (counts.expired + counts.lapsed + counts.reminded > 0) this.logger.info({ ...counts }, 'agreement daily check changed agreements');
    return counts;
  }

  /** Every approval the latest version needs, with the decisions made since its submission. */
  async approvalsFor(organisationId: string, reference: string): Promise<RequiredApproval[]> {
    return withOrganisation(this.agreements.db.app, organisationId, async (trx) => {
      const agreement = await repository.findAgreementByReference(trx, reference);
      if (!agreement) throw notFound('agreement_not_found', `No agreement has the reference ${reference}.`);
      const latest = await latestVersion(trx, agreement);
      const decisions = latest.submittedAt ? await repository.listApprovals(trx, latest.id, latest.submittedAt) : [];
      return requiredApprovals(latest, decisions);
    });
  }

  async #asOwner<T>(actor: Actor, reference: string, work: (trx: Kysely<DB>, agreement: AgreementSummary) => Promise<T>): Promise<T> {
    return withOrganisation(this.agreements.db.app, actor.organisationId, async (trx) => {
      const agreement = await repository.findAgreementByReference(trx, reference);
      if (!agreement || agreement.organisationId !== actor.organisationId) {
        throw notFound('agreement_not_found', `Your organisation provides no agreement with the reference ${reference}.`);
      }
      return work(trx, agreement);
    });
  }
}

async function latestVersion(trx: Kysely<DB>, agreement: AgreementSummary): Promise<AgreementVersion> {
  const versions = await repository.listVersions(trx, agreement.id);
  return currentVersion(versions);
}

async function isPartyTo(trx: Kysely<DB>, agreementId: string, organisationId: string): Promise<boolean> {
  const row = await trx
    .selectFrom('agreement_parties')
    .select('agreement_id')
    .where('agreement_id', '=', agreementId)
    .where('party_organisation_id', '=', organisationId)
    .executeTakeFirst();
  return row !== undefined;
}

/** Pairs each named approver with the latest decision of that party and role. */
export function requiredApprovals(
  version: AgreementVersion,
  decisions: Array<{ partyOrganisationId: string; role: string; decision: 'approved' | 'declined'; comment?: string }>,
): RequiredApproval[] {
  return version.terms.parties.flatMap((party) =>
    party.approvers.map((approver) => {
      const latest = decisions.filter((record) => record.partyOrganisationId === party.organisationId && record.role === approver.role).at(-1);
      return {
        partyOrganisationId: party.organisationId,
        role: approver.role,
        userId: approver.userId,
        name: approver.name,
        decision: latest?.decision ?? null,
        comment: latest?.comment ?? null,
      };
    }),
  );
}
