// Brings the OpenAPI route schema keys (tags, summary, security) into Fastify's schema type.
import type {} from '@fastify/swagger';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ErrorResponse } from '../api-v1/api-v1.schemas.ts';
import { AppError } from '../errors.ts';
import { requireMember, requireRole } from '../http/auth.ts';
import { formPageContext } from '../http/forms.ts';
import type { Services } from '../services.ts';
import { parseRectification, type Notice, type RectificationService } from './rectification.service.ts';
import type { SubjectAccessActor } from './subject-access.service.ts';

const RectificationBody = Type.Object({
  action: Type.Union([Type.Literal('rectified'), Type.Literal('erased')]),
  kind: Type.Union([Type.Literal('nhs_number'), Type.Literal('person_id'), Type.Literal('email')]),
  identifier: Type.String({ minLength: 1, maxLength: 320 }),
  description: Type.String({ minLength: 1, maxLength: 2000 }),
});

const NoticeParams = Type.Object({ id: Type.String({ maxLength: 64, description: 'Notice id (a UUID).' }) });

const SentQuery = Type.Object({
  overdue: Type.Optional(Type.String({ description: '"true" lists only notices unacknowledged for longer than the overdue period (30 days by default). Any other value lists all.' })),
});

const TAGS = ['Data protection'];
const SECURITY = [{ bearerAuth: [] }];
const Timestamp = Type.String({ format: 'date-time' });
const NullableString = Type.Union([Type.String(), Type.Null()]);

const RectificationResult = Type.Object({
  rectificationId: Type.String({ format: 'uuid' }),
  noticeIds: Type.Array(Type.String({ format: 'uuid' }), { description: 'One notice per organisation that received the person\'s data. The list is empty when no organisation did.' }),
}, { description: 'The change was recorded and the notices created.' });

const NoticeBody = Type.Object({
  id: Type.String({ format: 'uuid' }),
  action: RectificationBody.properties.action,
  actionRequired: Type.String({ description: 'What the recipient must do, in words.' }),
  description: Type.String({ description: 'What changed, without the person\'s identifier.' }),
  providerOrganisationId: Type.String({ format: 'uuid' }),
  providerName: NullableString,
  recipientOrganisationId: Type.String({ format: 'uuid' }),
  agreements: Type.Array(
    Type.Object({
      reference: NullableString,
      subjectPseudonym: Type.String({ description: 'The person\'s pseudonym under this agreement, as released to the recipient.' }),
      pseudonymFields: Type.Array(Type.String(), { description: 'Released fields that carry the pseudonym.' }),
      datasets: Type.Array(Type.Object({ datasetId: Type.String({ format: 'uuid' }), title: NullableString })),
    }),
    { description: 'The agreements under which the person\'s data was released to the recipient.' },
  ),
  createdAt: Timestamp,
  dueAt: Timestamp,
  acknowledgedAt: Type.Union([Timestamp, Type.Null()]),
});

const NoticeList = Type.Object({ notices: Type.Array(NoticeBody, { description: 'Newest first.' }) }, { description: 'The notices.' });

const AcknowledgeResult = Type.Object({
  id: Type.String(),
  acknowledgedAt: Timestamp,
  alreadyAcknowledged: Type.Boolean({ description: 'True when the notice had been acknowledged before, and acknowledgedAt is then the first time.' }),
}, { description: 'The notice is acknowledged.' });

/**
 * Roles that may read and acknowledge notices for the recipient organisation; administrators hold every role. Notices
 * carry pseudonyms of people, so viewers and analysts do not see them.
 */
const ACKNOWLEDGING_ROLES = ['data_protection_officer', 'data_steward'] as const;

function actorOf(request: FastifyRequest): SubjectAccessActor {
  const auth = request.auth!;
  return { organisationId: auth.organisationId!, userId: auth.userId, actorKind: auth.via === 'token' ? 'token' : 'user', requestId: request.id };
}

function formValues(body: unknown): Record<string, string> {
  const record = (body ?? {}) as Record<string, unknown>;
  const values: Record<string, string> = {};
  for (const name of ['action', 'kind', 'identifier', 'description']) values[name] = typeof record[name] === 'string' ? (record[name] as string) : '';
  return values;
}

function noticeJson(notice: Notice, rectifications: RectificationService) {
  return {
    id: notice.id,
    action: notice.action,
    actionRequired: notice.actionRequired,
    description: notice.description,
    providerOrganisationId: notice.providerOrganisationId,
    providerName: notice.providerName,
    recipientOrganisationId: notice.recipientOrganisationId,
    agreements: notice.agreements.map((agreement) => ({
      reference: agreement.reference,
      subjectPseudonym: agreement.pseudonym,
      pseudonymFields: agreement.pseudonymFields,
      datasets: agreement.datasets.map((dataset) => ({ datasetId: dataset.datasetId, title: dataset.title })),
    })),
    createdAt: notice.createdAt.toISOString(),
    dueAt: rectifications.dueAt(notice.createdAt).toISOString(),
    acknowledgedAt: notice.acknowledgedAt?.toISOString() ?? null,
  };
}

/**
 * Article 19 notices. A DPO records a correction or erasure (page and API) and lists the notices sent, overdue ones
 * first, at /privacy/notices. Recipients list and acknowledge the notices addressed to them.
 */
export async function noticeRoutes(app: FastifyInstance, services: Services, rectifications: RectificationService): Promise<void> {
  const dpoOnly = requireRole('data_protection_officer');
  const acknowledgers = requireRole(...ACKNOWLEDGING_ROLES);
  const { csrf } = services.accounts;

  app.get('/privacy/notices', { preHandler: dpoOnly }, async (request, reply) => {
    const organisationId = request.auth!.organisationId!;
    const [overdue, sent] = await Promise.all([rectifications.listSent(organisationId, { overdueOnly: true }), rectifications.listSent(organisationId)]);
    return reply.page('gdpr/notices.njk', { overdue, sent, overdueAfterDays: rectifications.overdueAfterDays, recorded: (request.query as { recorded?: string }).recorded ?? null });
  });

  app.get('/privacy/notices/new', { preHandler: dpoOnly }, async (request, reply) => {
    return reply.page('gdpr/rectification-form.njk', { ...formPageContext(formValues({}), []), csrfToken: csrf.tokenFor(request, reply) });
  });

  app.post('/privacy/notices/new', { preHandler: dpoOnly }, async (request, reply) => {
    const values = formValues(request.body);
    let result: { noticeIds: string[] };
    try {
      result = await rectifications.record(actorOf(request), parseRectification(values));
    } catch (error) {
      if (!(error instanceof AppError) || error.kind !== 'validation') throw error;
      const context = formPageContext(values, error.fields, { action: 'action', kind: 'kind' });
      return reply.page('gdpr/rectification-form.njk', { ...context, csrfToken: csrf.tokenFor(request, reply) }, 400);
    }
    return reply.redirect(`/privacy/notices?recorded=${result.noticeIds.length}`, 303);
  });

  app.get('/privacy/notices/received', { preHandler: acknowledgers }, async (request, reply) => {
    const notices = await rectifications.listReceived(request.auth!.organisationId!);
    return reply.page('gdpr/notices-received.njk', { notices, csrfToken: csrf.tokenFor(request, reply) });
  });

  app.post('/privacy/notices/:id/acknowledge', { preHandler: acknowledgers, schema: { params: NoticeParams } }, async (request, reply) => {
    await rectifications.acknowledge(actorOf(request), (request.params as { id: string }).id);
    return reply.redirect('/privacy/notices/received', 303);
  });

  // Recording a correction changes notices and sends them, so a token needs the write scope, as acknowledging does.
  app.post('/api/v1/gdpr/rectifications', {
    preHandler: requireMember({ roles: ['data_protection_officer'], scope: 'write' }),
    schema: {
      tags: TAGS,
      summary: 'Record a correction or erasure and notify every recipient of the person\'s data',
      description:
        'For data protection officers. A token needs the write scope. UK GDPR Article 19: each organisation that ' +
        'received the person\'s data from yours gets one notice, also sent to its webhook subscriptions. The ' +
        'description must not contain the identifier.',
      security: SECURITY,
      body: RectificationBody,
      response: { 201: RectificationResult, 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse },
    },
  }, async (request, reply) => {
    const input = parseRectification(request.body as Record<string, unknown>);
    const result = await rectifications.record(actorOf(request), input);
    return reply.code(201).send(result);
  });

  app.get('/api/v1/gdpr/notices', {
    preHandler: requireMember({ roles: [...ACKNOWLEDGING_ROLES], scope: 'read' }),
    schema: {
      tags: TAGS,
      summary: 'List the rectification and erasure notices sent to your organisation',
      description: 'For data protection officers and data stewards. A token needs the read scope.',
      security: SECURITY,
      response: { 200: NoticeList, 401: ErrorResponse, 403: ErrorResponse },
    },
  }, async (request) => {
    const organisationId = request.auth!.organisationId!;
    const notices = await rectifications.listReceived(organisationId);
    return { notices: notices.map((notice) => noticeJson(notice, rectifications)) };
  });

  app.get('/api/v1/gdpr/notices/sent', {
    preHandler: requireMember({ roles: ['data_protection_officer'], scope: 'read' }),
    schema: {
      tags: TAGS,
      summary: 'List the notices your organisation has sent, with when each falls due',
      description: 'For data protection officers. A token needs the read scope.',
      security: SECURITY,
      querystring: SentQuery,
      response: { 200: NoticeList, 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse },
    },
  }, async (request) => {
    const overdueOnly = (request.query as { overdue?: string }).overdue === 'true';
    const notices = await rectifications.listSent(request.auth!.organisationId!, { overdueOnly });
    return { notices: notices.map((notice) => noticeJson(notice, rectifications)) };
  });

  app.post('/api/v1/gdpr/notices/:id/acknowledge', {
    preHandler: requireMember({ roles: [...ACKNOWLEDGING_ROLES], scope: 'write' }),
    schema: {
      tags: TAGS,
      summary: 'Acknowledge a notice sent to your organisation once you have acted on it',
      description: 'For data protection officers and data stewards of the recipient. A token needs the write scope. Any other organisation, the sender included, gets 404. Acknowledging again changes nothing.',
      security: SECURITY,
      params: NoticeParams,
      response: { 200: AcknowledgeResult, 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse },
    },
  }, async (request) => {
    const result = await rectifications.acknowledge(actorOf(request), (request.params as { id: string }).id);
    return { id: (request.params as { id: string }).id, acknowledgedAt: result.acknowledgedAt.toISOString(), alreadyAcknowledged: result.alreadyAcknowledged };
  });
}
