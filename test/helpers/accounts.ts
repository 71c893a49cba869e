import { randomUUID } from 'node:crypto';
import { hash } from '@node-rs/argon2';
import type { OrganisationRole } from '../../src/accounts/accounts.tables.ts';
import type { AuthContext } from '../../src/accounts/auth-context.ts';
import type { Database } from '../../src/db/database.ts';
import type { FastifyInstance } from 'fastify';
import { setCurrentUser } from '../../src/accounts/account-scope.ts';
import { secondFactorRequired } from '../../src/accounts/second-factor-policy.ts';
import type { StartedSession } from '../../src/accounts/session.service.ts';
import { setPlatformScope } from '../../src/db/tenant.ts';
import type { Services } from '../../src/services.ts';
import { WebClient } from './web-client.ts';

/** Builders for accounts tests: rows are written through the application role in the platform scope. */

export interface BuiltOrganisation {
  id: string;
  slug: string;
}

export async function buildOrganisation(db: Database, options: { slug?: string; status?: 'pending' | 'active' | 'declined' | 'closed' } = {}): Promise<BuiltOrganisation> {
  const slug = options.slug ?? `org-${randomUUID().slice(0, 8)}`;
  const row = await db.app.transaction().execute(async (trx) => {
    await setPlatformScope(trx);
    return trx
      .insertInto('organisations')
      .values({ slug, name: `Organisation ${slug}`, status: options.status ?? 'active' })
      .returning('id')
      .executeTakeFirstOrThrow();
  });
  return { id: row.id, slug };
}

export interface BuiltUser {
  id: string;
  email: string;
  password: string;
}

export async function buildUser(
  db: Database,
  options: { email?: string; password?: string; platformAdmin?: boolean; member?: { organisationId: string; role: OrganisationRole } } = {},
): Promise<BuiltUser> {
  const email = options.email ?? `user-${randomUUID().slice(0, 8)}@example.org`;
  const password = options.password ?? 'correct horse battery staple';
  const passwordHash = await hash(password);
  const row = await db.app.transaction().execute(async (trx) => {
    await setPlatformScope(trx);
    const user = await trx
      .insertInto('users')
      .values({ email, display_name: email.split('@')[0]!, password_hash: passwordHash, email_verified_at: new Date(), is_platform_admin: options.platformAdmin ?? false })
      .returning('id')
      .executeTakeFirstOrThrow();
    if (options.member) {
      await trx.insertInto('memberships').values({ organisation_id: options.member.organisationId, user_id: user.id, role: options.member.role }).execute();
    }
    return user;
  });
  return { id: row.id, email, password };
}

/** The request identity of a member acting through a browser session. */
export function memberAuth(userId: string, organisationId: string, role: OrganisationRole): AuthContext {
  return { via: 'session', userId, organisationId, roles: [role], scopes: null, platformAdmin: false, sessionId: null, tokenId: null };
}

/**
 * Returns a read and write token made by a data steward who has since been given `role`. Tokens are checked against
 * their holder's current role, so this is how a caller with the write scope but another role arises.
 */
export async function tokenAfterRoleChange(db: Database, services: Services, organisationId: string, role: OrganisationRole): Promise<string> {
  const user = await buildUser(db, { member: { organisationId, role: 'data_steward' } });
  const created = await services.tokens.create(memberAuth(user.id, organisationId, 'data_steward'), { name: `former steward, now ${role}`, scopes: ['read', 'write'] });
  await db.app.transaction().execute(async (trx) => {
    await setPlatformScope(trx);
    await trx.updateTable('memberships').set({ role }).where('organisation_id', '=', organisationId).where('user_id', '=', user.id).execute();
  });
  return created.token;
}

/**
 * Starts a complete session for a user acting in `organisationId`, as if they had signed in with every factor. A user
 * whose roles need a second factor and who has none gets an authenticator app set up first, because a session without
 * one is limited to setting it up. For route tests that are not about signing in.
 */
export async function startCompleteSession(services: Services, userId: string, organisationId: string | null): Promise<StartedSession> {
  const needsApp = await services.db.app.transaction().execute(async (trx) => {
    await setCurrentUser(trx, userId);
    const user = await trx.selectFrom('users').select(['is_platform_admin', 'totp_enabled_at']).where('id', '=', userId).executeTakeFirstOrThrow();
    return user.totp_enabled_at === null && (await secondFactorRequired(trx, userId, user.is_platform_admin));
  });
  if (needsApp) {
    await services.accounts.signIn.beginTotpSetup(userId);
    await services.db.owner.updateTable('users').set({ totp_enabled_at: new Date() }).where('id', '=', userId).execute();
  }
  return services.db.app.transaction().execute(async (trx) => {
    await setCurrentUser(trx, userId);
    return services.accounts.sessions.start(trx, userId, 'complete', organisationId, { secondFactorGiven: true });
  });
}

/** Starts a complete session as startCompleteSession does and returns the cookie value. */
export async function startSessionFor(services: Services, userId: string, organisationId: string | null): Promise<string> {
  return (await startCompleteSession(services, userId, organisationId)).cookieValue;
}

/** A web client signed in as `userId` acting in `organisationId`. */
export async function signedInClient(app: FastifyInstance, services: Services, userId: string, organisationId: string | null): Promise<WebClient> {
  const client = new WebClient(app);
  client.cookies.set(services.accounts.sessions.cookieName, await startSessionFor(services, userId, organisationId));
  return client;
}
