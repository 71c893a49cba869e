import { hash, verify } from '@node-rs/argon2';
import type { Kysely } from 'kysely';
import { generateSecret, generateURI, verify as verifyTotp } from 'otplib';
import { appendAuditEvent } from '../audit/audit.repository.ts';
import type { DB } from '../db/schema.ts';
import { AppError, validationError } from '../errors.ts';
import type { KeyRing } from '../keys/key-ring.ts';
import type { OrganisationRole, SessionStage } from './accounts.tables.ts';
import { findUserIdByEmail, setCurrentUser } from './account-scope.ts';
import { secondFactorRequired } from './second-factor-policy.ts';
import { SecretBox } from './secret-box.ts';
import type { SessionService, StartedSession } from './session.service.ts';

/** Failed attempts allowed before the account is locked. */
export const FAILURES_BEFORE_LOCK = 5;
/** The first lock lasts this long; each further lock since the last successful sign-in doubles it. */
export const FIRST_LOCK_MS = 60_000;
/** Locks never last longer than this. */
export const MAX_LOCK_MS = 24 * 60 * 60_000;
const TOTP_ISSUER = 'Thurrock Data Exchange';

/** The one message for every failed sign-in, so it never reveals whether an account exists or is locked. */
export const SIGN_IN_FAILED_MESSAGE =
  'Enter a correct email address and password. After 5 wrong attempts, sign-in is paused for a few minutes.';

/** An organisation the user belongs to, as the account page lists it. */
export interface UserOrganisation {
  id: string;
  name: string;
  status: string;
  role: OrganisationRole;
}

export interface SignInResult {
  started: StartedSession;
  stage: SessionStage;
}

export function lockDurationMs(lockoutCount: number): number {
  return Math.min(FIRST_LOCK_MS * 2 ** Math.max(0, lockoutCount - 1), MAX_LOCK_MS);
}

/** Email and password sign-in with lockout, the TOTP second factor and sign-out. */
export class SignInService {
  readonly #totpBox: SecretBox;
  #dummyHash: Promise<string> | null = null;

  constructor(
    private readonly db: { app: Kysely<DB> },
    keys: KeyRing,
    private readonly sessions: SessionService,
  ) {
    this.#totpBox = new SecretBox(keys, 'totp');
  }

  /** A hash to verify against when the account is unknown, so the response takes as long as for a real account. */
  private dummyHash(): Promise<string> {
    this.#dummyHash ??= hash('dummy password for unknown accounts');
    return this.#dummyHash;
  }

  /** Whether a user must use a second factor (see second-factor-policy.ts). */
  async secondFactorRequired(trx: Kysely<DB>, userId: string, platformAdmin: boolean): Promise<boolean> {
    return secondFactorRequired(trx, userId, platformAdmin);
  }

  /** The organisation a new session acts in: the user's oldest membership of an active or pending organisation. */
  async defaultOrganisation(trx: Kysely<DB>, userId: string): Promise<string | null> {
    const row = await trx
      .selectFrom('memberships')
      .innerJoin('organisations', 'organisations.id', 'memberships.organisation_id')
      .select('memberships.organisation_id')
      .where('memberships.user_id', '=', userId)
      .where('organisations.status', 'in', ['active', 'pending'])
      .orderBy('memberships.created_at')
      .executeTakeFirst();
    return row?.organisation_id ?? null;
  }

  /**
   * Checks an email and password and starts a session. Every failure throws the same `sign_in_failed` error; a wrong
   * password counts towards the lock, which is stored in the database so every instance sees it.
   */
  async signIn(email: string, password: string, requestId?: string): Promise<SignInResult> {
    const outcome = await this.db.app.transaction().execute(async (trx) => {
      const userId = await findUserIdByEmail(trx, email.trim());
      if (userId === null) {
        await verify(await this.dummyHash(), password).catch(() => false);
        return null;
      }
      await setCurrentUser(trx, userId);
      const user = await trx.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirstOrThrow();
      const correct = user.password_hash !== null && (await verify(user.password_hash, password).catch(() => false));
      const locked = user.locked_until !== null && user.locked_until.getTime() > Date.now();
      if (locked) {
        await appendAuditEvent(trx, { organisationId: null, actorUserId: userId, actorKind: 'user', action: 'user.sign_in_blocked', subjectType: 'user', subjectId: userId, requestId });
        return null;
      }
      if (!correct) {
        const failures = user.failed_sign_ins + 1;
        const lockNow = failures >= FAILURES_BEFORE_LOCK;
        const lockoutCount = lockNow ? user.lockout_count + 1 : user.lockout_count;
        await trx
          .updateTable('users')
          .set({
            failed_sign_ins: lockNow ? 0 : failures,
            lockout_count: lockoutCount,
            locked_until: lockNow ? new Date(Date.now() + lockDurationMs(lockoutCount)) : user.locked_until,
            last_failed_sign_in_at: new Date(),
          })
          .where('id', '=', userId)
          .execute();
        await appendAuditEvent(trx, {
          organisationId: null,
          actorUserId: userId,
          actorKind: 'user',
          action: 'user.sign_in_failed',
          subjectType: 'user',
          subjectId: userId,
          requestId,
          details: lockNow ? { locked_for_seconds: lockDurationMs(lockoutCount) / 1000 } : {},
        });
        return null;
      }

      const needsFactor = await this.secondFactorRequired(trx, userId, user.is_platform_admin);
      const stage: SessionStage = user.totp_enabled_at !== null ? 'second_factor' : needsFactor ? 'second_factor_setup' : 'complete';
      await trx
        .updateTable('users')
        .set({ failed_sign_ins: 0, lockout_count: 0, locked_until: null, last_sign_in_at: stage === 'complete' ? new Date() : user.last_sign_in_at })
        .where('id', '=', userId)
        .execute();
      const started = await this.sessions.start(trx, userId, stage, await this.defaultOrganisation(trx, userId));
      await appendAuditEvent(trx, { organisationId: null, actorUserId: userId, actorKind: 'user', action: 'user.password_accepted', subjectType: 'user', subjectId: userId, requestId, details: { stage } });
      return { started, stage };
    });
    if (outcome === null) throw new AppError('unauthenticated', 'sign_in_failed', SIGN_IN_FAILED_MESSAGE);
    return outcome;
  }

  /** Checks the TOTP code of a session waiting for its second factor; a code is accepted once only. */
  async verifySecondFactor(sessionId: string, userId: string, code: string, requestId?: string): Promise<void> {
    const accepted = await this.db.app.transaction().execute(async (trx) => {
      await setCurrentUser(trx, userId);
      const user = await trx.selectFrom('users').select(['totp_secret_encrypted', 'totp_enabled_at', 'totp_last_step']).where('id', '=', userId).executeTakeFirstOrThrow();
      if (user.totp_secret_encrypted === null || user.totp_enabled_at === null) return false;
      const step = await this.checkCode(this.#totpBox.open(user.totp_secret_encrypted), code, user.totp_last_step);
      if (step === null) {
        await appendAuditEvent(trx, { organisationId: null, actorUserId: userId, actorKind: 'user', action: 'user.second_factor_failed', subjectType: 'user', subjectId: userId, requestId });
        return false;
      }
      await trx.updateTable('users').set({ totp_last_step: step, last_sign_in_at: new Date() }).where('id', '=', userId).execute();
      await this.sessions.update(trx, sessionId, { stage: 'complete', secondFactorGiven: true });
      await appendAuditEvent(trx, { organisationId: null, actorUserId: userId, actorKind: 'user', action: 'user.signed_in', subjectType: 'user', subjectId: userId, requestId });
      return true;
    });
    if (!accepted) {
      throw totpInvalid(code);
    }
  }

  /** Returns the time step of a valid, unused code, or null. Allows one 30-second step of clock drift either way. */
  private async checkCode(secret: string, code: string, lastStep: number | null): Promise<number | null> {
    const token = code.replace(/\s+/g, '');
    if (!/^\d{6}$/.test(token)) return null;
    const result = await verifyTotp({ secret, token, epochTolerance: 30, ...(lastStep === null ? {} : { afterTimeStep: lastStep }) });
    return result.valid && 'timeStep' in result ? result.timeStep : null;
  }

  /** Creates (or replaces an unconfirmed) TOTP secret and returns it with its otpauth URI for authenticator apps. */
  async beginTotpSetup(userId: string): Promise<{ secret: string; uri: string }> {
    return this.db.app.transaction().execute(async (trx) => {
      await setCurrentUser(trx, userId);
      const user = await trx.selectFrom('users').select(['email', 'totp_secret_encrypted', 'totp_enabled_at']).where('id', '=', userId).executeTakeFirstOrThrow();
      let secret: string;
      if (user.totp_secret_encrypted !== null && user.totp_enabled_at === null) {
        secret = this.#totpBox.open(user.totp_secret_encrypted);
      } else {
        secret = generateSecret();
        await trx.updateTable('users').set({ totp_secret_encrypted: this.#totpBox.seal(secret), totp_enabled_at: null, totp_last_step: null }).where('id', '=', userId).execute();
      }
      return { secret, uri: generateURI({ issuer: TOTP_ISSUER, label: user.email, secret }) };
    });
  }

  /** Confirms TOTP set-up with a first code; a session waiting for set-up becomes complete. */
  async confirmTotpSetup(userId: string, code: string, sessionId: string | null, requestId?: string): Promise<void> {
    const confirmed = await this.db.app.transaction().execute(async (trx) => {
      await setCurrentUser(trx, userId);
      const user = await trx.selectFrom('users').select(['totp_secret_encrypted', 'totp_enabled_at']).where('id', '=', userId).executeTakeFirstOrThrow();
      if (user.totp_secret_encrypted === null || user.totp_enabled_at !== null) return false;
      const step = await this.checkCode(this.#totpBox.open(user.totp_secret_encrypted), code, null);
      if (step === null) return false;
      await trx.updateTable('users').set({ totp_enabled_at: new Date(), totp_last_step: step, last_sign_in_at: new Date() }).where('id', '=', userId).execute();
      if (sessionId !== null) await this.sessions.update(trx, sessionId, { stage: 'complete', secondFactorGiven: true });
      await appendAuditEvent(trx, { organisationId: null, actorUserId: userId, actorKind: 'user', action: 'user.totp_enabled', subjectType: 'user', subjectId: userId, requestId });
      return true;
    });
    if (!confirmed) {
      throw totpInvalid(code);
    }
  }

  /** Revokes every session of the user, this one included. */
  async signOutEverywhere(userId: string, requestId?: string): Promise<number> {
    return this.db.app.transaction().execute(async (trx) => {
      const revoked = await this.sessions.revokeAllForUser(trx, userId);
      await appendAuditEvent(trx, { organisationId: null, actorUserId: userId, actorKind: 'user', action: 'user.signed_out_everywhere', subjectType: 'user', subjectId: userId, requestId, details: { sessions: revoked } });
      return revoked;
    });
  }

  /** Lists the active and pending organisations the user belongs to, oldest membership first. */
  async organisationsOf(userId: string): Promise<UserOrganisation[]> {
    return this.db.app.transaction().execute(async (trx) => {
      await setCurrentUser(trx, userId);
      return trx
        .selectFrom('memberships')
        .innerJoin('organisations', 'organisations.id', 'memberships.organisation_id')
        .select(['organisations.id', 'organisations.name', 'organisations.status', 'memberships.role'])
        .where('memberships.user_id', '=', userId)
        .where('organisations.status', 'in', ['active', 'pending'])
        .orderBy('memberships.created_at')
        .execute();
    });
  }

  /** Moves the session to another organisation the user belongs to. */
  async switchOrganisation(sessionId: string, userId: string, organisationId: string): Promise<void> {
    await this.db.app.transaction().execute(async (trx) => {
      await setCurrentUser(trx, userId);
      const membership = await trx
        .selectFrom('memberships')
        .innerJoin('organisations', 'organisations.id', 'memberships.organisation_id')
        .select('memberships.role')
        .where('memberships.user_id', '=', userId)
        .where('memberships.organisation_id', '=', organisationId)
        .where('organisations.status', 'in', ['active', 'pending'])
        .executeTakeFirst();
      if (!membership) throw new AppError('not_found', 'organisation_not_found', 'You are not a member of that organisation.');
      await this.sessions.update(trx, sessionId, { organisationId });
    });
  }
}

/** Builds the error for a security code that was not accepted, worded for a blank, a malformed and a wrong code. */
function totpInvalid(code: string): AppError {
  const digits = code.replace(/\s+/g, '');
  let message = 'The code is not correct or has already been used. Enter the code your authenticator app shows now';
  if (digits === '') message = 'Enter the 6-digit code shown in your authenticator app';
  else if (!/^\d{6}$/.test(digits)) message = 'Enter the code as 6 digits, such as 123456';
  return validationError('totp_invalid', message, [{ field: 'code', message }]);
}
