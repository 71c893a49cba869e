import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { DB } from '../db/schema.ts';
import type { OrganisationRole, SessionStage } from './accounts.tables.ts';
import { presentSecret, setCurrentUser, sha256Hex } from './account-scope.ts';
import type { AuthContext } from './auth-context.ts';
import { secondFactorRequired } from './second-factor-policy.ts';

/** A session idle for this long is signed out. */
export const IDLE_TIMEOUT_MS = 60 * 60_000;
/** A session ends this long after sign-in however active it is. */
export const ABSOLUTE_TIMEOUT_MS = 12 * 60 * 60_000;
/** `last_seen_at` is written at most once per this many milliseconds. */
const LAST_SEEN_RESOLUTION_MS = 60_000;

/** The session row behind a request, whatever its stage; `request.auth` is set only for complete sessions. */
export interface LoadedSession {
  id: string;
  userId: string;
  stage: SessionStage;
  csrfToken: string;
  organisationId: string | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The browser session of this request, including one still waiting for its second factor; null without one. */
    session: LoadedSession | null;
  }
}

export interface StartSessionOptions {
  via?: 'password' | 'single_sign_on';
  /** Whether the second factor was given as the session started. Later requests read it to admit privileged roles. */
  secondFactorGiven?: boolean;
}

export interface StartedSession {
  cookieValue: string;
  session: LoadedSession;
}

/** Server-side sessions: the cookie holds a random value, the database its SHA-256 hash. */
export class SessionService {
  readonly cookieName: string;

  constructor(
    private readonly db: { app: Kysely<DB> },
    private readonly config: Pick<Config, 'production'>,
  ) {
    // The __Host- prefix makes browsers insist on Secure, Path=/ and no Domain; plain http in development cannot use it.
    this.cookieName = config.production ? '__Host-civic_session' : 'civic_session';
  }

  /**
   * Starts a session for `userId` in `trx`, which must act as that user (setCurrentUser). A new random id every time,
   * so signing in never reuses the id a browser had before.
   */
  async start(trx: Kysely<DB>, userId: string, stage: SessionStage, organisationId: string | null, options: StartSessionOptions = {}): Promise<StartedSession> {
    const cookieValue = randomBytes(32).toString('base64url');
    const id = sha256Hex(cookieValue);
    const csrfToken = randomBytes(32).toString('base64url');
    await trx
      .insertInto('sessions')
      .values({
        id,
        user_id: userId,
        current_organisation_id: organisationId,
        stage,
        csrf_token: csrfToken,
        via: options.via ?? 'password',
        second_factor_at: options.secondFactorGiven ? new Date() : null,
        expires_at: new Date(Date.now() + ABSOLUTE_TIMEOUT_MS),
      })
      .execute();
    return { cookieValue, session: { id, userId, stage, csrfToken, organisationId } };
  }

  /** Moves a session to another stage or organisation. `secondFactorGiven` records that a second factor was just given. */
  async update(trx: Kysely<DB>, sessionId: string, changes: { stage?: SessionStage; organisationId?: string | null; secondFactorGiven?: boolean }): Promise<void> {
    await presentSecret(trx, sessionId);
    await trx
      .updateTable('sessions')
      .set({ stage: changes.stage, current_organisation_id: changes.organisationId, second_factor_at: changes.secondFactorGiven ? new Date() : undefined })
      .where('id', '=', sessionId)
      .execute();
  }

  /**
   * Reads the session for a cookie value; null when unknown, revoked, idle too long or past its absolute expiry.
   * A complete session whose user now needs a second factor (after a promotion to administrator, say) and has not
   * given one in this session goes back to the stage sign-in would have chosen. It then gets no auth.
   */
  async load(cookieValue: string): Promise<{ session: LoadedSession; auth: AuthContext | null } | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(cookieValue)) return null;
    const id = sha256Hex(cookieValue);
    return this.db.app.transaction().execute(async (trx) => {
      await presentSecret(trx, id);
      const row = await trx
        .selectFrom('sessions')
        .select(['id', 'user_id', 'current_organisation_id', 'stage', 'csrf_token', 'via', 'second_factor_at', 'last_seen_at', 'expires_at', 'revoked_at'])
        .where('id', '=', id)
        .executeTakeFirst();
      const now = Date.now();
      if (!row || row.revoked_at !== null || row.expires_at.getTime() <= now || row.last_seen_at.getTime() + IDLE_TIMEOUT_MS <= now) return null;
      if (now - row.last_seen_at.getTime() >= LAST_SEEN_RESOLUTION_MS) {
        await trx.updateTable('sessions').set({ last_seen_at: new Date(now) }).where('id', '=', id).execute();
      }
      const session: LoadedSession = { id, userId: row.user_id, stage: row.stage, csrfToken: row.csrf_token, organisationId: row.current_organisation_id };
      if (row.stage !== 'complete') return { session, auth: null };

      await setCurrentUser(trx, row.user_id);
      const user = await trx.selectFrom('users').select(['is_platform_admin', 'totp_enabled_at']).where('id', '=', row.user_id).executeTakeFirst();
      if (!user) return null;
      // A single sign-on session may have its second factor from the provider (see sso.service.ts), which resetting
      // this service's TOTP does not take away. A password session's factor is this service's TOTP code.
      const factorGiven = row.second_factor_at !== null && (row.via === 'single_sign_on' || user.totp_enabled_at !== null);
      if (!factorGiven && (await secondFactorRequired(trx, row.user_id, user.is_platform_admin))) {
        session.stage = user.totp_enabled_at === null ? 'second_factor_setup' : 'second_factor';
        await trx.updateTable('sessions').set({ stage: session.stage }).where('id', '=', id).execute();
        return { session, auth: null };
      }
      let roles: OrganisationRole[] = [];
      let organisationId = row.current_organisation_id;
      if (organisationId !== null) {
        const membership = await trx
          .selectFrom('memberships')
          .innerJoin('organisations', 'organisations.id', 'memberships.organisation_id')
          .select(['memberships.role', 'organisations.status'])
          .where('memberships.organisation_id', '=', organisationId)
          .where('memberships.user_id', '=', row.user_id)
          .executeTakeFirst();
        // A pending organisation's applicant may sign in to follow the review; a closed or declined one gives no roles.
        if (membership && (membership.status === 'active' || membership.status === 'pending')) roles = [membership.role];
        else organisationId = null;
      }
      const auth: AuthContext = {
        via: 'session',
        userId: row.user_id,
        organisationId,
        roles,
        scopes: null,
        platformAdmin: user.is_platform_admin,
        sessionId: id,
        tokenId: null,
      };
      return { session, auth };
    });
  }

  /** Reads the request's session cookie; sets `request.session` and returns the auth context of a complete session. */
  async authenticateRequest(request: FastifyRequest): Promise<AuthContext | null> {
    request.session = null;
    const cookieValue = request.cookies[this.cookieName];
    if (!cookieValue) return null;
    const loaded = await this.load(cookieValue);
    if (!loaded) return null;
    request.session = loaded.session;
    return loaded.auth;
  }

  /** Revokes one session. */
  async revoke(sessionId: string): Promise<void> {
    await this.db.app.transaction().execute(async (trx) => {
      await presentSecret(trx, sessionId);
      await trx.updateTable('sessions').set({ revoked_at: new Date() }).where('id', '=', sessionId).where('revoked_at', 'is', null).execute();
    });
  }

  /** Revokes every session of a user in `trx` (sign out everywhere, password change); returns how many were open. */
  async revokeAllForUser(trx: Kysely<DB>, userId: string): Promise<number> {
    await setCurrentUser(trx, userId);
    const result = await trx
      .updateTable('sessions')
      .set({ revoked_at: new Date() })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  setCookie(reply: FastifyReply, cookieValue: string): void {
    void reply.setCookie(this.cookieName, cookieValue, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: this.config.production,
      maxAge: Math.floor(ABSOLUTE_TIMEOUT_MS / 1000),
    });
  }

  clearCookie(reply: FastifyReply): void {
    void reply.clearCookie(this.cookieName, { path: '/', httpOnly: true, sameSite: 'lax', secure: this.config.production });
  }
}
