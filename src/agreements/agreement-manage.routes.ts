import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type FieldError } from '../errors.ts';
import { hasRole, requireApplication, requireMember, requireRole } from '../http/auth.ts';
import { formErrors } from '../http/forms.ts';
import type { Services } from '../services.ts';
import { actorFrom, listPartyAgreements, loadPartyView, requireProvider, STATUS_LABELS, type PartyView } from './agreement-access.ts';
import { openApprovalsOf, pageAbilities, stepOrConflictPage } from './agreement-next-steps.ts';
import { agreementDocument } from './agreement-document.ts';
import { APPROVER_ROLES } from './agreement.terms.ts';
import type { AgreementStatus, ApproverRole } from './agreements.tables.ts';
import { documentChanges } from './agreement-changes.ts';

type ReferenceRequest = FastifyRequest<{ Params: { reference: string } }>;

export const STATUS_TAG_CLASSES: Record<AgreementStatus, string> = {
  draft: 'govuk-tag--grey',
  awaiting_approval: 'govuk-tag--blue',
  active: 'govuk-tag--green',
  suspended: 'govuk-tag--orange',
  expired: 'govuk-tag--yellow',
  lapsed_review: 'govuk-tag--red',
  terminated: 'govuk-tag--red',
  discarded: 'govuk-tag--grey',
};

/** Confirmations shown on the agreement page after an action, keyed by the `done` query parameter. */
const NOTICES: Record<string, string> = {
  saved: 'The draft has been saved.',
  submitted: 'The draft has been submitted for approval. Each approver can now review it.',
  withdrawn: 'The version has been withdrawn to draft, so it can be edited.',
  amended: 'An amendment has been started as a new draft version. The version in force stays in force until the amendment is approved.',
  approved: 'Your approval has been recorded.',
  declined: 'Your decision to decline has been recorded, and the version has returned to draft.',
  suspended: 'The agreement has been suspended. No data is released under it until it is resumed.',
  resumed: 'The agreement has been resumed.',
  terminated: 'The agreement has been terminated.',
  discarded: 'The draft has been discarded. The version in force, if any, stays in force.',
};

/** Confirmations shown on the list of agreements, keyed by the `done` query parameter. */
const LIST_NOTICES: Record<string, string> = {
  discarded: 'The draft agreement has been discarded. It is no longer listed, and its history is kept.',
};

const STATUS_ACTIONS = {
  suspend: { title: 'Suspend', done: 'suspended', hint: 'No data is released under the agreement while it is suspended. Parties with a webhook subscription are notified.' },
  resume: { title: 'Resume', done: 'resumed', hint: 'Releases start again under the version in force. Only the provider can resume.' },
  terminate: { title: 'Terminate', done: 'terminated', hint: 'Terminating ends the agreement for good. It cannot be undone.' },
} as const;

function text(body: unknown, name: string): string {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : '';
}

/**
 * Returns the page for an approver named in the latest version who has nothing to decide now: the version is not
 * awaiting approval, or they have already decided. Returns null for anyone else.
 */
function nothingToReviewPage(view: PartyView, organisationId: string, userId: string) {
  const { reference, latest } = view.detail;
  const mine = view.approvals.filter((approval) => approval.partyOrganisationId === organisationId && approval.userId === userId);
  const named = latest.terms.parties.some((party) => party.organisationId === organisationId && party.approvers.some((approver) => approver.userId === userId));
  if (!named) return null;
  const link = { href: `/agreements/${reference}/manage`, text: `Go to ${reference}` };
  if (latest.status === 'draft') {
    return { title: 'Nothing to review yet', paragraphs: [`Version ${latest.version} of ${reference} is a draft that has not been submitted for approval. You can review it once the provider submits it.`], link };
  }
  if (latest.status !== 'awaiting_approval') {
    return { title: 'Nothing to review', paragraphs: [`Version ${latest.version} of ${reference} is no longer awaiting approval, so there is no decision to make on it.`], link };
  }
  if (mine.length === 0 || mine.some((approval) => approval.decision === null)) return null;
  return { title: 'You have already decided', paragraphs: [`Your decision on version ${latest.version} of ${reference} is recorded. The agreement page shows every approver's decision.`], link };
}

/**
 * Registers the pages where parties manage agreements: their list with status tags, each agreement with its versions, approvals
 * and history, the approver's review page, and the confirmation pages for suspending, resuming and terminating.
 */
export async function agreementManageRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const { agreements, workflow } = services.exchange;
  // Managing agreements is part of the Secure data exchange application, so every page also needs it enabled.
  const exchangeEnabled = requireApplication('exchange');
  const member = [requireMember(), exchangeEnabled];
  const drafter = [requireRole('data_steward', 'data_protection_officer'), exchangeEnabled];
  const overseer = [requireRole('data_protection_officer'), exchangeEnabled];
  const partyView = (request: ReferenceRequest) => loadPartyView(agreements, request.auth!.organisationId!, request.params.reference);
  const manageUrl = (reference: string, done: string) => `/agreements/${reference}/manage?done=${done}`;

  app.get<{ Querystring: { done?: string } }>('/agreements/manage', { preHandler: member }, async (request, reply) => {
    const auth = request.auth!;
    const rows = await listPartyAgreements(agreements, auth.organisationId!);
    return reply.page('agreements/manage.njk', {
      notice: LIST_NOTICES[request.query.done ?? ''] ?? null,
      canDraft: hasRole(auth, ['data_steward', 'data_protection_officer']),
      agreements: rows.map((row) => ({
        reference: row.summary.reference,
        title: row.summary.title,
        provider: row.providerName,
        role: row.isProvider ? 'Provider' : 'Recipient',
        statusLabel: STATUS_LABELS[row.summary.status],
        statusClass: STATUS_TAG_CLASSES[row.summary.status],
        pending: row.latest.status === 'draft' || row.latest.status === 'awaiting_approval' ? `Version ${row.latest.version} ${row.latest.status === 'draft' ? 'in draft' : 'awaiting approval'}` : '',
      })),
    });
  });

  app.get<{ Params: { reference: string }; Querystring: { done?: string } }>('/agreements/:reference/manage', { preHandler: member }, async (request, reply) => {
    const view = await partyView(request);
    const { detail } = view;
    const name = (id: string) => detail.organisationNames[id] ?? 'Unknown organisation';
    return reply.page('agreements/agreement.njk', {
      csrfToken: services.accounts.csrf.tokenFor(request, reply),
      notice: NOTICES[request.query.done ?? ''] ?? null,
      reference: detail.reference,
      title: detail.title,
      statusLabel: STATUS_LABELS[detail.status],
      statusClass: STATUS_TAG_CLASSES[detail.status],
      inForceVersion: detail.inForce?.version ?? null,
      latest: detail.latest,
      latestDocument: agreementDocument(detail, detail.latest),
      approvals: view.approvals.map((approval) => ({ ...approval, party: name(approval.partyOrganisationId), roleLabel: APPROVER_ROLES[approval.role as ApproverRole] })),
      transitions: view.transitions,
      can: pageAbilities(request, view),
    });
  });

  const providerStep = (action: 'submit' | 'withdraw' | 'amend', done: string) =>
    app.post<{ Params: { reference: string } }>(`/agreements/:reference/${action}`, { preHandler: drafter }, async (request, reply) => {
      const view = await partyView(request);
      requireProvider(view, action);
      const actor = actorFrom(request);
      const reference = view.detail.reference;
      try {
        const conflictSent = await stepOrConflictPage(request, reply, view, async () => {
          if (action === 'submit') await workflow.submit(actor, reference);
          else if (action === 'withdraw') await workflow.withdraw(actor, reference, '');
          else await agreements.amend(actor, reference);
        });
        if (conflictSent) return reply;
      } catch (error) {
        // The submit button has no fields of its own, so the problems with the draft are listed with a link to edit it.
        if (!(error instanceof AppError) || error.kind !== 'validation' || error.fields.length === 0) throw error;
        return reply.page(
          'accounts/message.njk',
          {
            title: `Version ${view.detail.latest.version} of ${reference} cannot be submitted yet`,
            paragraphs: [error.message, ...error.fields.map((field) => `${field.message}.`)],
            link: { href: `/agreements/${reference}/edit`, text: 'Edit the draft' },
          },
          400,
        );
      }
      return reply.redirect(action === 'amend' ? `/agreements/${reference}/edit` : manageUrl(reference, done), 303);
    });
  providerStep('submit', 'submitted');
  providerStep('withdraw', 'withdrawn');
  providerStep('amend', 'amended');

  const reviewPage = async (request: ReferenceRequest, reply: FastifyReply, view: PartyView, values: Record<string, string>, errors: FieldError[]) => {
    const auth = request.auth!;
    const open = openApprovalsOf(view, auth.organisationId!, auth.userId);
    if (open.length === 0) {
      const nothingToReview = nothingToReviewPage(view, auth.organisationId!, auth.userId);
      if (nothingToReview !== null) return reply.page('accounts/message.njk', nothingToReview, 409);
      throw new AppError('forbidden', 'not_named_approver', `You have no decision to make on ${view.detail.reference}. Only the approvers named for your organisation in the version awaiting approval can review it.`);
    }
    return reply.page(
      'agreements/review.njk',
      {
        ...formErrors(errors, { decision: 'decision', role: 'role' }),
        csrfToken: services.accounts.csrf.tokenFor(request, reply),
        values,
        reference: view.detail.reference,
        version: view.detail.latest.version,
        document: agreementDocument(view.detail, view.detail.latest),
        // An amendment shows what it changes against the version in force.
        inForceVersion: view.detail.inForce?.version ?? null,
        changes: view.detail.inForce ? documentChanges(agreementDocument(view.detail, view.detail.inForce), agreementDocument(view.detail, view.detail.latest)) : null,
        roleItems: open.map((approval) => ({ value: approval.role, text: APPROVER_ROLES[approval.role as ApproverRole], checked: values.role === approval.role })),
        singleRole: open.length === 1 ? open[0]!.role : null,
      },
      errors.length > 0 ? 400 : 200,
    );
  };

  app.get<{ Params: { reference: string } }>('/agreements/:reference/review', { preHandler: overseer }, async (request, reply) => reviewPage(request, reply, await partyView(request), {}, []));

  app.post<{ Params: { reference: string } }>('/agreements/:reference/review', { preHandler: overseer }, async (request, reply) => {
    const view = await partyView(request);
    const values = { decision: text(request.body, 'decision'), comment: text(request.body, 'comment'), role: text(request.body, 'role') };
    const errors: FieldError[] = [];
    if (values.decision !== 'approved' && values.decision !== 'declined') errors.push({ field: 'decision', message: 'Select whether you approve or decline this version' });
    if (!(values.role in APPROVER_ROLES)) errors.push({ field: 'role', message: 'Select the role you are deciding as' });
    if (values.decision === 'declined' && values.comment.trim() === '') errors.push({ field: 'comment', message: 'Enter the reason for declining' });
    if (errors.length > 0) return reviewPage(request, reply, view, values, errors);
    try {
      const conflictSent = await stepOrConflictPage(request, reply, view, () =>
        workflow.decide(actorFrom(request), view.detail.reference, values.role as ApproverRole, values.decision as 'approved' | 'declined', values.comment),
      );
      if (conflictSent) return reply;
    } catch (error) {
      if (error instanceof AppError && error.kind === 'validation' && error.fields.length > 0) return reviewPage(request, reply, view, values, error.fields);
      throw error;
    }
    return reply.redirect(manageUrl(view.detail.reference, values.decision), 303);
  });

  for (const [action, labels] of Object.entries(STATUS_ACTIONS) as Array<[keyof typeof STATUS_ACTIONS, (typeof STATUS_ACTIONS)[keyof typeof STATUS_ACTIONS]]>) {
    const statusPage = (request: ReferenceRequest, reply: FastifyReply, view: PartyView, reason: string, errors: FieldError[]) =>
      reply.page(
        'agreements/status-change.njk',
        { ...formErrors(errors), csrfToken: services.accounts.csrf.tokenFor(request, reply), reference: view.detail.reference, title: view.detail.title, action, labels, reason },
        errors.length > 0 ? 400 : 200,
      );

    app.get<{ Params: { reference: string } }>(`/agreements/:reference/${action}`, { preHandler: overseer }, async (request, reply) => statusPage(request, reply, await partyView(request), '', []));

    app.post<{ Params: { reference: string } }>(`/agreements/:reference/${action}`, { preHandler: overseer }, async (request, reply) => {
      const view = await partyView(request);
      const reason = text(request.body, 'reason');
      try {
        const conflictSent = await stepOrConflictPage(request, reply, view, () => workflow[action](actorFrom(request), view.detail.reference, reason));
        if (conflictSent) return reply;
      } catch (error) {
        if (error instanceof AppError && error.kind === 'validation' && error.fields.length > 0) return statusPage(request, reply, view, reason, error.fields);
        throw error;
      }
      return reply.redirect(manageUrl(view.detail.reference, labels.done), 303);
    });
  }
}
