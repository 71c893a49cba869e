import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { withOrganisation } from '../db/tenant.ts';
import { AppError, forbidden, notFound } from '../errors.ts';
import * as repository from './agreement.repository.ts';
import { currentVersion } from './agreement-versions.ts';
import type { AgreementService } from './agreement.service.ts';
import { requiredApprovals } from './agreement.workflow.ts';
import type { Actor, AgreementDetail, AgreementSummary, AgreementVersion, RequiredApproval, TransitionRecord } from './agreement.types.ts';
import type { AgreementStatus, VersionStatus } from './agreements.tables.ts';

/** Actions on an agreement, as the API paths and the web pages name them. */
export type AgreementAction = 'update' | 'submit' | 'discard' | 'withdraw' | 'approve' | 'decline' | 'amend' | 'suspend' | 'resume' | 'terminate';

export const STATUS_LABELS: Record<AgreementStatus, string> = {
  draft: 'Draft',
  awaiting_approval: 'Awaiting approval',
  active: 'Active',
  suspended: 'Suspended',
  expired: 'Expired',
  lapsed_review: 'Review overdue',
  terminated: 'Terminated',
  discarded: 'Discarded',
};

/** Everything a party may see about one agreement: all versions, the approvals of the latest and every transition. */
export interface PartyView {
  detail: AgreementDetail;
  isProvider: boolean;
  approvals: RequiredApproval[];
  transitions: TransitionRecord[];
  allowedActions: AgreementAction[];
}

/** The workflow actor for a signed-in member or an API token. */
export function actorFrom(request: FastifyRequest): Actor {
  const auth = request.auth!;
  return { userId: auth.userId, organisationId: auth.organisationId!, roles: auth.roles, kind: auth.via === 'token' ? 'token' : 'user', requestId: request.id };
}

/**
 * The actions the workflow accepts for an agreement in `status` whose newest version is in `latestStatus`, whoever
 * asks. A change of terms goes through a draft version, so amending waits until no draft or submission is open.
 */
export function allowedActions(status: AgreementStatus, latestStatus: VersionStatus): AgreementAction[] {
  if (status === 'terminated' || status === 'discarded') return [];
  const actions: AgreementAction[] = [];
  if (latestStatus === 'draft') actions.push('update', 'submit', 'discard');
  else if (latestStatus === 'awaiting_approval') actions.push('approve', 'decline', 'withdraw');
  else actions.push('amend');
  if (status === 'active' || status === 'lapsed_review') actions.push('suspend');
  if (status === 'suspended') actions.push('resume');
  actions.push('terminate');
  return actions;
}

async function isParty(trx: Kysely<DB>, agreementId: string, organisationId: string): Promise<boolean> {
  const row = await trx
    .selectFrom('agreement_parties')
    .select('agreement_id')
    .where('agreement_id', '=', agreementId)
    .where('party_organisation_id', '=', organisationId)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Loads an agreement for one of its parties. An organisation that is party to no version of it gets 404, the same as
 * for a reference that does not exist, so the API never confirms that someone else's agreement exists.
 */
export async function loadPartyView(agreements: AgreementService, organisationId: string, reference: string): Promise<PartyView> {
  return withOrganisation(agreements.db.app, organisationId, async (trx) => {
    const agreement = await repository.findAgreementByReference(trx, reference);
    const party = agreement !== null && (agreement.organisationId === organisationId || (await isParty(trx, agreement.id, organisationId)));
    if (!agreement || !party) throw notFound('agreement_not_found', `Your organisation is party to no agreement with the reference ${reference}. Check the reference.`);
    const detail = await agreements.loadDetail(trx, agreement, organisationId);
    const latest = detail.latest;
    const decisions = latest.submittedAt ? await repository.listApprovals(trx, latest.id, latest.submittedAt) : [];
    return {
      detail,
      isProvider: agreement.organisationId === organisationId,
      approvals: requiredApprovals(latest, decisions),
      transitions: await repository.listTransitions(trx, agreement.id),
      allowedActions: allowedActions(agreement.status, latest.status),
    };
  });
}

/** One row of an organisation's agreements list. */
export interface PartyAgreement {
  summary: AgreementSummary;
  latest: AgreementVersion;
  inForceVersion: number | null;
  providerName: string;
  isProvider: boolean;
  allowedActions: AgreementAction[];
}

/** The agreements an organisation provides or is party to, by reference, with each provider's name. */
export async function listPartyAgreements(agreements: AgreementService, organisationId: string): Promise<PartyAgreement[]> {
  return withOrganisation(agreements.db.app, organisationId, async (trx) => {
    const summaries = await repository.listAgreements(trx, { partyOrganisationId: organisationId });
    const names = await repository.organisationNames(trx, [...new Set(summaries.map((summary) => summary.organisationId))]);
    const rows: PartyAgreement[] = [];
    for (const summary of summaries) {
      const versions = await repository.listVersions(trx, summary.id);
      const latest = currentVersion(versions);
      rows.push({
        summary,
        latest,
        inForceVersion: versions.find((version) => version.id === summary.versionInForceId)?.version ?? null,
        providerName: names[summary.organisationId] ?? 'Unknown organisation',
        isProvider: summary.organisationId === organisationId,
        allowedActions: allowedActions(summary.status, latest.status),
      });
    }
    return rows;
  });
}

/** Rejects a party that is not the provider from an action only the provider may take. */
export function requireProvider(view: PartyView, action: AgreementAction): void {
  if (!view.isProvider) {
    throw forbidden('agreement_not_provider', `Only the provider of ${view.detail.reference} can ${action} it. Ask the provider to do so.`);
  }
}

/** One sentence naming the agreement's state and the actions it allows now, for conflict messages. */
export function stateSentence(view: PartyView): string {
  const { detail } = view;
  const pending = detail.latest.status === 'draft' || detail.latest.status === 'awaiting_approval' ? ` Version ${detail.latest.version} is ${detail.latest.status.replace('_', ' ')}.` : '';
  const allowed = view.allowedActions.length > 0 ? `Allowed now: ${view.allowedActions.join(', ')}.` : 'No action is allowed on it now.';
  return `${detail.reference} is ${STATUS_LABELS[detail.status].toLowerCase()}.${pending} ${allowed}`;
}

/**
 * Runs a workflow step, adding the agreement's state and allowed actions to a conflict, so a client that is out of
 * date learns what it can do instead.
 */
export async function withStateOnConflict<T>(view: PartyView, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof AppError && error.kind === 'conflict' && error.fields.length === 0) {
      throw new AppError('conflict', error.code, `${error.message} ${stateSentence(view)}`, { cause: error });
    }
    throw error;
  }
}
