import type { FastifyInstance } from 'fastify';
import { REGISTRATION_BY_ADDRESS } from '../http/rate-limit.ts';
import type { Services } from '../services.ts';
import { formField, showForm, withFormErrors } from './form-fields.ts';
import { ORGANISATION_TYPE_NAMES } from './plans.ts';
import { REGISTRATION_LABELS, type RegistrationField } from './registration-numbers.ts';
import type { RegistrationInput } from './registration.service.ts';
import { ORGANISATION_TYPES } from './tenancy.tables.ts';

const NUMBER_FIELDS = Object.keys(REGISTRATION_LABELS) as RegistrationField[];
const TYPE_ITEMS = ORGANISATION_TYPES.map((type) => ({ value: type, text: ORGANISATION_TYPE_NAMES[type] }));

/** The organisation registration page, open to anyone; a signed-in applicant registers with their own account. */
export async function registrationRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const { registration } = services.tenancy;
  const template = 'tenancy/register.njk';
  const extra = (signedIn: boolean) => ({ typeItems: TYPE_ITEMS, numberFields: NUMBER_FIELDS.map((name) => ({ name, label: REGISTRATION_LABELS[name] })), signedIn });

  app.get('/register', { config: { access: 'public' } }, async (request, reply) => showForm(services, request, reply, template, {}, [], extra(request.auth !== null), { type: 'type' }));

  app.post('/register', { config: { access: 'public' } }, async (request, reply) => {
    services.accounts.csrf.checkAnonymous(request);
    const input: RegistrationInput = {
      name: formField(request.body, 'name'),
      type: formField(request.body, 'type'),
      emailDomains: formField(request.body, 'emailDomains'),
      displayName: formField(request.body, 'displayName'),
      email: formField(request.body, 'email'),
      password: formField(request.body, 'password'),
    };
    for (const name of NUMBER_FIELDS) input[name] = formField(request.body, name);
    // The password is never sent back into the page.
    const { password: _password, ...kept } = input;
    const typeIds = { type: 'type' };
    const checked = registration.check(input, request.auth !== null);
    if (checked.errors.length > 0) return showForm(services, request, reply, template, kept, checked.errors, extra(request.auth !== null), typeIds);

    await services.accounts.rateLimiter.hit(REGISTRATION_BY_ADDRESS, request.ip);
    return withFormErrors(
      async () => {
        const registered = await registration.register(input, request.auth, request.id);
        if (request.auth === null) {
          // The same page whether or not an account already used the email, which was then emailed instead.
          const email = (input.email ?? '').trim().toLowerCase();
          return reply.page('accounts/message.njk', {
            title: 'Check your email',
            paragraphs: [
              `We have sent an email to ${email} about the registration of ${input.name.trim()}. Follow the instructions in it to continue.`,
              'A council administrator reviews a registration once its email address is confirmed, usually within 5 working days, and emails you the decision.',
              'If the email has not arrived within a few minutes, check your spam or junk folder.',
            ],
            link: { href: '/sign-in', text: 'Sign in to follow your registration' },
          });
        }
        // A signed-in applicant starts acting in the new organisation, so its page shows the review status.
        if (request.auth.sessionId && registered !== null) await services.accounts.signIn.switchOrganisation(request.auth.sessionId, request.auth.userId, registered.organisationId);
        return reply.page('accounts/message.njk', {
          title: 'Registration received',
          paragraphs: [`We have received the registration of ${input.name.trim()}. A council administrator will review it and email you the decision, usually within 5 working days.`],
          link: { href: '/organisation', text: 'Follow your registration' },
        });
      },
      (errors) => showForm(services, request, reply, template, kept, errors, extra(request.auth !== null), typeIds),
    );
  });
}
