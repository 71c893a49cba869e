import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { OrganisationRole } from '../src/accounts/accounts.tables.ts';
import { buildApp } from '../src/http/app.ts';
import type { GuardAccess, RouteAccessEntry } from '../src/http/auth.ts';
import type { Services } from '../src/services.ts';
import { buildOrganisation, buildUser, memberAuth, startCompleteSession } from './helpers/accounts.ts';
import { testEngines } from './helpers/engines.ts';
import { testServices } from './helpers/services.ts';

/**
 * Routes without a guard that anyone may call: the public portal and open data APIs (which show only open data to
 * callers without a token), and the sign-in journeys that work on the browser session themselves.
 */
const PUBLIC_ROUTES: RegExp[] = [
  /^\/$/,
  /^\/(accessibility|cookies|api-guide|datasets|organisations)$/,
  /^\/(dataset|organisation)\/:slug(\/|\.|$)/,
  /^\/catalog\.(jsonld|ttl)$/,
  /^\/agreements(\/:reference)?$/,
  /^\/api(\/3)?\/action\//,
  // The CKAN API roots, which give only the API version.
  /^\/api(\/3)?$/,
  /^\/api\/openapi\.json$/,
  /^\/api\/v1\/(datasets|organisations)(\/:slug)?(\/(versions|aggregate))?$/,
  /^\/api\/v1\/resources\/:id\/records$/,
  /^\/api\/v1\/audit\/(checkpoints|checkpoints\/latest|entries\/:id\/proof)$/,
  /^\/api\/v1\/exchange\/signing-keys$/,
  /^\/sign-(in|out)(\/two-factor)?$/,
  /^\/account\/(reset-password|verify-email|two-factor\/setup)(\/:secret)?$/,
  /^\/assets\//,
  /^\/healthz$/,
];

/**
 * Routes that check the caller inside the handler instead of declaring a guard. Each is listed with the reason, and
 * is walked for anonymous callers only; a declared guard should replace the entry.
 */
const CHECKED_IN_HANDLER = new Map<string, { reason: string; body: Record<string, unknown> }>([
  ['PUT /api/v1/datasets/:slug/visibility', { reason: 'the publication service requires a data steward of the dataset’s organisation', body: { visibility: 'open' } }],
]);

type Caller = 'anonymous' | OrganisationRole | 'platform_admin';
const CALLERS: Caller[] = ['anonymous', 'viewer', 'analyst', 'data_steward', 'data_protection_officer', 'administrator', 'platform_admin'];

function isPublic(entry: RouteAccessEntry): boolean {
  return entry.declared !== null || PUBLIC_ROUTES.some((pattern) => pattern.test(entry.url));
}

/** Whether `caller`, signed in through a browser session, should get past `guard`. */
function admits(guard: GuardAccess, caller: Caller): boolean {
  if (caller === 'anonymous') return false;
  switch (guard.kind) {
    case 'signed_in':
      return true;
    case 'token':
      return false;
    case 'platform_admin':
      return caller === 'platform_admin';
    case 'member':
      if (caller === 'platform_admin') return false;
      return guard.roles.length === 0 || caller === 'administrator' || guard.roles.includes(caller);
    case 'application':
      return caller !== 'platform_admin';
  }
}

/** Returns the status a rejected caller gets: 401 without a sign-in (or a browser session on a token-only route), else 403. */
function refusal(guards: GuardAccess[], caller: Caller): number {
  if (caller === 'anonymous' || guards.some((guard) => guard.kind === 'token')) return 401;
  return 403;
}

interface Tenant {
  organisationId: string;
  users: Record<OrganisationRole, { id: string; email: string }>;
  /** A viewer who is only ever the object of member routes (`:userId`), so removing or demoting them changes no caller. */
  targetUserId: string;
  invitationId: string;
  invitedEmail: string;
}

for (const engine of testEngines()) {
  describe(`authorisation matrix on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let services: Services;
    let app: FastifyInstance;
    let own: Tenant;
    let other: Tenant;
    let platformAdminId: string;

    const buildTenant = async (label: string): Promise<Tenant> => {
      const organisation = await buildOrganisation(handle.db, { slug: `matrix-${label}` });
      const users = {} as Tenant['users'];
      for (const role of ['viewer', 'analyst', 'data_steward', 'data_protection_officer', 'administrator'] as const) {
        const user = await buildUser(handle.db, { email: `${role}.${label}@matrix.test`, member: { organisationId: organisation.id, role } });
        users[role] = { id: user.id, email: user.email };
      }
      const target = await buildUser(handle.db, { email: `target.${label}@matrix.test`, member: { organisationId: organisation.id, role: 'viewer' } });
      const invitedEmail = `invited.${label}@matrix.test`;
      const { invitationId } = await services.tenancy.members.invite(memberAuth(users.administrator.id, organisation.id, 'administrator'), invitedEmail, 'viewer');
      return { organisationId: organisation.id, users, targetUserId: target.id, invitationId, invitedEmail };
    };

    const startSession = async (userId: string, organisationId: string | null) => {
      const started = await startCompleteSession(services, userId, organisationId);
      return { cookie: `${services.accounts.sessions.cookieName}=${started.cookieValue}`, csrf: started.session.csrfToken };
    };

    before(async () => {
      handle = await engine.create();
      services = testServices(handle.db);
      app = await buildApp(services);
      await app.ready();
      own = await buildTenant('own');
      other = await buildTenant('other');
      platformAdminId = (await buildUser(handle.db, { platformAdmin: true })).id;
    });
    after(async () => {
      await app.close();
      await handle.drop();
    });

    /** Fills a route's path parameters with objects of `tenant`, or with fresh ids for parameters of other features. */
    const fillPath = (url: string, tenant: Tenant): string =>
      url.replace(/:([A-Za-z]+)/g, (_match, name: string) => {
        if (name === 'userId') return tenant.targetUserId;
        if (name === 'id' && url.startsWith('/organisation/invitations')) return tenant.invitationId;
        if (name === 'id' && url.startsWith('/admin/organisations')) return randomUUID();
        if (name === 'token') return 'A'.repeat(43);
        return randomUUID();
      });

    // A fresh session for every request, because some routes (sign out everywhere) end the caller's sessions.
    const send = async (method: string, url: string, caller: Caller): Promise<LightMyRequestResponse> => {
      let session: { cookie: string; csrf: string } | undefined;
      if (caller === 'platform_admin') session = await startSession(platformAdminId, null);
      else if (caller !== 'anonymous') session = await startSession(own.users[caller].id, own.organisationId);
      const headers: Record<string, string> = {};
      if (session) {
        headers.cookie = session.cookie;
        headers['x-csrf-token'] = session.csrf;
      }
      const hasBody = method !== 'GET' && method !== 'DELETE';
      if (hasBody) headers['content-type'] = 'application/x-www-form-urlencoded';
      return app.inject({ method: method as 'GET', url, headers, ...(hasBody ? { payload: '' } : {}) });
    };

    /** Enables the applications a partner organisation starts with, which the application guards admit. */
    const enableApplications = async (tenant: Tenant) => {
      await handle.db.owner.updateTable('organisations').set({ applications: ['data_workspace', 'exchange'] }).where('id', '=', tenant.organisationId).execute();
    };

    const routes = () => app.routeAccess.filter((entry) => entry.method !== 'HEAD' && entry.method !== 'OPTIONS');

    test('every route declares its access', () => {
      const undeclared = routes()
        .filter((entry) => entry.guards.length === 0 && !isPublic(entry) && !CHECKED_IN_HANDLER.has(`${entry.method} ${entry.url}`))
        .map((entry) => `${entry.method} ${entry.url}`);
      assert.deepEqual(undeclared, [], 'these routes are not public but declare no guard: add requireRole, requireMember, requireToken, requireSignIn or requirePlatformAdmin, or config.access');
      assert.ok(routes().some((entry) => entry.url === '/organisation/members'), 'the route table includes the tenancy routes');
    });

    test('route × caller statuses', async () => {
      const failures: string[] = [];
      for (const entry of routes().filter((route) => route.guards.length > 0)) {
        const url = fillPath(entry.url, own);
        for (const caller of CALLERS) {
          const response = await send(entry.method, url, caller);
          // An empty post to the applications settings turns every application off; later routes need them back.
          if (entry.url === '/organisation/settings/applications') await enableApplications(own);
          const admitted = entry.guards.every((guard) => admits(guard, caller));
          const label = `${entry.method} ${entry.url} as ${caller}: ${response.statusCode}`;
          if (admitted && (response.statusCode === 401 || response.statusCode === 403)) failures.push(`${label}, expected to pass the guard`);
          // Fastify validates a body schema before preHandler guards run, so a refused caller may see that 400 first.
          const schemaFirst = response.statusCode === 400 && /"code":"(invalid_request|FST_ERR_VALIDATION)"/.test(response.body);
          if (!admitted && response.statusCode !== refusal(entry.guards, caller) && !schemaFirst) failures.push(`${label}, expected ${refusal(entry.guards, caller)}`);
          if (response.statusCode >= 500) failures.push(`${label}, server error`);
        }
      }
      for (const [key, { body }] of CHECKED_IN_HANDLER) {
        const [method, path] = key.split(' ') as [string, string];
        const response = await app.inject({ method: method as 'PUT', url: fillPath(path, own), payload: body });
        if (response.statusCode !== 401) failures.push(`${key} as anonymous: ${response.statusCode}, expected 401`);
      }
      assert.deepEqual(failures, []);
    });

    test('application routes need it enabled', async () => {
      // Only the exchange application is turned off below, so routes of other applications (data workspace) still pass.
      const guarded = routes().filter((entry) => entry.guards.some((guard) => guard.kind === 'application' && guard.application === 'exchange') && !entry.guards.some((guard) => guard.kind === 'token'));
      assert.ok(guarded.some((entry) => entry.url === '/agreements/manage'), 'the agreement pages need an application');
      assert.ok(
        routes().some((entry) => entry.url.startsWith('/api/v1/exchange/agreements/') && entry.guards.some((guard) => guard.kind === 'application')),
        'the exchange release routes need an application',
      );
      await handle.db.owner.updateTable('organisations').set({ applications: ['data_workspace'] }).where('id', '=', own.organisationId).execute();
      const failures: string[] = [];
      try {
        for (const entry of guarded) {
          const response = await send(entry.method, fillPath(entry.url, own), 'administrator');
          const schemaFirst = response.statusCode === 400 && /"code":"(invalid_request|FST_ERR_VALIDATION)"/.test(response.body);
          if (schemaFirst) continue;
          if (response.statusCode !== 403 || !response.body.includes('Secure data exchange')) failures.push(`${entry.method} ${entry.url}: ${response.statusCode}`);
        }
      } finally {
        await enableApplications(own);
      }
      assert.deepEqual(failures, []);
    });

    test('other organisation objects never returned', async () => {
      const failures: string[] = [];
      const secrets = [other.users.viewer.email, other.invitedEmail, other.users.administrator.email];
      for (const entry of routes().filter((route) => route.guards.some((guard) => guard.kind === 'member' || guard.kind === 'signed_in'))) {
        if (!/:/.test(entry.url) && entry.method !== 'GET') continue;
        const url = fillPath(entry.url, other);
        for (const caller of CALLERS) {
          if (caller === 'anonymous') continue;
          const response = await send(entry.method, url, caller);
          const leaked = secrets.filter((secret) => response.body.includes(secret));
          if (leaked.length > 0) failures.push(`${entry.method} ${entry.url} as ${caller} returned ${leaked.join(', ')}`);
          if (/:/.test(entry.url) && response.statusCode >= 200 && response.statusCode < 400) failures.push(`${entry.method} ${entry.url} as ${caller}: ${response.statusCode} for another organisation's object`);
        }
      }
      assert.deepEqual(failures, []);
      const target = await handle.db.owner.selectFrom('memberships').select('role').where('organisation_id', '=', other.organisationId).where('user_id', '=', other.targetUserId).executeTakeFirst();
      assert.equal(target?.role, 'viewer', 'the other organisation’s member is untouched');
      const invitation = await handle.db.owner.selectFrom('invitations').select('revoked_at').where('id', '=', other.invitationId).executeTakeFirstOrThrow();
      assert.equal(invitation.revoked_at, null, 'the other organisation’s invitation is untouched');
    });
  });
}
