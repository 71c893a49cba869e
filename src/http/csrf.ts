import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import { isApiRequest } from './error-pages.ts';

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function sameToken(expected: string, presented: unknown): boolean {
  if (typeof presented !== 'string' || presented.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(presented), Buffer.from(expected));
}

/** The token a request presented: the `_csrf` form field, the `x-csrf-token` header, or (for multipart uploads) the query. */
function presentedToken(request: FastifyRequest): unknown {
  const body = request.body as Record<string, unknown> | undefined;
  if (body && typeof body === 'object' && '_csrf' in body) return body._csrf;
  if (typeof request.headers['x-csrf-token'] === 'string') return request.headers['x-csrf-token'];
  return (request.query as Record<string, unknown> | undefined)?._csrf;
}

/** Builds the refusal of a request without its token, worded for a person at a form or, on the API, for a script. */
function rejection(request: FastifyRequest): AppError {
  if (isApiRequest(request)) {
    return new AppError(
      'forbidden',
      'csrf_failed',
      'This request sends a session cookie, so it needs the session\'s CSRF token in the X-CSRF-Token header (the _csrf value of any page of this service). A script should send an API token in the Authorization header instead.',
    );
  }
  return new AppError('forbidden', 'csrf_failed', 'The form has expired or was not sent from this service. Go back, reload the page and try again.');
}

/**
 * Synchroniser-token CSRF protection. A request carrying a session cookie must send its session's token with every
 * POST, PUT, PATCH or DELETE; bearer-token requests are exempt because browsers never add that header by themselves.
 * Forms before sign-in (sign in, register, password reset) use a separate random cookie and check it with
 * `checkAnonymousCsrf`, which stops another site signing a browser in to an account of its choosing.
 */
export class CsrfProtection {
  readonly cookieName: string;

  constructor(private readonly production: boolean) {
    this.cookieName = production ? '__Host-civic_csrf' : 'civic_csrf';
  }

  register(app: FastifyInstance): void {
    app.addHook('preHandler', async (request) => {
      if (!UNSAFE_METHODS.has(request.method) || request.auth?.via === 'token') return;
      const session = request.session;
      if (session && !sameToken(session.csrfToken, presentedToken(request))) throw rejection(request);
    });
  }

  /** The token to put in a form's hidden `_csrf` field: the session's, or the anonymous cookie's (set when missing). */
  tokenFor(request: FastifyRequest, reply: FastifyReply): string {
    if (request.session) return request.session.csrfToken;
    const existing = request.cookies[this.cookieName];
    if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
    const created = randomBytes(32).toString('base64url');
    void reply.setCookie(this.cookieName, created, { path: '/', httpOnly: true, sameSite: 'lax', secure: this.production });
    request.cookies[this.cookieName] = created;
    return created;
  }

  /** Checks a form posted before sign-in against the anonymous cookie. Requests with a session are checked by the hook. */
  checkAnonymous(request: FastifyRequest): void {
    if (request.session) return;
    const cookie = request.cookies[this.cookieName];
    if (!cookie || !sameToken(cookie, presentedToken(request))) throw rejection(request);
  }
}
