import { randomBytes } from 'node:crypto';
import { hash } from '@node-rs/argon2';
import type { Kysely } from 'kysely';
import { appendAuditEvent } from '../audit/audit.repository.ts';
import type { DB } from '../db/schema.ts';
import { validationError } from '../errors.ts';
import type { AccountLinkPurpose } from './accounts.tables.ts';
import { findUserIdByEmail, presentSecret, setCurrentUser, sha256Hex } from './account-scope.ts';
import type { Mailer } from './mailer.ts';
import { checkNewPassword } from './password-policy.ts';
import type { SessionService } from './session.service.ts';

const RESET_LIFETIME_MS = 60 * 60_000;
const VERIFICATION_LIFETIME_MS = 7 * 24 * 60 * 60_000;

/** The result of opening an email verification link. */
export type EmailVerificationOutcome = 'confirmed' | 'already_confirmed' | 'expired' | 'invalid';

const INVALID_LINK = 'This link is invalid, has expired or has already been used. Ask for a new one.';

/** Single-use emailed links: password reset (1 hour) and email verification (7 days). Only link hashes are stored. */
export class AccountLinkService {
  constructor(
    private readonly db: { app: Kysely<DB> },
    private readonly mailer: Mailer,
    private readonly sessions: SessionService,
    private readonly publicUrl: string,
  ) {}

  private async createLink(trx: Kysely<DB>, userId: string, purpose: AccountLinkPurpose): Promise<string> {
    const secret = randomBytes(32).toString('base64url');
    const lifetime = purpose === 'password_reset' ? RESET_LIFETIME_MS : VERIFICATION_LIFETIME_MS;
    await trx.insertInto('account_links').values({ id: sha256Hex(secret), user_id: userId, purpose, expires_at: new Date(Date.now() + lifetime) }).execute();
    return secret;
  }

  /**
   * Emails a reset link when the address has an account. The caller shows the same confirmation either way, so the
   * response never reveals whether an account exists. With `firstPassword`, for an account just created for someone,
   * the email invites them to set a password rather than telling them to ignore a reset they did not request.
   */
  async requestPasswordReset(email: string, requestId?: string, options: { firstPassword?: boolean } = {}): Promise<void> {
    await this.db.app.transaction().execute(async (trx) => {
      const userId = await findUserIdByEmail(trx, email.trim());
      if (userId === null) return;
      await setCurrentUser(trx, userId);
      const user = await trx.selectFrom('users').select(['email']).where('id', '=', userId).executeTakeFirstOrThrow();
      const secret = await this.createLink(trx, userId, 'password_reset');
      await appendAuditEvent(trx, { organisationId: null, actorUserId: userId, actorKind: 'user', action: 'user.password_reset_requested', subjectType: 'user', subjectId: userId, requestId });
      const link = `${this.publicUrl}/account/reset-password/${secret}`;
      const message = options.firstPassword
        ? {
            subject: 'Set your Thurrock Data Exchange password',
            text: `An account has been created for you on Thurrock Data Exchange. Use this link within 1 hour to set your password:\n\n${link}\n\nIf you did not expect this email, tell the person who runs the service.`,
          }
        : {
            subject: 'Reset your Thurrock Data Exchange password',
            text: `Use this link within 1 hour to choose a new password:\n\n${link}\n\nIf you did not ask to reset your password, you can ignore this email.`,
          };
      await this.mailer.send({ to: user.email, ...message }, trx);
    });
  }

  /** Whether a reset link is still usable, to show the form or the "link expired" page. */
  async resetLinkIsValid(secret: string): Promise<boolean> {
    return (await this.findLink(this.db.app, secret, 'password_reset')) !== null;
  }

  private async findLink(db: Kysely<DB>, secret: string, purpose: AccountLinkPurpose): Promise<{ id: string; userId: string } | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(secret)) return null;
    const id = sha256Hex(secret);
    const run = async (trx: Kysely<DB>) => {
      await presentSecret(trx, id);
      return trx.selectFrom('account_links').select(['id', 'user_id', 'expires_at', 'used_at', 'purpose']).where('id', '=', id).executeTakeFirst();
    };
    const row = db.isTransaction ? await run(db) : await db.transaction().execute(run);
    if (!row || row.purpose !== purpose || row.used_at !== null || row.expires_at.getTime() <= Date.now()) return null;
    return { id: row.id, userId: row.user_id };
  }

  /** Sets a new password from a reset link, uses the link up, clears any lock and signs out every session. */
  async resetPassword(secret: string, password: string, requestId?: string): Promise<void> {
    const errors = checkNewPassword(password);
    if (errors.length > 0) throw validationError('invalid_password', errors[0]!.message, errors);
    const passwordHash = await hash(password);
    const done = await this.db.app.transaction().execute(async (trx) => {
      const link = await this.findLink(trx, secret, 'password_reset');
      if (link === null) return false;
      await setCurrentUser(trx, link.userId);
      const used = await trx.updateTable('account_links').set({ used_at: new Date() }).where('id', '=', link.id).where('used_at', 'is', null).executeTakeFirst();
      if (Number(used.numUpdatedRows) !== 1) return false;
      // Any other reset link sent earlier would otherwise still set a password after this one has.
      await trx.updateTable('account_links').set({ used_at: new Date() }).where('user_id', '=', link.userId).where('purpose', '=', 'password_reset').where('used_at', 'is', null).execute();
      await trx.updateTable('users').set({ password_hash: passwordHash, failed_sign_ins: 0, lockout_count: 0, locked_until: null, email_verified_at: new Date() }).where('id', '=', link.userId).execute();
      await this.sessions.revokeAllForUser(trx, link.userId);
      await appendAuditEvent(trx, { organisationId: null, actorUserId: link.userId, actorKind: 'user', action: 'user.password_reset', subjectType: 'user', subjectId: link.userId, requestId });
      return true;
    });
    if (!done) throw validationError('link_invalid', INVALID_LINK, [{ field: 'password', message: INVALID_LINK }]);
  }

  /**
   * Emails a verification link to a user, inside the caller's transaction acting as that user. Links sent before it
   * stop working, so only the newest email confirms the address.
   */
  async sendVerification(trx: Kysely<DB>, userId: string, email: string): Promise<void> {
    await trx
      .updateTable('account_links')
      .set({ expires_at: new Date() })
      .where('user_id', '=', userId)
      .where('purpose', '=', 'email_verification')
      .where('used_at', 'is', null)
      .where('expires_at', '>', new Date())
      .execute();
    const secret = await this.createLink(trx, userId, 'email_verification');
    await this.mailer.send(
      {
        to: email,
        subject: 'Confirm your email address',
        text: `Confirm your email address for Thurrock Data Exchange by opening this link within 7 days:\n\n${this.publicUrl}/account/verify-email/${secret}\n\nIf you asked for more than one confirmation email, only the newest link works.`,
      },
      trx,
    );
  }

  /**
   * Sends a signed-in user a new verification link, replacing any earlier one. Returns the address it was sent to, or
   * null when the address is already confirmed and nothing was sent. The caller rate-limits it.
   */
  async resendVerification(userId: string, requestId?: string): Promise<string | null> {
    return this.db.app.transaction().execute(async (trx) => {
      await setCurrentUser(trx, userId);
      const user = await trx.selectFrom('users').select(['email', 'email_verified_at']).where('id', '=', userId).executeTakeFirstOrThrow();
      if (user.email_verified_at !== null) return null;
      await this.sendVerification(trx, userId, user.email);
      await appendAuditEvent(trx, { organisationId: null, actorUserId: userId, actorKind: 'user', action: 'user.email_verification_sent', subjectType: 'user', subjectId: userId, requestId });
      return user.email;
    });
  }

  /**
   * Confirms the email address of the link's user and ends their other verification links. A link that was used,
   * replaced or is past 7 days returns `already_confirmed` when the address is confirmed, and `expired` otherwise.
   * A link that was never sent returns `invalid`.
   */
  async verifyEmail(secret: string, requestId?: string): Promise<EmailVerificationOutcome> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(secret)) return 'invalid';
    return this.db.app.transaction().execute(async (trx) => {
      const link = await readEmailLink(trx, secret);
      if (link.state !== 'usable') return link.state;
      await trx.updateTable('account_links').set({ used_at: new Date() }).where('user_id', '=', link.user_id).where('purpose', '=', 'email_verification').where('used_at', 'is', null).execute();
      await trx.updateTable('users').set({ email_verified_at: new Date() }).where('id', '=', link.user_id).execute();
      await appendAuditEvent(trx, { organisationId: null, actorUserId: link.user_id, actorKind: 'user', action: 'user.email_verified', subjectType: 'user', subjectId: link.user_id, requestId });
      return 'confirmed';
    });
  }

  /** Returns whether the confirmation link `secret` would confirm an address, or why not, without using it. */
  async emailLinkState(secret: string): Promise<EmailLinkState> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(secret)) return 'invalid';
    return this.db.app.transaction().execute(async (trx) => (await readEmailLink(trx, secret)).state);
  }
}

/** The outcome a confirmation link would have: `usable` when it would confirm the address, or the reason it cannot. */
export type EmailLinkState = 'usable' | Exclude<EmailVerificationOutcome, 'confirmed'>;

/** Reads the confirmation link `secret` in `trx`, which it leaves acting as the link's user when there is one. */
async function readEmailLink(trx: Kysely<DB>, secret: string): Promise<{ state: EmailLinkState; user_id: string }> {
  const id = sha256Hex(secret);
  await presentSecret(trx, id);
  const link = await trx.selectFrom('account_links').select(['user_id', 'purpose', 'expires_at', 'used_at']).where('id', '=', id).executeTakeFirst();
  if (!link || link.purpose !== 'email_verification') return { state: 'invalid', user_id: '' };
  await setCurrentUser(trx, link.user_id);
  if (link.used_at === null && link.expires_at.getTime() > Date.now()) return { state: 'usable', user_id: link.user_id };
  const user = await trx.selectFrom('users').select('email_verified_at').where('id', '=', link.user_id).executeTakeFirstOrThrow();
  return { state: user.email_verified_at === null ? 'expired' : 'already_confirmed', user_id: link.user_id };
}
