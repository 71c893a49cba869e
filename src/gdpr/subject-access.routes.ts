// Brings the OpenAPI route schema keys (tags, summary, security) into Fastify's schema type.
import type {} from '@fastify/swagger';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { londonDate } from '../agreements/agreement-dates.ts';
import { ErrorResponse } from '../api-v1/api-v1.schemas.ts';
import type { SubjectIdentifier } from '../audit/subject-index.ts';
import { AppError } from '../errors.ts';
import { requireRole } from '../http/auth.ts';
import { formPageContext } from '../http/forms.ts';
import type { Services } from '../services.ts';
import { sharedFields, subjectAccessCsv, subjectAccessPdf } from './subject-access.export.ts';
import { IDENTIFIER_PHRASES, parseSubjectQuery, type SubjectAccessActor, type SubjectAccessService, type SubjectDisclosure } from './subject-access.service.ts';

const SearchBody = Type.Object({
  kind: Type.Union([Type.Literal('nhs_number'), Type.Literal('person_id'), Type.Literal('email')]),
  identifier: Type.String({ minLength: 1, maxLength: 320 }),
  format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv'), Type.Literal('pdf')], { description: 'json (the default), or a csv or pdf download for the data subject.' })),
});

const NullableString = Type.Union([Type.String(), Type.Null()]);

const SubjectAccessResult = Type.Object({
  identifierKind: SearchBody.properties.kind,
  disclosures: Type.Array(
    Type.Object({
      disclosureId: Type.String({ format: 'uuid' }),
      occurredAt: Type.String({ format: 'date-time' }),
      recipientOrganisationId: Type.String({ format: 'uuid' }),
      recipientName: Type.String(),
      agreementId: Type.String({ format: 'uuid' }),
      agreementReference: NullableString,
      agreementTitle: NullableString,
      agreementVersion: Type.Integer(),
      purpose: Type.String({ description: 'The purpose code as recorded, such as direct_care.' }),
      purposeLabel: Type.String({ description: 'The purpose in words, such as "Direct care".' }),
      datasetTitle: NullableString,
      fields: Type.Array(Type.String(), { description: 'Fields released in the disclosure.' }),
      pseudonymisedFields: Type.Array(Type.String(), { description: 'The released fields that the recipient received as keyed pseudonyms, not in clear.' }),
    }),
    { description: 'Every release by your organisation that contained the person, oldest first.' },
  ),
});

function formValues(body: unknown): { kind: string; identifier: string; format: string } {
  const record = (body ?? {}) as Record<string, unknown>;
  const text = (name: string) => (typeof record[name] === 'string' ? (record[name] as string) : '');
  return { kind: text('kind'), identifier: text('identifier'), format: text('format') };
}

function actorOf(request: FastifyRequest): SubjectAccessActor {
  const auth = request.auth!;
  return { organisationId: auth.organisationId!, userId: auth.userId, actorKind: auth.via === 'token' ? 'token' : 'user', requestId: request.id };
}

async function organisationName(services: Services, organisationId: string): Promise<string> {
  const row = await services.db.app.selectFrom('organisations').select('name').where('id', '=', organisationId).executeTakeFirst();
  return row?.name ?? 'Your organisation';
}

/** Filename stem of a download: the date only, never the identifier. */
/** Names the download by the UK calendar day, the date the letter inside it carries. */
function fileStem(now: Date): string {
  return `subject-access-response-${londonDate(now)}`;
}

async function sendDownload(reply: FastifyReply, format: 'csv' | 'pdf', disclosures: SubjectDisclosure[], subject: SubjectIdentifier, controllerName: string): Promise<FastifyReply> {
  const now = new Date();
  void reply.header('cache-control', 'no-store');
  if (format === 'csv') {
    void reply.header('content-disposition', `attachment; filename="${fileStem(now)}.csv"`);
    return reply.type('text/csv; charset=utf-8').send(subjectAccessCsv(disclosures));
  }
  const pdf = await subjectAccessPdf(disclosures, { controllerName, subject, generatedAt: now });
  void reply.header('content-disposition', `attachment; filename="${fileStem(now)}.pdf"`);
  return reply.type('application/pdf').send(pdf);
}

/**
 * Subject access for data protection officers: a GOV.UK form at /privacy/subject-access that works without JavaScript
 * (identifiers travel in POST bodies, never in URLs or logs), and the same search at /api/v1/privacy/subject-access.
 */
export async function subjectAccessRoutes(app: FastifyInstance, services: Services, subjectAccess: SubjectAccessService): Promise<void> {
  const dpoOnly = requireRole('data_protection_officer');
  const { csrf } = services.accounts;

  app.get('/privacy/subject-access', { preHandler: dpoOnly }, async (request, reply) => {
    const organisation = await organisationName(services, request.auth!.organisationId!);
    return reply.page('gdpr/subject-access.njk', { ...formPageContext({ kind: '', identifier: '' }, []), organisationName: organisation, csrfToken: csrf.tokenFor(request, reply) });
  });

  /** Parses the search form, or shows it again with its errors (400) and returns null. */
  async function subjectOrFormErrors(request: FastifyRequest, reply: FastifyReply, values: ReturnType<typeof formValues>): Promise<SubjectIdentifier | null> {
    try {
      return parseSubjectQuery(values);
    } catch (error) {
      if (!(error instanceof AppError) || error.kind !== 'validation') throw error;
      const organisation = await organisationName(services, request.auth!.organisationId!);
      const context = formPageContext(values, error.fields, { kind: 'kind' });
      await reply.page('gdpr/subject-access.njk', { ...context, organisationName: organisation, csrfToken: csrf.tokenFor(request, reply) }, 400);
      return null;
    }
  }

  app.post('/privacy/subject-access', { preHandler: dpoOnly }, async (request, reply) => {
    const values = formValues(request.body);
    const subject = await subjectOrFormErrors(request, reply, values);
    if (subject === null) return reply;
    const organisation = await organisationName(services, request.auth!.organisationId!);
    const disclosures = await subjectAccess.search(actorOf(request), subject);
    void reply.header('cache-control', 'no-store');
    return reply.page('gdpr/subject-access-results.njk', {
      disclosures: disclosures.map((disclosure) => ({ ...disclosure, sharedFields: sharedFields(disclosure) })),
      values: { kind: subject.kind, identifier: values.identifier },
      identifierPhrase: IDENTIFIER_PHRASES[subject.kind],
      organisationName: organisation,
      csrfToken: csrf.tokenFor(request, reply),
    });
  });

  app.post('/privacy/subject-access/download', { preHandler: dpoOnly }, async (request, reply) => {
    const values = formValues(request.body);
    // The identifier comes back from hidden fields of the results page; a changed one gets the search form again.
    const subject = await subjectOrFormErrors(request, reply, values);
    if (subject === null) return reply;
    const format = values.format === 'csv' ? 'csv' : 'pdf';
    const disclosures = await subjectAccess.search(actorOf(request), subject, `subject_access.exported_${format}`);
    return sendDownload(reply, format, disclosures, subject, await organisationName(services, request.auth!.organisationId!));
  });

  app.post('/api/v1/privacy/subject-access', {
    preHandler: requireRole('data_protection_officer'),
    schema: {
      tags: ['Data protection'],
      summary: 'Find every release of a person\'s data by your organisation',
      description:
        'For data protection officers, with an API token of any scope. The identifier travels in the body so that it ' +
        'stays out of URLs and logs, and the audit log records the search without it. NHS numbers must have a valid ' +
        'check digit. Replies are never cached.',
      security: [{ bearerAuth: [] }],
      body: SearchBody,
      response: {
        200: {
          description: 'The disclosures, as JSON or as the download the format asks for.',
          content: {
            'application/json': { schema: SubjectAccessResult },
            'text/csv': { schema: Type.String({ description: 'One row per disclosure, as an attachment.' }) },
            'application/pdf': { schema: Type.String({ format: 'binary', description: 'A subject access response letter, as an attachment.' }) },
          },
        },
        400: ErrorResponse,
        401: ErrorResponse,
        403: ErrorResponse,
      },
    },
  }, async (request, reply) => {
    const body = request.body as { kind: string; identifier: string; format?: 'json' | 'csv' | 'pdf' };
    const subject = parseSubjectQuery(body);
    const format = body.format ?? 'json';
    const action = format === 'json' ? 'subject_access.searched' : `subject_access.exported_${format}`;
    const disclosures = await subjectAccess.search(actorOf(request), subject, action);
    if (format !== 'json') return sendDownload(reply, format, disclosures, subject, await organisationName(services, request.auth!.organisationId!));
    void reply.header('cache-control', 'no-store');
    return {
      identifierKind: subject.kind,
      disclosures: disclosures.map((disclosure) => ({ ...disclosure, occurredAt: disclosure.occurredAt.toISOString() })),
    };
  });
}
