import type { FastifyInstance, FastifyRequest } from 'fastify';
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

  app.get('/api/v1/agreements/:reference/dpia', { preHandler: requireMember({ roles: ['data_protection_officer'], scope: 'read' }) }, async (request) => {
    const agreement = await dpias.agreementFor(request.auth!.organisationId!, (request.params as { reference: string }).reference);
    const dpia = await dpias.find(request.auth!.organisationId!, agreement.id);
    if (!dpia) throw new AppError('not_found', 'dpia_not_found', `The agreement ${agreement.reference} has no DPIA yet. Create one with PUT on this address.`);
    return { agreementReference: agreement.reference, ...dpia, updatedAt: dpia.updatedAt.toISOString() };
  });

  app.put('/api/v1/agreements/:reference/dpia', { preHandler: requireMember({ roles: ['data_protection_officer'], scope: 'write' }) }, async (request, reply) => {
    const agreement = await dpias.agreementFor(request.auth!.organisationId!, (request.params as { reference: string }).reference);
    const id = await dpias.save(actorOf(request), agreement.id, parseDpia((request.body ?? {}) as Record<string, unknown>));
    return reply.code(200).send({ id, agreementReference: agreement.reference });
  });
}
