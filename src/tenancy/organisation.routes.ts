import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ORGANISATION_ROLES } from '../accounts/accounts.tables.ts';
import { withOrganisation } from '../db/tenant.ts';
import { AppError, type FieldError } from '../errors.ts';
import { requireMember, requireRole } from '../http/auth.ts';
import type { Services } from '../services.ts';
import { sentenceCase } from '../text.ts';
import { setApplications } from './applications.ts';
import { checkUuid, formField, formList, showForm, withFormErrors } from './form-fields.ts';
import { ROLE_NAMES } from './members.service.ts';
import { APPLICATION_NAMES, LIMIT_WORDS, ORGANISATION_TYPE_NAMES, PLANS, planPrice, planUsage, type LimitName } from './plans.ts';
import { APPLICATIONS } from './tenancy.tables.ts';

const ROLE_ITEMS = ORGANISATION_ROLES.map((role) => ({ value: role, text: ROLE_NAMES[role] }));

/**
 * The signed-in member's organisation: its overview, and for administrators its members and invitations, settings
 * (applications and single sign-on) and data export.
 */
export async function organisationRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const { members, sso, exports } = services.tenancy;
  const administrator = requireRole('administrator');

  const loadOrganisation = (organisationId: string) =>
    withOrganisation(services.db.app, organisationId, (trx) =>
      trx.selectFrom('organisations').select(['id', 'slug', 'name', 'type', 'status', 'plan', 'applications', 'email_domains', 'review_reason']).where('id', '=', organisationId).executeTakeFirstOrThrow(),
    );

  app.get('/organisation', { preHandler: requireMember() }, async (request, reply) => {
    const organisationId = request.auth!.organisationId!;
    const organisation = await loadOrganisation(organisationId);
    const usage = await withOrganisation(services.db.app, organisationId, (trx) => planUsage(trx, organisationId));
    const plan = PLANS[organisation.plan];
    return reply.page('tenancy/organisation.njk', {
      organisation,
      typeName: ORGANISATION_TYPE_NAMES[organisation.type],
      plan,
      price: planPrice(plan),
      usage: (Object.keys(usage) as LimitName[]).map((limit) => ({ label: sentenceCase(LIMIT_WORDS[limit]), used: usage[limit], allowed: plan.limits[limit] })),
      applicationNames: organisation.applications.map((application) => APPLICATION_NAMES[application]),
      isAdministrator: request.auth!.roles.includes('administrator'),
      exchangeEnabled: organisation.status === 'active' && organisation.applications.includes('exchange'),
    });
  });

  const membersPage = async (request: FastifyRequest, reply: FastifyReply, values: Record<string, unknown> = {}, errors: FieldError[] = [], notice?: string) => {
    const organisationId = request.auth!.organisationId!;
    const [organisation, memberList, invitations] = await Promise.all([loadOrganisation(organisationId), members.listMembers(organisationId), members.listInvitations(organisationId)]);
    return showForm(services, request, reply, 'tenancy/members.njk', values, errors, { organisation, members: memberList, invitations, roleItems: ROLE_ITEMS, roleNames: ROLE_NAMES, notice, currentUserId: request.auth!.userId }, { role: 'role' });
  };

  app.get('/organisation/members', { preHandler: administrator }, async (request, reply) => membersPage(request, reply));

  app.post('/organisation/invitations', { preHandler: administrator }, async (request, reply) => {
    const values = { email: formField(request.body, 'email'), role: formField(request.body, 'role') };
    return withFormErrors(
      async () => {
        await members.invite(request.auth!, values.email, values.role, request.id);
        return membersPage(request, reply, {}, [], `We have emailed an invitation to ${values.email.trim().toLowerCase()}.`);
      },
      (errors) => membersPage(request, reply, values, errors),
      { formId: 'invite-form' },
    );
  });

  app.post<{ Params: { id: string } }>('/organisation/invitations/:id/revoke', { preHandler: administrator }, async (request, reply) => {
    checkUuid(request.params.id, 'invitation');
    await members.revokeInvitation(request.auth!, request.params.id, request.id);
    return reply.redirect('/organisation/members', 303);
  });

  /**
   * Runs a change to one member and returns to the members page. A change that would leave the organisation without
   * an administrator shows the page again with the error against the control that asked for it.
   */
  const changeMember = async (request: FastifyRequest<{ Params: { userId: string } }>, reply: FastifyReply, control: 'role' | 'remove', change: () => Promise<unknown>) => {
    try {
      await change();
    } catch (error) {
      if (!(error instanceof AppError) || error.code !== 'last_administrator') throw error;
      return membersPage(request, reply, {}, [{ field: `${control}-${request.params.userId}`, message: error.message }]);
    }
    return reply.redirect('/organisation/members', 303);
  };

  app.post<{ Params: { userId: string } }>('/organisation/members/:userId/role', { preHandler: administrator }, async (request, reply) => {
    checkUuid(request.params.userId, 'member');
    return changeMember(request, reply, 'role', () => members.changeRole(request.auth!, request.params.userId, formField(request.body, 'role'), request.id));
  });

  app.post<{ Params: { userId: string } }>('/organisation/members/:userId/reset-two-factor', { preHandler: administrator }, async (request, reply) => {
    checkUuid(request.params.userId, 'member');
    let name: string;
    try {
      name = await services.tenancy.secondFactor.asAdministrator(request.auth!, request.params.userId, request.id);
    } catch (error) {
      if (!(error instanceof AppError) || !['second_factor_reset_needs_platform', 'own_second_factor'].includes(error.code)) throw error;
      return membersPage(request, reply, {}, [{ field: `reset-${request.params.userId}`, message: error.message }]);
    }
    const notice = `Two-factor authentication was reset for ${name}, who sets it up again at their next sign-in. We have emailed them.`;
    return membersPage(request, reply, {}, [], notice);
  });

  app.post<{ Params: { userId: string } }>('/organisation/members/:userId/remove', { preHandler: administrator }, async (request, reply) => {
    checkUuid(request.params.userId, 'member');
    return changeMember(request, reply, 'remove', () => members.remove(request.auth!, request.params.userId, request.id));
  });

  const settingsPage = async (request: FastifyRequest, reply: FastifyReply, values: Record<string, unknown> = {}, errors: FieldError[] = [], notice?: string) => {
    const organisation = await loadOrganisation(request.auth!.organisationId!);
    const plan = PLANS[organisation.plan];
    const settings = await sso.settings(organisation.id);
    const applicationItems = APPLICATIONS.filter((application) => plan.applications.includes(application)).map((application) => ({
      value: application,
      text: APPLICATION_NAMES[application],
      checked: organisation.applications.includes(application),
    }));
    const ssoValues = { issuer: settings?.issuer ?? '', clientId: settings?.clientId ?? '', enabled: settings?.enabled ?? true, justInTime: settings?.justInTime ?? false, ...values };
    return showForm(services, request, reply, 'tenancy/settings.njk', ssoValues, errors, { organisation, plan, applicationItems, ssoConfigured: settings !== null, redirectUri: sso.redirectUri, notice }, { applications: 'applications' });
  };

  app.get('/organisation/settings', { preHandler: administrator }, async (request, reply) => settingsPage(request, reply));

  app.post('/organisation/settings/applications', { preHandler: administrator }, async (request, reply) =>
    withFormErrors(
      async () => {
        await setApplications(services.db.app, request.auth!, formList(request.body, 'applications'), request.id);
        return settingsPage(request, reply, {}, [], 'Applications saved.');
      },
      (errors) => settingsPage(request, reply, {}, errors),
    ),
  );

  app.post('/organisation/settings/sso', { preHandler: administrator }, async (request, reply) => {
    const values = {
      issuer: formField(request.body, 'issuer'),
      clientId: formField(request.body, 'clientId'),
      enabled: formList(request.body, 'options').includes('enabled'),
      justInTime: formList(request.body, 'options').includes('justInTime'),
    };
    return withFormErrors(
      async () => {
        await sso.saveSettings(request.auth!, { ...values, clientSecret: formField(request.body, 'clientSecret') }, request.id);
        return settingsPage(request, reply, {}, [], 'Single sign-on settings saved.');
      },
      (errors) => settingsPage(request, reply, values, errors),
    );
  });

  app.post('/organisation/export', { preHandler: administrator }, async (request, reply) => {
    const { filename, stream } = await exports.exportOrganisation(request.auth!, request.id);
    return reply.header('content-type', 'application/zip').header('content-disposition', `attachment; filename="${filename}"`).header('cache-control', 'no-store').send(stream);
  });
}
