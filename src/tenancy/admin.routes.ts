import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { setPlatformScope } from '../db/tenant.ts';
import type { FieldError } from '../errors.ts';
import { requirePlatformAdmin } from '../http/auth.ts';
import type { Services } from '../services.ts';
import { countOf } from '../text.ts';
import { checkUuid, formField, showForm, withFormErrors } from './form-fields.ts';
import { describePlanChange } from './plan-change.ts';
import { APPLICATION_NAMES, ORGANISATION_TYPE_NAMES, PLANS } from './plans.ts';
import { REGISTRATION_LABELS, type RegistrationField } from './registration-numbers.ts';
import { PLAN_IDS } from './tenancy.tables.ts';

const PLAN_ITEMS = PLAN_IDS.map((plan) => ({ value: plan, text: PLANS[plan].name }));

/** Each plan with the applications it offers, so a move that would turn one off is visible before it is made. */
const PLAN_APPLICATIONS = PLAN_IDS.map((plan) => `${PLANS[plan].name}: ${PLANS[plan].applications.map((application) => APPLICATION_NAMES[application]).join(', ')}`);

/**
 * Platform administrators' pages: the review of registrations, moving organisations to another plan, closing
 * organisations and the development outbox.
 */
export async function adminRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const { review } = services.tenancy;
  const platformAdmin = requirePlatformAdmin();

  // Errors of one organisation's form are shown beside that organisation only.
  const organisationsPage = async (request: FastifyRequest, reply: FastifyReply, errorsFor: { organisationId: string; errors: FieldError[]; values: Record<string, unknown> } | null = null, notice?: string) => {
    const [pending, active] = await Promise.all([review.list(['pending']), review.list(['active'])]);
    const errors = (errorsFor?.errors ?? []).map((error) => ({ ...error, field: `${error.field}-${errorsFor!.organisationId}` }));
    return showForm(services, request, reply, 'tenancy/admin-organisations.njk', errorsFor?.values ?? {}, errors, {
      pending,
      active,
      errorOrganisationId: errorsFor?.organisationId ?? null,
      planItems: PLAN_ITEMS,
      planApplications: PLAN_APPLICATIONS,
      typeNames: ORGANISATION_TYPE_NAMES,
      numberLabels: REGISTRATION_LABELS as Record<RegistrationField, string>,
      planNames: Object.fromEntries(PLAN_IDS.map((plan) => [plan, PLANS[plan].name])),
      notice,
    });
  };

  app.get('/admin/organisations', { preHandler: platformAdmin }, async (request, reply) => organisationsPage(request, reply));

  app.post<{ Params: { id: string } }>('/admin/organisations/:id/review', { preHandler: platformAdmin }, async (request, reply) => {
    checkUuid(request.params.id, 'organisation');
    const decision = formField(request.body, 'decision');
    const values = { reason: formField(request.body, 'reason'), plan: formField(request.body, 'plan'), decision };
    if (decision !== 'approve' && decision !== 'decline') {
      return organisationsPage(request, reply, { organisationId: request.params.id, values, errors: [{ field: 'decision', message: 'Select approve or decline' }] });
    }
    return withFormErrors(
      async () => {
        await review.review(request.auth!, request.params.id, decision, values.reason, values.plan, request.id);
        return organisationsPage(request, reply, null, decision === 'approve' ? 'Organisation approved. We have emailed the applicant.' : 'Organisation declined. We have emailed the applicant.');
      },
      (errors) => organisationsPage(request, reply, { organisationId: request.params.id, values, errors }),
    );
  });

  app.post<{ Params: { id: string } }>('/admin/organisations/:id/plan', { preHandler: platformAdmin }, async (request, reply) => {
    checkUuid(request.params.id, 'organisation');
    const values = { newPlan: formField(request.body, 'newPlan'), planReason: formField(request.body, 'planReason') };
    return withFormErrors(
      async () => {
        const change = await services.tenancy.plans.changePlan(request.auth!.userId, { id: request.params.id }, values.newPlan, values.planReason, request.id);
        return organisationsPage(request, reply, null, `${change.organisationName} is now on the ${PLANS[change.to].name}. ${describePlanChange(change)}`);
      },
      (errors) => organisationsPage(request, reply, { organisationId: request.params.id, values, errors: errors.map((error) => ({ ...error, field: error.field === 'reason' ? 'planReason' : 'newPlan' })) }),
    );
  });

  app.post<{ Params: { id: string } }>('/admin/organisations/:id/close', { preHandler: platformAdmin }, async (request, reply) => {
    checkUuid(request.params.id, 'organisation');
    const values = { closeReason: formField(request.body, 'closeReason') };
    return withFormErrors(
      async () => {
        const revoked = await review.close(request.auth!, request.params.id, values.closeReason, request.id);
        return organisationsPage(request, reply, null, `Organisation closed. ${countOf(revoked.sessions, 'session')} and ${countOf(revoked.tokens, 'API token')} were revoked.`);
      },
      (errors) => organisationsPage(request, reply, { organisationId: request.params.id, values, errors: errors.map((error) => ({ ...error, field: 'closeReason' })) }),
    );
  });

  // Only where no SMTP server is configured and not in production: there the outbox holds nothing worth reading.
  if (!services.config.production) {
    app.get('/admin/outbox', { preHandler: platformAdmin }, async (request, reply) => {
      const messages = await services.db.app.transaction().execute(async (trx) => {
        await setPlatformScope(trx);
        return trx.selectFrom('outbox').selectAll().orderBy('id', 'desc').limit(100).execute();
      });
      return reply.page('tenancy/admin-outbox.njk', { messages, usesOutbox: services.accounts.mailer.usesOutbox });
    });
  }
}
