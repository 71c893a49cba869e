import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { OrganisationRole, TokenScope } from '../accounts/accounts.tables.ts';
import { tokenAuthContext } from '../accounts/api-token.service.ts';
import type { AuthContext } from '../accounts/auth-context.ts';
import { AppError } from '../errors.ts';
import type { Services } from '../services.ts';
import { applicationRefusal, organisationApplications } from '../tenancy/applications.ts';
import { ROLE_NAMES } from '../tenancy/members.service.ts';
import type { ApplicationId, PlanId } from '../tenancy/tenancy.tables.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is making the request; null when anonymous. Set by the authentication hook before any route runs. */
    auth: AuthContext | null;
  }
  interface FastifyInstance {
    /** The plan and enabled applications of an active organisation; null when it is not active. */
    organisationApplications(organisationId: string): Promise<{ plan: PlanId; applications: ApplicationId[] } | null>;
    /** Every route registered after authentication, with the access its guards declare (see recordRouteAccess). */
    routeAccess: RouteAccessEntry[];
  }
  interface FastifyContextConfig {
    /**
     * Declares a route without a guard: `public` for anyone, `session` for routes that check the browser session
     * themselves (such as the second-factor step, which comes before a complete sign-in).
     */
    access?: 'public' | 'session';
  }
}

/** What a guard admits, recorded so that tests can list every route with its declared access. */
export type GuardAccess =
  | { kind: 'signed_in' }
  | { kind: 'member'; roles: OrganisationRole[]; scope?: TokenScope | TokenScope[] }
  | { kind: 'token'; scope: TokenScope }
  | { kind: 'platform_admin' }
  | { kind: 'application'; application: string };

export interface RouteAccessEntry {
  method: string;
  url: string;
  guards: GuardAccess[];
  declared: 'public' | 'session' | null;
}

const guardAccess = new WeakMap<object, GuardAccess>();

function describeGuard<T extends preHandlerAsyncHookHandler>(guard: T, access: GuardAccess): T {
  guardAccess.set(guard, access);
  return guard;
}

/** Records each route's guards and declared access into `app.routeAccess` as the route is registered. */
function recordRouteAccess(app: FastifyInstance): void {
  app.decorate('routeAccess', [] as RouteAccessEntry[]);
  app.addHook('onRoute', (route) => {
    const handlers = [route.preHandler, route.onRequest, route.preValidation].flat().filter((handler) => handler !== undefined && handler !== null);
    const guards = handlers.map((handler) => guardAccess.get(handler as object)).filter((access): access is GuardAccess => access !== undefined);
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      app.routeAccess.push({ method, url: route.url, guards, declared: (route.config as { access?: 'public' | 'session' } | undefined)?.access ?? null });
    }
  });
}

/**
 * Sets `request.auth` on every request: from a bearer token when an Authorization header is sent (an invalid token is
 * rejected with 401 rather than treated as anonymous), otherwise from the session cookie. Also installs the cookie and
 * form body parsers and the CSRF check, which need the session.
 */
export async function registerAuthentication(app: FastifyInstance, services: Services): Promise<void> {
  // Other features may have registered these already; registering twice would fail.
  if (!app.hasRequestDecorator('cookies')) await app.register(fastifyCookie);
  if (!app.hasContentTypeParser('application/x-www-form-urlencoded')) await app.register(fastifyFormbody);
  recordRouteAccess(app);
  app.decorate('organisationApplications', (organisationId: string) => organisationApplications(services.db.app, organisationId));
  app.decorateRequest('auth', null);
  app.decorateRequest('session', null);
  app.addHook('onRequest', async (request) => {
    request.auth = null;
    request.session = null;
    const header = request.headers.authorization;
    if (header !== undefined) {
      request.auth = tokenAuthContext(await services.tokens.authenticateBearer(header, null));
      return;
    }
    request.auth = await services.accounts.sessions.authenticateRequest(request);
  });
  services.accounts.csrf.register(app);
}

/** The page at which a browser session waiting for its second factor continues, by error code. */
export const SECOND_FACTOR_PATHS = { second_factor_required: '/sign-in/two-factor', second_factor_setup_required: '/account/two-factor/setup' } as const;

/**
 * Builds the error for a request without auth. For a session still waiting for its second factor (at sign-in, or after
 * a promotion to a role that needs one), the error names the page where it is entered, and error pages redirect there.
 */
function unauthenticated(request: FastifyRequest): AppError {
  const stage = request.session?.stage;
  if (stage === 'second_factor') {
    return new AppError('unauthenticated', 'second_factor_required', `Enter the code from your authenticator app at ${SECOND_FACTOR_PATHS.second_factor_required} to continue.`);
  }
  if (stage === 'second_factor_setup') {
    return new AppError('unauthenticated', 'second_factor_setup_required', `Your role needs two-factor authentication. Set it up at ${SECOND_FACTOR_PATHS.second_factor_setup_required} to continue.`);
  }
  return new AppError('unauthenticated', 'sign_in_required', 'Sign in, or send an API token in the Authorization header.');
}

/**
 * A preHandler that admits only bearer-token requests whose token carries `scope`. Use it on machine API routes
 * (uploads, exchange); browser sessions are rejected with 401.
 */
export function requireToken(scope: TokenScope): preHandlerAsyncHookHandler {
  return describeGuard(async function checkToken(request: FastifyRequest, reply: FastifyReply) {
    const auth = request.auth;
    if (auth === null || auth.via !== 'token') {
      void reply.header('www-authenticate', 'Bearer realm="civic"');
      throw new AppError('unauthenticated', 'token_missing', 'Send an API token in the Authorization header as "Bearer civic_…".');
    }
    if (!auth.scopes?.includes(scope)) {
      throw new AppError('forbidden', 'token_scope', `The API token does not have the "${scope}" scope. Create a token with that scope.`);
    }
  }, { kind: 'token', scope });
}

/** Returns whether `auth` has one of `roles` in its current organisation. Administrators have every role. */
export function hasRole(auth: AuthContext | null, roles: readonly OrganisationRole[]): boolean {
  if (auth === null || auth.organisationId === null) return false;
  return auth.roles.includes('administrator') || auth.roles.some((role) => roles.includes(role));
}

/** Names, in words, the roles that may do something; administrators hold every role, so they are always named. */
export function roleRequiredMessage(roles: readonly OrganisationRole[]): string {
  const named = roles.filter((role) => role !== 'administrator').map((role) => `a ${ROLE_NAMES[role].toLowerCase()}`);
  const allowed = [...named, 'an administrator'].join(' or ');
  return `Only ${allowed} of your organisation can do this. Ask an administrator of your organisation if you need this role.`;
}

/**
 * A preHandler that admits a signed-in member (or a token whose owner is a member) holding one of `roles` in the
 * current organisation. With no roles, any member passes. A token must also carry `options.scope` when given, or one
 * of the scopes when it is a list.
 */
export function requireRole(...roles: OrganisationRole[]): preHandlerAsyncHookHandler {
  return requireMember({ roles });
}

export function requireMember(options: { roles?: OrganisationRole[]; scope?: TokenScope | TokenScope[] } = {}): preHandlerAsyncHookHandler {
  const roles = options.roles ?? [];
  const scopes = options.scope === undefined ? [] : [options.scope].flat();
  return describeGuard(async function checkMember(request: FastifyRequest) {
    const auth = request.auth;
    if (auth === null) throw unauthenticated(request);
    if (auth.organisationId === null || auth.roles.length === 0) {
      throw new AppError('forbidden', 'not_a_member', 'You are not a member of an organisation. Ask its administrator for an invitation.');
    }
    // The scope comes first: a token without it is rejected whatever its owner's role, so naming a role would mislead.
    if (auth.via === 'token' && scopes.length > 0 && !scopes.some((scope) => auth.scopes?.includes(scope))) {
      const named = scopes.map((scope) => `"${scope}"`).join(' or ');
      throw new AppError('forbidden', 'token_scope', `The API token does not have the ${named} scope. Create a token with ${scopes.length > 1 ? 'one of those scopes' : 'that scope'}.`);
    }
    if (roles.length > 0 && !hasRole(auth, roles)) throw new AppError('forbidden', 'role_required', roleRequiredMessage(roles));
  }, { kind: 'member', roles, ...(options.scope === undefined ? {} : { scope: options.scope }) });
}

/** Builds a preHandler that admits any signed-in user, member of an organisation or not. */
export function requireSignIn(): preHandlerAsyncHookHandler {
  return describeGuard(async function checkSignedIn(request: FastifyRequest) {
    if (request.auth === null) throw unauthenticated(request);
  }, { kind: 'signed_in' });
}

/** Builds a preHandler that admits platform administrators signed in through a browser session (never a token). */
export function requirePlatformAdmin(): preHandlerAsyncHookHandler {
  return describeGuard(async function checkPlatformAdmin(request: FastifyRequest) {
    if (request.auth === null) throw unauthenticated(request);
    if (!request.auth.platformAdmin || request.auth.via !== 'session') {
      throw new AppError('forbidden', 'platform_admin_required', 'Only platform administrators can do this.');
    }
  }, { kind: 'platform_admin' });
}

/**
 * Checks that the caller is a member of an active organisation that has `application` enabled. Throws 401 for an
 * anonymous caller and 403 naming the application and who can enable it otherwise. Routes use `requireApplication`;
 * a handler calls this directly when one of its options belongs to another application.
 */
export async function checkApplication(request: FastifyRequest, application: ApplicationId): Promise<void> {
  const auth = request.auth;
  if (auth === null) throw unauthenticated(request);
  const access = auth.organisationId === null ? null : (auth.access ?? (await request.server.organisationApplications(auth.organisationId)));
  if (access === null && auth.organisationId === null) throw new AppError('forbidden', 'not_a_member', 'You are not a member of an active organisation.');
  // A session keeps its organisation while that organisation waits for review, so a member can follow the review.
  if (access === null) throw new AppError('forbidden', 'not_a_member', 'Your organisation is not active, so it cannot use this. Its registration is waiting for review by a council administrator or was declined, or the organisation was closed.');
  const refusal = applicationRefusal(access, application);
  if (refusal !== null) throw new AppError('forbidden', 'application_not_enabled', refusal, { detail: `application ${application}` });
}

/**
 * A preHandler that admits members of an active organisation that has `application` enabled. Use it after
 * requireMember, requireRole or requireToken on the routes of that application, so an anonymous caller still gets
 * 401 first.
 */
export function requireApplication(application: ApplicationId): preHandlerAsyncHookHandler {
  return describeGuard(async function checkApplicationGuard(request: FastifyRequest) {
    await checkApplication(request, application);
  }, { kind: 'application', application });
}
