import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.ts';
import { SIGN_IN_BY_ADDRESS } from '../http/rate-limit.ts';
import type { Services } from '../services.ts';
import { formField, showForm } from './form-fields.ts';
import { SSO_CALLBACK_PATH, SSO_LOGIN_LIFETIME_MS } from './sso.service.ts';

/**
 * Single sign-on: the sign-in page's second form posts here, the browser goes to the organisation's provider, and the
 * provider sends it back to the callback. A short-lived cookie contains the `state`, binding the callback to the browser
 * that started the sign-on.
 */
export async function ssoRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const { sso } = services.tenancy;
  const { sessions, csrf, rateLimiter } = services.accounts;
  const stateCookie = services.config.production ? '__Host-civic_sso_state' : 'civic_sso_state';
  const cookieOptions = { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: services.config.production };

  app.post('/sign-in/sso', { config: { access: 'public' } }, async (request, reply) => {
    csrf.checkAnonymous(request);
    const email = formField(request.body, 'email');
    await rateLimiter.hit(SIGN_IN_BY_ADDRESS, request.ip);
    try {
      const started = await sso.start(email);
      void reply.setCookie(stateCookie, started.state, { ...cookieOptions, maxAge: SSO_LOGIN_LIFETIME_MS / 1000 });
      // A page with a link, not a redirect: the sign-in page's content security policy allows forms to post only to
      // this service, and browsers apply that to a redirect after the post.
      return reply.header('cache-control', 'no-store').page('tenancy/sso-continue.njk', { authorizationUrl: started.authorizationUrl.href, organisationName: started.organisationName });
    } catch (error) {
      if (!(error instanceof AppError) || error.kind !== 'validation') throw error;
      return showForm(services, request, reply, 'accounts/sign-in.njk', { ssoEmail: email }, error.fields);
    }
  });

  app.get(SSO_CALLBACK_PATH, { config: { access: 'public' } }, async (request, reply) => {
    const browserState = request.cookies[stateCookie];
    void reply.clearCookie(stateCookie, cookieOptions);
    const callbackUrl = new URL(request.url, sso.redirectUri);
    const started = await sso.finish(callbackUrl, browserState, request.id);
    if (request.session) await sessions.revoke(request.session.id);
    sessions.setCookie(reply, started.cookieValue);
    if (started.session.stage === 'second_factor') return reply.redirect('/sign-in/two-factor', 303);
    if (started.session.stage === 'second_factor_setup') return reply.redirect('/account/two-factor/setup', 303);
    return reply.redirect('/organisation', 303);
  });
}
