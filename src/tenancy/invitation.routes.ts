import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { setCurrentUser } from '../accounts/account-scope.ts';
import type { Services } from '../services.ts';
import { formField, showForm, withFormErrors } from './form-fields.ts';
import { ROLE_NAMES } from './members.service.ts';

/** The page behind an emailed invitation link: accept as the signed-in user, or create an account to accept. */
export async function invitationRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const { members } = services.tenancy;

  // A link stops working when used, withdrawn, replaced by a newer invitation or older than 7 days. Telling these
  // apart would reveal whether an invitation was ever sent, so the page names every cause.
  const closed = (reply: FastifyReply) =>
    reply.page('accounts/message.njk', {
      title: 'This invitation link no longer works',
      paragraphs: [
        'Invitation links work once, for 7 days. A link also stops working when the administrator withdraws the invitation or sends a new one to the same email address, which replaces it.',
        'If you have just accepted this invitation, sign in. Otherwise ask the administrator of the organisation to invite you again.',
      ],
      link: { href: '/sign-in', text: 'Sign in' },
    }, 404);

  const invitationPage = async (request: FastifyRequest<{ Params: { token: string } }>, reply: FastifyReply, values: Record<string, unknown> = {}, errors: { field: string; message: string }[] = []) => {
    const invitation = await members.findInvitation(request.params.token);
    if (!invitation) return closed(reply);
    const signedInEmail = request.auth === null ? null : await signedInUserEmail(services, request.auth.userId);
    return showForm(services, request, reply, 'tenancy/invitation.njk', values, errors, { invitation, roleName: ROLE_NAMES[invitation.role], token: request.params.token, signedInEmail });
  };

  app.get<{ Params: { token: string } }>('/invitations/:token', { config: { access: 'public' } }, async (request, reply) => invitationPage(request, reply));

  app.post<{ Params: { token: string } }>('/invitations/:token', { config: { access: 'public' } }, async (request, reply) => {
    services.accounts.csrf.checkAnonymous(request);
    const values = { displayName: formField(request.body, 'displayName') };
    if ((await members.findInvitation(request.params.token)) === null) return closed(reply);
    return withFormErrors(
      async () => {
        const newAccount = request.auth === null ? { displayName: values.displayName, password: formField(request.body, 'password') } : null;
        const accepted = await members.accept(request.params.token, request.auth?.userId ?? null, newAccount, request.id);
        if (request.auth?.sessionId) await services.accounts.signIn.switchOrganisation(request.auth.sessionId, request.auth.userId, accepted.organisationId);
        return reply.page('accounts/message.njk', {
          title: 'Invitation accepted',
          paragraphs: ['You are now a member of the organisation.'],
          link: request.auth === null ? { href: '/sign-in', text: 'Sign in' } : { href: '/organisation', text: 'Go to your organisation' },
        });
      },
      (errors) => invitationPage(request, reply, values, errors),
    );
  });
}

async function signedInUserEmail(services: Services, userId: string): Promise<string> {
  return services.db.app.transaction().execute(async (trx) => {
    await setCurrentUser(trx, userId);
    const row = await trx.selectFrom('users').select('email').where('id', '=', userId).executeTakeFirstOrThrow();
    return row.email;
  });
}
