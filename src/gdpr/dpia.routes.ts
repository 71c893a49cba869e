// Brings the OpenAPI route schema keys (tags, summary, security) into Fastify's schema type.
import type {} from '@fastify/swagger';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ErrorResponse } from '../api-v1/api-v1.schemas.ts';
import { documentRequest } from '../api-v1/openapi.ts';
import { AppError } from '../errors.ts';
import { requireMember, requireRole } from '../http/auth.ts';
import { formPageContext } from '../http/forms.ts';
import type { Services } from '../services.ts';
import { dpiaFormInput, FORM_RISK_SLOTS, LIKELIHOODS, parseDpia, RESIDUAL_RISKS, SEVERITIES, type Dpia, type DpiaService } from './dpia.service.ts';

function actorOf(request: FastifyRequest) {
  const auth = request.auth!;
  return { organisationId: auth.organisationId!, userId: auth.userId!, actorKind: auth.via === 'token' ? ('token' as const) : ('user' as const), requestId: request.id };
}

function storedValues(dpia: Dpia | null): Record<string, unknown> {
  if (!dpia) return {};
  const values: Record<string, unknown> = { description: dpia.description, necessity: dpia.necessity, residualRisk: dpia.residualRisk };
  dpia.risks.forEach((risk, index) => {
    values[`risks[${index}].description`] = risk.description;
    values[`risks[${index}].likelihood`] = risk.likelihood;
    values[`risks[${index}].severity`] = risk.severity;
    values[`risks[${index}].mitigation`] = risk.mitigation;
  });
  return values;
}

const TAGS = ['Data protection'];
const SECURITY = [{ bearerAuth: [] }];
const ERRORS = { 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse };
const literals = (labels: Record<string, string>) => Type.Union(Object.keys(labels).map((value) => Type.Literal(value)));

const DpiaParams = Type.Object({ reference: Type.String({ description: 'Reference of an agreement your organisation provides, such as THR-ISA-2026-014.' }) });

const Risk = Type.Object({
  description: Type.String({ minLength: 1 }),
  likelihood: literals(LIKELIHOODS),
  severity: literals(SEVERITIES),
  mitigation: Type.String({ minLength: 1 }),
});

const DpiaBody = Type.Object({
  description: Type.String({ minLength: 1, maxLength: 5000, description: 'The processing the agreement covers.' }),
  necessity: Type.String({ minLength: 1, maxLength: 5000, description: 'Why the processing is necessary and proportionate.' }),
  risks: Type.Array(Risk, { minItems: 1, maxItems: 50, description: 'Risks to people. An entry whose fields are all empty is skipped.' }),
  residualRisk: literals(RESIDUAL_RISKS),
});

const StoredDpia = Type.Object({
  agreementReference: Type.String(),
  id: Type.String({ format: 'uuid' }),
  agreementId: Type.String({ format: 'uuid' }),
  description: Type.String(),
  necessity: Type.String(),
  risks: Type.Array(Risk),
  residualRisk: literals(RESIDUAL_RISKS),
  signedOffBy: Type.String({ format: 'uuid', description: 'The data protection officer who last saved the DPIA.' }),
  signedOffByName: Type.Union([Type.String(), Type.Null()]),
  signedOffOn: Type.String({ format: 'date', description: 'The day of the last save, in UK time.' }),
  updatedAt: Type.String({ format: 'date-time' }),
}, { description: 'The DPIA.' });

const SavedDpia = Type.Object({ id: Type.String({ format: 'uuid' }), agreementReference: Type.String() }, { description: 'The DPIA was saved.' });

const choices = (labels: Record<string, string>) => Object.entries(labels).map(([value, text]) => ({ value, text }));

/** The DPIA of an agreement: a GOV.UK form for its provider's DPO at /agreements/{reference}/dpia, and a JSON API. */
export async function dpiaRoutes(app: FastifyInstance, services: Services, dpias: DpiaService): Promise<void> {
  const dpoOnly = requireRole('data_protection_officer');
  const { csrf } = services.accounts;
  const page = (extra: Record<string, unknown>) => ({
    ...extra,
    riskSlots: Array.from({ length: FORM_RISK_SLOTS }, (_, index) => index),
    likelihoods: choices(LIKELIHOODS),
    severities: choices(SEVERITIES),
    residualRisks: choices(RESIDUAL_RISKS),
  });

  app.get('/agreements/:reference/dpia', { preHandler: dpoOnly }, async (request, reply) => {
    const agreement = await dpias.agreementFor(request.auth!.organisationId!, (request.params as { reference: string }).reference);
    const dpia = await dpias.find(request.auth!.organisationId!, agreement.id);
    const saved = (request.query as { saved?: string }).saved === '1';
    return reply.page('gdpr/dpia-form.njk', page({ ...formPageContext(storedValues(dpia), []), agreement, dpia, saved, csrfToken: csrf.tokenFor(request, reply) }));
  });

  app.post('/agreements/:reference/dpia', { preHandler: dpoOnly }, async (request, reply) => {
    const organisationId = request.auth!.organisationId!;
    const agreement = await dpias.agreementFor(organisationId, (request.params as { reference: string }).reference);
    const body = (request.body ?? {}) as Record<string, unknown>;
    try {
      await dpias.save(actorOf(request), agreement.id, parseDpia(dpiaFormInput(body)));
    } catch (error) {
      if (!(error instanceof AppError) || error.kind !== 'validation') throw error;
      const fieldIds = Object.fromEntries(error.fields.map((field) => [field.field, field.field.replace(/[[\].]/g, '-')]));
      const dpia = await dpias.find(organisationId, agreement.id);
      return reply.page('gdpr/dpia-form.njk', page({ ...formPageContext(body, error.fields, fieldIds), agreement, dpia, saved: false, csrfToken: csrf.tokenFor(request, reply) }), 400);
    }
    return reply.redirect(`/agreements/${encodeURIComponent(agreement.reference)}/dpia?saved=1`, 303);
  });

  app.get('/api/v1/agreements/:reference/dpia', {
    preHandler: requireMember({ roles: ['data_protection_officer'], scope: 'read' }),
    schema: {
      tags: TAGS,
      summary: 'Show the data protection impact assessment of an agreement your organisation provides',
      description: 'For data protection officers of the provider. A token needs the read scope. 404 when the agreement is not one your organisation provides, or has no DPIA yet.',
      security: SECURITY,
      params: DpiaParams,
      response: { 200: StoredDpia, ...ERRORS },
    },
  }, async (request) => {
    const agreement = await dpias.agreementFor(request.auth!.organisationId!, (request.params as { reference: string }).reference);
    const dpia = await dpias.find(request.auth!.organisationId!, agreement.id);
    if (!dpia) throw new AppError('not_found', 'dpia_not_found', `The agreement ${agreement.reference} has no DPIA yet. Create one with PUT on this address.`);
    return { agreementReference: agreement.reference, ...dpia, updatedAt: dpia.updatedAt.toISOString() };
  });

  app.put('/api/v1/agreements/:reference/dpia', {
    preHandler: requireMember({ roles: ['data_protection_officer'], scope: 'write' }),
    schema: {
      tags: TAGS,
      summary: 'Create or replace the DPIA of an agreement your organisation provides, signed off by you today',
      description: 'For data protection officers of the provider. A token needs the write scope. A 400 lists every problem, naming fields as risks[0].likelihood.',
      security: SECURITY,
      params: DpiaParams,
      response: { 200: SavedDpia, 400: ErrorResponse, ...ERRORS },
    },
    // parseDpia checks the body, so that a 400 lists every problem at once.
    config: { swaggerTransform: documentRequest({ body: DpiaBody }) },
  }, async (request, reply) => {
    const agreement = await dpias.agreementFor(request.auth!.organisationId!, (request.params as { reference: string }).reference);
    const id = await dpias.save(actorOf(request), agreement.id, parseDpia((request.body ?? {}) as Record<string, unknown>));
    return reply.code(200).send({ id, agreementReference: agreement.reference });
  });
}
