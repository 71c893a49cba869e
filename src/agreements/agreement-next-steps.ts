import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import { hasRole } from '../http/auth.ts';
import { STATUS_LABELS, type PartyView } from './agreement-access.ts';

/** Actions the signed-in member may take on an agreement's pages now, given the agreement's state and their roles. */
export interface PageAbilities {
  edit: boolean;
  submit: boolean;
  discard: boolean;
  withdraw: boolean;
  amend: boolean;
  review: boolean;
  suspend: boolean;
  resume: boolean;
  terminate: boolean;
}

/** A link on a web page to where the member can take the next step. */
export interface NextStep {
  href: string;
  text: string;
}

/** The approvals of the version awaiting approval that the signed-in user is named for and has not yet decided. */
export function openApprovalsOf(view: PartyView, organisationId: string, userId: string) {
  if (view.detail.latest.status !== 'awaiting_approval') return [];
  return view.approvals.filter((approval) => approval.partyOrganisationId === organisationId && approval.userId === userId && approval.decision === null);
}

/**
 * Works out which actions to offer the member on the agreement's pages. Drafting steps are for the provider's data
 * stewards and data protection officers, and status changes for data protection officers, as the routes require.
 */
export function pageAbilities(request: FastifyRequest, view: PartyView): PageAbilities {
  const auth = request.auth!;
  const allowed = new Set(view.allowedActions);
  const drafting = view.isProvider && hasRole(auth, ['data_steward', 'data_protection_officer']);
  const overseeing = hasRole(auth, ['data_protection_officer']);
  return {
    edit: drafting && allowed.has('update'),
    submit: drafting && allowed.has('submit'),
    discard: drafting && allowed.has('discard'),
    withdraw: drafting && allowed.has('withdraw'),
    amend: drafting && allowed.has('amend'),
    review: openApprovalsOf(view, auth.organisationId!, auth.userId).length > 0,
    suspend: overseeing && allowed.has('suspend'),
    resume: overseeing && view.isProvider && allowed.has('resume'),
    terminate: overseeing && allowed.has('terminate'),
  };
}

/** Lists the steps the member can take now, in words, each linked to the page where they take it. */
export function nextSteps(view: PartyView, can: PageAbilities): NextStep[] {
  const { reference, latest } = view.detail;
  const base = `/agreements/${reference}`;
  const steps: NextStep[] = [];
  if (can.review) steps.push({ href: `${base}/review`, text: `Review version ${latest.version} and record your decision` });
  if (can.edit) steps.push({ href: `${base}/edit`, text: `Edit the draft of version ${latest.version}` });
  // Submitting, withdrawing and amending are buttons on the agreement's page, so those steps link there.
  if (can.submit) steps.push({ href: `${base}/manage`, text: `Submit version ${latest.version} for approval, from the agreement page` });
  if (can.discard) steps.push({ href: `${base}/discard`, text: `Discard the draft of version ${latest.version}` });
  if (can.withdraw) steps.push({ href: `${base}/manage`, text: `Withdraw version ${latest.version} to draft so it can be edited, from the agreement page` });
  if (can.amend) steps.push({ href: `${base}/manage`, text: 'Start an amendment, from the agreement page' });
  if (can.suspend) steps.push({ href: `${base}/suspend`, text: 'Suspend the agreement' });
  if (can.resume) steps.push({ href: `${base}/resume`, text: 'Resume the agreement' });
  if (can.terminate) steps.push({ href: `${base}/terminate`, text: 'Terminate the agreement' });
  return steps;
}

/** One sentence naming the agreement's status and any version in draft or awaiting approval, for web pages. */
export function stateInWords(view: PartyView): string {
  const { detail } = view;
  const status = `${detail.reference} is ${STATUS_LABELS[detail.status].toLowerCase()}.`;
  if (detail.latest.status === 'draft' && detail.status !== 'draft') return `${status} Version ${detail.latest.version} is in draft.`;
  if (detail.latest.status === 'awaiting_approval' && detail.status !== 'awaiting_approval') return `${status} Version ${detail.latest.version} is awaiting approval.`;
  return status;
}

/**
 * Runs a workflow step for a web page. A conflict with the agreement's state is shown as a page that explains, in words
 * and with links, what the member can do instead. The API keeps its own wording (see withStateOnConflict).
 * Returns true when it sent the conflict page, and false when the step ran.
 */
export async function stepOrConflictPage(request: FastifyRequest, reply: FastifyReply, view: PartyView, work: () => Promise<unknown>): Promise<boolean> {
  try {
    await work();
    return false;
  } catch (error) {
    if (!(error instanceof AppError) || error.kind !== 'conflict' || error.fields.length > 0) throw error;
    await conflictPage(request, reply, view, error);
    return true;
  }
}

/**
 * Sends the 409 page for a step the agreement's state does not allow, with the steps the member can take instead.
 * It resolves to nothing, because awaiting a sent Fastify reply (a thenable) yields undefined, not the reply.
 */
export async function conflictPage(request: FastifyRequest, reply: FastifyReply, view: PartyView, error: AppError): Promise<void> {
  request.log.info({ code: error.code, reference: view.detail.reference }, 'agreement step rejected by its state');
  const steps = nextSteps(view, pageAbilities(request, view));
  await reply.page('agreements/conflict.njk', { reference: view.detail.reference, message: error.message, state: stateInWords(view), steps }, 409);
}
