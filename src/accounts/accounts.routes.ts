import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type FieldError } from '../errors.ts';
import { formPageContext } from '../http/forms.ts';
import { requireSignIn } from '../http/auth.ts';
import { RESET_BY_ADDRESS, RESET_BY_EMAIL, SECOND_FACTOR_BY_USER, SIGN_IN_BY_ADDRESS, SIGN_IN_BY_EMAIL, VERIFICATION_BY_USER } from '../http/rate-limit.ts';
import type { Services } from '../services.ts';
import type { EmailVerificationOutcome } from './account-link.service.ts';
import { setCurrentUser } from './account-scope.ts';
import { emailAddressProblem } from './email-address.ts';
import { MailSendError } from './mailer.ts';
import { registerTokenRoutes } from './api-token.routes.ts';
import { totpQrCode } from './totp-qr-code.ts';
import { ROLE_NAMES } from '../tenancy/members.service.ts';

type FormBody = Record<string, string | undefined>;

function field(body: unknown, name: string): string {
  const value = (body as FormBody | undefined)?.[name];
  return typeof value === 'string' ? value : '';
}


/** Sign-in, second factor, sign-out, password reset, email verification and account settings pages. */
export async function accountRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const { sessions, signIn, links, rateLimiter, csrf } = services.accounts;

  const show = (request: FastifyRequest, reply: FastifyReply, template: string, values: Record<string, unknown>, errors: FieldError[], extra: Record<string, unknown> = {}) =>
    reply.page(template, { ...formPageContext(values, errors), csrfToken: csrf.tokenFor(request, reply), ...extra }, errors.length > 0 ? 400 : 200);

  app.addPageContext((request) => {
    const auth = request.auth;
    if (!auth) return { accountNavigation: [{ text: 'Register an organisation', href: '/register' }, { text: 'Sign in', href: '/sign-in' }] };
    const links = [];
    if (auth.organisationId !== null) links.push({ text: 'Your organisation', href: '/organisation' });
    if (auth.platformAdmin) links.push({ text: 'Review organisations', href: '/admin/organisations' });
    links.push({ text: 'Your account', href: '/account' }, { text: 'Sign out', href: '/sign-out' });
    return { accountNavigation: links };
  });

  app.get('/sign-in', async (request, reply) => show(request, reply, 'accounts/sign-in.njk', {}, []));

  app.post('/sign-in', async (request, reply) => {
    csrf.checkAnonymous(request);
    const email = field(request.body, 'email').trim();
    const password = field(request.body, 'password');
    const errors: FieldError[] = [];
    const emailProblem = emailAddressProblem(email);
    if (email === '') errors.push({ field: 'email', message: 'Enter your email address' });
    else if (emailProblem !== null) errors.push({ field: 'email', message: emailProblem });
    if (password === '') errors.push({ field: 'password', message: 'Enter your password' });
    if (errors.length > 0) return show(request, reply, 'accounts/sign-in.njk', { email }, errors);

    await rateLimiter.hit(SIGN_IN_BY_ADDRESS, request.ip);
    await rateLimiter.hit(SIGN_IN_BY_EMAIL, email);
    try {
      if (request.session) await sessions.revoke(request.session.id);
      const result = await signIn.signIn(email, password, request.id);
      sessions.setCookie(reply, result.started.cookieValue);
      if (result.stage === 'second_factor') return reply.redirect('/sign-in/two-factor', 303);
      if (result.stage === 'second_factor_setup') return reply.redirect('/account/two-factor/setup', 303);
      return reply.redirect('/account', 303);
    } catch (error) {
      if (!(error instanceof AppError) || error.code !== 'sign_in_failed') throw error;
      return show(request, reply, 'accounts/sign-in.njk', { email }, [{ field: 'email', message: error.message }]);
    }
  });

  app.get('/sign-in/two-factor', async (request, reply) => {
    if (request.session?.stage !== 'second_factor') return reply.redirect('/sign-in', 303);
    return show(request, reply, 'accounts/two-factor.njk', {}, []);
  });

  app.post('/sign-in/two-factor', async (request, reply) => {
    const session = request.session;
    if (session?.stage !== 'second_factor') return reply.redirect('/sign-in', 303);
    await rateLimiter.hit(SIGN_IN_BY_ADDRESS, request.ip);
    await rateLimiter.hit(SECOND_FACTOR_BY_USER, session.userId);
    try {
      await signIn.verifySecondFactor(session.id, session.userId, field(request.body, 'code'), request.id);
    } catch (error) {
      if (error instanceof AppError && error.code === 'totp_invalid') return show(request, reply, 'accounts/two-factor.njk', {}, error.fields);
      throw error;
    }
    return reply.redirect('/account', 303);
  });

  // Reached at the next sign-in by anyone who must use a second factor, and from account settings by anyone else.
  app.get('/account/two-factor/setup', async (request, reply) => {
    const session = request.session;
    if (!session || (session.stage !== 'second_factor_setup' && session.stage !== 'complete')) return reply.redirect('/sign-in', 303);
    const { secret, uri } = await signIn.beginTotpSetup(session.userId);
    return show(request, reply, 'accounts/two-factor-setup.njk', {}, [], { secret, uri, qrCode: await totpQrCode(uri) });
  });

  app.post('/account/two-factor/setup', async (request, reply) => {
    const session = request.session;
    if (!session || (session.stage !== 'second_factor_setup' && session.stage !== 'complete')) return reply.redirect('/sign-in', 303);
    try {
      await signIn.confirmTotpSetup(session.userId, field(request.body, 'code'), session.id, request.id);
    } catch (error) {
      if (!(error instanceof AppError) || error.code !== 'totp_invalid') throw error;
      const { secret, uri } = await signIn.beginTotpSetup(session.userId);
      return show(request, reply, 'accounts/two-factor-setup.njk', {}, error.fields, { secret, uri, qrCode: await totpQrCode(uri) });
    }
    return reply.redirect('/account', 303);
  });

  app.get('/sign-out', async (request, reply) =>
    reply.page('accounts/message.njk', { title: 'Sign out', paragraphs: [], csrfToken: csrf.tokenFor(request, reply), signOutForm: true }),
  );

  app.post('/sign-out', async (request, reply) => {
    if (request.session) await sessions.revoke(request.session.id);
    sessions.clearCookie(reply);
    return reply.redirect('/sign-in', 303);
  });

  app.post('/account/sign-out-everywhere', { preHandler: requireSignIn() }, async (request, reply) => {
    await signIn.signOutEverywhere(request.auth!.userId, request.id);
    sessions.clearCookie(reply);
    return reply.page('accounts/message.njk', { title: 'You have been signed out everywhere', paragraphs: ['Every session on every device has ended.'], link: { href: '/sign-in', text: 'Sign in again' } });
  });

  const settingsPage = async (request: FastifyRequest, reply: FastifyReply, errors: FieldError[] = [], notice?: string, status?: number) => {
    const user = await services.db.app.transaction().execute(async (trx) => {
      await setCurrentUser(trx, request.auth!.userId);
      return trx.selectFrom('users').select(['email', 'display_name', 'email_verified_at', 'totp_enabled_at']).where('id', '=', request.auth!.userId).executeTakeFirstOrThrow();
    });
    const organisations = (await signIn.organisationsOf(request.auth!.userId)).map((organisation) => ({
      ...organisation,
      roleName: ROLE_NAMES[organisation.role],
      current: organisation.id === request.auth!.organisationId,
    }));
    const context = { user, organisations, notice, csrfToken: csrf.tokenFor(request, reply), ...formPageContext({}, errors) };
    return reply.page('accounts/settings.njk', context, status ?? (errors.length > 0 ? 400 : 200));
  };

  app.get('/account', { preHandler: requireSignIn() }, async (request, reply) => settingsPage(request, reply));

  // A person can belong to several organisations, such as two charities they volunteer for. A session acts for one.
  app.post('/account/organisation', { preHandler: requireSignIn() }, async (request, reply) => {
    const organisationId = field(request.body, 'organisation');
    const sessionId = request.auth!.sessionId;
    if (sessionId === null) {
      throw new AppError('forbidden', 'session_required', 'Choose an organisation while signed in through the browser, not with an API token.');
    }
    const member = (await signIn.organisationsOf(request.auth!.userId)).some((organisation) => organisation.id === organisationId);
    if (!member) {
      const message = 'Choose one of your organisations from the list';
      return settingsPage(request, reply, [{ field: 'organisation', message }]);
    }
    await signIn.switchOrganisation(sessionId, request.auth!.userId, organisationId);
    return reply.redirect('/organisation', 303);
  });

  app.post('/account/confirm-email', { preHandler: requireSignIn() }, async (request, reply) => {
    try {
      await rateLimiter.hit(VERIFICATION_BY_USER, request.auth!.userId);
    } catch (error) {
      if (!(error instanceof AppError) || error.kind !== 'rate_limited') throw error;
      const message = `You have asked for ${VERIFICATION_BY_USER.limit} confirmation emails in the last hour. Wait an hour, then send a new one`;
      return settingsPage(request, reply, [{ field: 'send-confirmation', message }], undefined, 429);
    }
    const sentTo = await links.resendVerification(request.auth!.userId, request.id);
    const notice = sentTo === null
      ? 'Your email address is already confirmed.'
      : `We have sent a new confirmation email to ${sentTo}. Its link works for 7 days, and links in earlier emails no longer work.`;
    return settingsPage(request, reply, [], notice);
  });

  app.get('/account/reset-password', async (request, reply) => show(request, reply, 'accounts/reset-request.njk', {}, []));

  app.post('/account/reset-password', async (request, reply) => {
    csrf.checkAnonymous(request);
    const email = field(request.body, 'email').trim();
    const emailProblem = email === '' ? 'Enter your email address' : emailAddressProblem(email);
    if (emailProblem !== null) return show(request, reply, 'accounts/reset-request.njk', { email }, [{ field: 'email', message: emailProblem }]);
    await rateLimiter.hit(RESET_BY_ADDRESS, request.ip);
    await rateLimiter.hit(RESET_BY_EMAIL, email);
    try {
      await links.requestPasswordReset(email, request.id);
    } catch (error) {
      // The reply must not differ for an address with an account, or it would tell who has one. The operator finds
      // the failure in the log, and the person can ask again once mail works.
      if (!(error instanceof MailSendError)) throw error;
      request.log.error({ err: error }, 'password reset email not sent');
    }
    return reply.page('accounts/message.njk', {
      title: 'Check your email',
      paragraphs: ['If an account uses that email address, we have sent it a link to reset the password. The link works for 1 hour.'],
    });
  });

  app.get<{ Params: { secret: string } }>('/account/reset-password/:secret', async (request, reply) => {
    if (!(await links.resetLinkIsValid(request.params.secret))) {
      return reply.page('accounts/message.njk', { title: 'This link has expired', paragraphs: ['Reset links work once, for 1 hour.'], link: { href: '/account/reset-password', text: 'Ask for a new link' } }, 404);
    }
    return show(request, reply, 'accounts/reset-password.njk', {}, [], { secret: request.params.secret });
  });

  app.post<{ Params: { secret: string } }>('/account/reset-password/:secret', async (request, reply) => {
    csrf.checkAnonymous(request);
    try {
      await links.resetPassword(request.params.secret, field(request.body, 'password'), request.id);
    } catch (error) {
      if (!(error instanceof AppError) || error.kind !== 'validation') throw error;
      return show(request, reply, 'accounts/reset-password.njk', {}, error.fields, { secret: request.params.secret });
    }
    sessions.clearCookie(reply);
    return reply.page('accounts/message.njk', { title: 'Your password has been set', paragraphs: ['Any session that was signed in to this account has been signed out. Sign in with your new password.'], link: { href: '/sign-in', text: 'Sign in' } });
  });

  /** Renders the outcome of a confirmation link: the address confirmed, or the reason it could not be. */
  const emailLinkPage = async (request: FastifyRequest, reply: FastifyReply, outcome: EmailVerificationOutcome) => {
    const next = request.auth === null ? { href: '/sign-in', text: 'Sign in' } : { href: '/account', text: 'Go to your account' };
    if (outcome === 'confirmed') {
      const review = 'If you registered an organisation, a platform administrator reviews the registration next, and we will email you the decision.';
      return reply.page('accounts/message.njk', { title: 'Email address confirmed', paragraphs: [review], link: next });
    }
    if (outcome === 'already_confirmed') {
      return reply.page('accounts/message.njk', { title: 'Your email address is already confirmed', paragraphs: ['This link has been used. You do not need to do anything else.'], link: next });
    }
    const resend = request.auth === null
      ? 'Sign in, then send a new confirmation email from your account page.'
      : 'Send a new confirmation email from your account page.';
    const page = outcome === 'expired'
      ? { title: 'This link has expired', paragraphs: ['Confirmation links work for 7 days, and only the link in the newest confirmation email works.', resend] }
      : { title: 'This link is not valid', paragraphs: ['Check that you opened or copied the whole link from the email.', resend] };
    return reply.page('accounts/message.njk', { ...page, link: next }, 404);
  };

  // Opening the link only shows a button, and the address is confirmed by the form it posts. Mail filters that open
  // every link in a message to scan it therefore cannot confirm an address that its owner never saw.
  app.get<{ Params: { secret: string } }>('/account/verify-email/:secret', async (request, reply) => {
    const state = await links.emailLinkState(request.params.secret);
    if (state === 'usable') return show(request, reply, 'accounts/confirm-email.njk', {}, [], { secret: request.params.secret });
    return emailLinkPage(request, reply, state);
  });

  app.post<{ Params: { secret: string } }>('/account/verify-email/:secret', async (request, reply) => {
    csrf.checkAnonymous(request);
    return emailLinkPage(request, reply, await links.verifyEmail(request.params.secret, request.id));
  });

  await registerTokenRoutes(app, services);
}
