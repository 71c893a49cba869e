// Brings the OpenAPI route schema keys (tags, summary, security) into Fastify's schema type.
import type {} from '@fastify/swagger';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ErrorResponse } from '../api-v1/api-v1.schemas.ts';
import { AppError, conflict, forbidden, validationError, type FieldError } from '../errors.ts';
import { requireApplication, requireMember } from '../http/auth.ts';
import type { Services } from '../services.ts';
import { listApproverCandidates } from './agreement-approvers.ts';
import { actorFrom, listPartyAgreements, loadPartyView, requireProvider, withStateOnConflict, type PartyView } from './agreement-access.ts';
import { AgreementDetailBody, AgreementList, AmendBody, ApproverCandidates, CommentBody, CreateBody, DecisionBody, DiscardBody, ReasonBody, ReferenceParams, TermsBody } from './agreement-api.schemas.ts';
import { agreementDetailBody, agreementSummaryBody } from './agreement-api.bodies.ts';
import { draftInputErrors, withProvider } from './agreement-drafting.ts';
import { APPROVER_ROLES } from './agreement.terms.ts';
import type { ApproverRole } from './agreements.tables.ts';

const TAGS = ['Agreements'];
const SECURITY = [{ bearerAuth: [] }];
const ERRORS = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse };

type Body = Record<string, unknown>;

function bodyOf(request: FastifyRequest): Body {
  const body = request.body;
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Body) : {};
}

/** One Ajv error, as Fastify attaches it to the request. */
interface SchemaProblem {
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

/** Turns Ajv's first schema error into a field error, naming the field as the terms errors do (`terms.parties[0].approvers`). */
function schemaErrors(request: FastifyRequest): FieldError[] {
  const validation: SchemaProblem[] = request.validationError?.validation ?? [];
  return validation.map((problem) => {
    const segments = problem.instancePath.split('/').filter((segment) => segment !== '');
    const missing = (problem.params as { missingProperty?: string }).missingProperty;
    if (missing) segments.push(missing);
    let field = '';
    for (const segment of segments) {
      if (/^\d+$/.test(segment)) field += `[${segment}]`;
      else field += field === '' ? segment : `.${segment}`;
    }
    if (field === '') field = 'body';
    return { field, message: missing ? `Enter ${field}` : `${field} ${problem.message ?? 'is not valid'}` };
  });
}

/**
 * Names a field of the terms as the request body nests it (`parties[0]` becomes `terms.parties[0]`). The reference sits
 * beside the terms, and `terms` itself names the whole object when it is missing or not an object.
 */
function bodyField(field: string): string {
  return field === 'reference' || field === 'terms' ? field : `terms.${field}`;
}

/**
 * Throws one 400 with every problem, keeping one message per field. The terms checks come first because their messages
 * name what to enter, while a schema message names only the failed pattern. Terms fields are named under `terms.`.
 */
function rejectProblems(termsErrors: FieldError[], schemaProblems: FieldError[]): void {
  const named = termsErrors.map((error) => ({ ...error, field: bodyField(error.field) }));
  const all: FieldError[] = [];
  for (const error of [...named, ...schemaProblems]) if (!all.some((seen) => seen.field === error.field)) all.push(error);
  if (all.length > 0) throw validationError('agreement_invalid', 'The agreement has problems. Correct them and try again.', all);
}

/** Throws a 400 naming the field when the body does not match the route's schema. */
function rejectSchemaErrors(request: FastifyRequest): void {
  const errors = schemaErrors(request);
  if (errors.length > 0) throw validationError('invalid_request', `The request body is not valid: ${errors[0]!.message}.`, errors);
}

/** Runs a service call that takes terms, naming its field errors under `terms.` as the request body does. */
async function withTermsFields<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof AppError && error.kind === 'validation' && error.fields.length > 0) {
      const fields = error.fields.map((field) => ({ ...field, field: bodyField(field.field) }));
      throw new AppError('validation', error.code, error.message, { fields, cause: error });
    }
    throw error;
  }
}

function textField(body: Body, name: string): string {
  const value = body[name];
  return typeof value === 'string' ? value : '';
}

/**
 * Picks the approval the caller makes: the role given, or else the one open approval their organisation named them
 * for. A caller named for both roles must name the role.
 */
function approverRole(view: PartyView, organisationId: string, userId: string, given: unknown): ApproverRole {
  const { reference, latest } = view.detail;
  if (latest.status !== 'awaiting_approval') {
    throw conflict('agreement_not_awaiting_approval', `Version ${latest.version} of ${reference} is not awaiting approval.`);
  }
  if (given !== undefined && given !== '') {
    if (typeof given !== 'string' || !(given in APPROVER_ROLES)) {
      throw validationError('invalid_role', `"${String(given)}" is not an approver role. Use data_protection_officer or senior_information_risk_owner.`, [{ field: 'role', message: 'Use data_protection_officer or senior_information_risk_owner' }]);
    }
    return given as ApproverRole;
  }
  const open = view.approvals.filter((approval) => approval.partyOrganisationId === organisationId && approval.userId === userId && approval.decision === null);
  if (open.length === 0) throw forbidden('not_named_approver', `You are not named as an approver of version ${latest.version} of ${reference} with a decision still to make.`);
  if (open.length > 1) {
    throw validationError('role_required', 'You are named for more than one approval. Send the role you are deciding as.', [{ field: 'role', message: 'Enter data_protection_officer or senior_information_risk_owner' }]);
  }
  return open[0]!.role as ApproverRole;
}

/**
 * The agreements API under /api/v1/agreements: drafting, submission, approval, amendment and status changes, for a
 * bearer token with the write scope or a signed-in member. Listing and reading also accept a token with the read
 * scope. Every route returns 404 to an organisation that is not party to the agreement, 400 naming each field at
 * fault, and 409 naming the agreement's state and allowed actions.
 */
export async function agreementApiRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const { agreements, workflow } = services.exchange;
  const publicUrl = services.config.publicUrl;
  // Agreements belong to the Secure data exchange application, so every route also needs it enabled.
  const exchangeEnabled = requireApplication('exchange');
  // Reading needs the read scope; a token that may change agreements may also read them.
  const reader = [requireMember({ scope: ['read', 'write'] }), exchangeEnabled];
  const drafter = [requireMember({ roles: ['data_steward', 'data_protection_officer'], scope: 'write' }), exchangeEnabled];
  // Approvers, and those who suspend or terminate, are data protection officers or administrators (who hold every role).
  const overseer = [requireMember({ roles: ['data_protection_officer'], scope: 'write' }), exchangeEnabled];
  const partyView = (request: FastifyRequest<{ Params: ReferenceParams }>) => loadPartyView(agreements, request.auth!.organisationId!, request.params.reference);
  const detail = async (request: FastifyRequest<{ Params: ReferenceParams }>) => agreementDetailBody(await partyView(request), publicUrl);

  app.get('/api/v1/agreements', {
    preHandler: reader,
    schema: { tags: TAGS, summary: 'List the agreements your organisation is party to', security: SECURITY, response: { 200: AgreementList, 401: ErrorResponse, 403: ErrorResponse } },
  }, async (request) => ({ agreements: (await listPartyAgreements(agreements, request.auth!.organisationId!)).map((row) => agreementSummaryBody(row, publicUrl)) }));

  app.get('/api/v1/agreement-approvers', {
    preHandler: drafter,
    schema: {
      tags: TAGS,
      summary: 'List the people each organisation could name to approve an agreement',
      description: 'Terms name each party\'s approvers by user_id, and a drafter cannot otherwise see other organisations\' members. Lists active organisations with their data protection officers and administrators.',
      security: SECURITY,
      response: { 200: ApproverCandidates, 401: ErrorResponse, 403: ErrorResponse },
    },
  }, async () => {
    const { organisations, candidates } = await listApproverCandidates(services.db);
    return {
      organisations: organisations.map((organisation) => ({
        id: organisation.id,
        name: organisation.name,
        approvers: candidates
          .filter((candidate) => candidate.organisationId === organisation.id)
          .map((candidate) => ({ user_id: candidate.userId, name: candidate.name, role: candidate.role })),
      })),
    };
  });

  app.post('/api/v1/agreements', {
    preHandler: drafter,
    attachValidation: true,
    schema: {
      tags: TAGS,
      summary: 'Draft an agreement, with your organisation as provider',
      description: 'Creates the agreement with version 1 as a draft. Every problem with the terms is listed in error.fields.',
      security: SECURITY,
      body: CreateBody,
      response: { 201: AgreementDetailBody, ...ERRORS },
    },
  }, async (request, reply) => {
    const actor = actorFrom(request);
    const body = bodyOf(request);
    const reference = textField(body, 'reference');
    const terms = withProvider(body.terms, actor.organisationId);
    rejectProblems(await draftInputErrors(services.db, actor, reference, terms), schemaErrors(request));
    await withTermsFields(() => agreements.createDraft(actor, reference, terms));
    return reply.status(201).header('location', `/api/v1/agreements/${reference}`).send(agreementDetailBody(await loadPartyView(agreements, actor.organisationId, reference), publicUrl));
  });

  app.get<{ Params: ReferenceParams }>('/api/v1/agreements/:reference', {
    preHandler: reader,
    schema: { tags: TAGS, summary: 'Show an agreement with its versions, approvals and transitions', security: SECURITY, params: ReferenceParams, response: { 200: AgreementDetailBody, ...ERRORS } },
  }, async (request) => detail(request));

  app.put<{ Params: ReferenceParams }>('/api/v1/agreements/:reference/draft', {
    preHandler: drafter,
    attachValidation: true,
    schema: { tags: TAGS, summary: 'Replace the terms of the draft version', security: SECURITY, params: ReferenceParams, body: TermsBody, response: { 200: AgreementDetailBody, ...ERRORS } },
  }, async (request) => {
    const view = await partyView(request);
    requireProvider(view, 'update');
    const actor = actorFrom(request);
    const terms = withProvider(bodyOf(request).terms, actor.organisationId);
    rejectProblems(await draftInputErrors(services.db, actor, null, terms), schemaErrors(request));
    await withStateOnConflict(view, () => withTermsFields(() => agreements.updateDraft(actor, request.params.reference, terms)));
    return detail(request);
  });

  app.post<{ Params: ReferenceParams }>('/api/v1/agreements/:reference/amend', {
    preHandler: drafter,
    attachValidation: true,
    schema: {
      tags: TAGS,
      summary: 'Start an amendment as a new draft version',
      description: 'The version in force stays in force until every approver has approved the new version.',
      security: SECURITY,
      params: ReferenceParams,
      body: AmendBody,
      response: { 201: AgreementDetailBody, ...ERRORS },
    },
  }, async (request, reply) => {
    const view = await partyView(request);
    requireProvider(view, 'amend');
    const actor = actorFrom(request);
    const given = bodyOf(request).terms;
    const terms = given === undefined ? undefined : withProvider(given, actor.organisationId);
    if (terms !== undefined) rejectProblems(await draftInputErrors(services.db, actor, null, terms), schemaErrors(request));
    await withStateOnConflict(view, () => withTermsFields(() => agreements.amend(actor, request.params.reference, terms)));
    return reply.status(201).send(await detail(request));
  });

  const providerStep = (path: string, summary: string, action: 'submit' | 'withdraw') =>
    app.post<{ Params: ReferenceParams }>(`/api/v1/agreements/:reference/${path}`, {
      preHandler: drafter,
      attachValidation: true,
      schema: { tags: TAGS, summary, security: SECURITY, params: ReferenceParams, body: CommentBody, response: { 200: AgreementDetailBody, ...ERRORS } },
    }, async (request) => {
      rejectSchemaErrors(request);
      const view = await partyView(request);
      requireProvider(view, action);
      const comment = textField(bodyOf(request), 'comment').trim();
      const actor = actorFrom(request);
      await withStateOnConflict(view, () => (action === 'submit' ? workflow.submit(actor, request.params.reference, comment) : workflow.withdraw(actor, request.params.reference, comment)));
      return detail(request);
    });
  providerStep('submit', 'Submit the draft version for approval by every named approver', 'submit');
  providerStep('withdraw', 'Withdraw the version awaiting approval back to draft', 'withdraw');

  app.post<{ Params: ReferenceParams }>('/api/v1/agreements/:reference/discard', {
    preHandler: drafter,
    attachValidation: true,
    schema: {
      tags: TAGS,
      summary: 'Discard the draft version, with an optional reason',
      description:
        'Discarding an amendment leaves the version in force in force. Discarding the first draft of an agreement that never came into force gives the agreement the status discarded and takes it off the list; its history is kept and its reference cannot be used again. A version awaiting approval must be withdrawn to draft first.',
      security: SECURITY,
      params: ReferenceParams,
      body: DiscardBody,
      response: { 200: AgreementDetailBody, ...ERRORS },
    },
  }, async (request) => {
    // A request with no body discards without a reason.
    if (request.body !== undefined && request.body !== null) rejectSchemaErrors(request);
    const view = await partyView(request);
    requireProvider(view, 'discard');
    const reason = textField(bodyOf(request), 'reason');
    await withStateOnConflict(view, () => agreements.discardDraft(actorFrom(request), request.params.reference, reason));
    return detail(request);
  });

  const decision = (path: string, summary: string, outcome: 'approved' | 'declined') =>
    app.post<{ Params: ReferenceParams }>(`/api/v1/agreements/:reference/${path}`, {
      preHandler: overseer,
      attachValidation: true,
      schema: {
        tags: TAGS,
        summary,
        description: 'Only the data protection officer or SIRO named for your organisation in the version awaiting approval can decide. The last approval brings the version into force.',
        security: SECURITY,
        params: ReferenceParams,
        body: DecisionBody,
        response: { 200: AgreementDetailBody, ...ERRORS },
      },
    }, async (request) => {
      rejectSchemaErrors(request);
      const view = await partyView(request);
      const actor = actorFrom(request);
      const body = bodyOf(request);
      await withStateOnConflict(view, async () => {
        const role = approverRole(view, actor.organisationId, actor.userId, body.role);
        await workflow.decide(actor, request.params.reference, role, outcome, textField(body, 'comment'));
      });
      return detail(request);
    });
  decision('approve', 'Approve the version awaiting approval', 'approved');
  decision('decline', 'Decline the version awaiting approval, with a comment', 'declined');

  const statusChange = (action: 'suspend' | 'resume' | 'terminate', summary: string) =>
    app.post<{ Params: ReferenceParams }>(`/api/v1/agreements/:reference/${action}`, {
      preHandler: overseer,
      attachValidation: true,
      schema: { tags: TAGS, summary, security: SECURITY, params: ReferenceParams, body: ReasonBody, response: { 200: AgreementDetailBody, ...ERRORS } },
    }, async (request) => {
      // A missing or blank reason gets the workflow's own "Enter the reason"; other schema errors are reported here.
      const given = bodyOf(request).reason;
      if (typeof given !== 'string' || given.trim() !== '') rejectSchemaErrors(request);
      const view = await partyView(request);
      const actor = actorFrom(request);
      const reason = textField(bodyOf(request), 'reason');
      await withStateOnConflict(view, () => workflow[action](actor, request.params.reference, reason));
      return detail(request);
    });
  statusChange('suspend', 'Suspend releases under the agreement, with a reason');
  statusChange('resume', 'Lift a suspension, with a reason (provider only)');
  statusChange('terminate', 'End the agreement for good, with a reason');
}
