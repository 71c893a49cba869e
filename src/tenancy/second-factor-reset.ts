import type { Kysely } from 'kysely';
import { auditActor, type AuthContext } from '../accounts/auth-context.ts';
import type { Mailer } from '../accounts/mailer.ts';
import type { SessionService } from '../accounts/session.service.ts';
import { appendAuditEvent } from '../audit/audit.repository.ts';
import type { DB } from '../db/schema.ts';
import { setOrganisation, setPlatformScope } from '../db/tenant.ts';
import { AppError, forbidden, notFound } from '../errors.ts';

/**
 * Resets the second factor of someone who has lost their authenticator app, so that they set it up again at their
 * next sign-in. It ends their sessions, records who reset it, and emails them.
 *
 * A second factor protects the person in every organisation they belong to. So an organisation administrator may reset
 * it only for a member who belongs to no other organisation and is not a platform administrator. Anyone else needs a
 * platform administrator, who runs `civic admin reset-two-factor` on the server.
 */
export class SecondFactorReset {
  constructor(
    private readonly db: { app: Kysely<DB> },
    private readonly sessions: SessionService,
    private readonly mailer: Mailer,
    private readonly publicUrl: string,
  ) {}

  /** Resets a member's second factor as an administrator of the organisation in `auth`; returns the member's name. */
  async asAdministrator(auth: AuthContext, userId: string, requestId?: string): Promise<string> {
    const organisationId = auth.organisationId;
    if (organisationId === null) throw forbidden('not_a_member', 'You are not a member of an organisation.');
    if (userId === auth.userId) {
      throw new AppError('conflict', 'own_second_factor', 'You cannot reset your own two-factor authentication here. Set up a new authenticator app from your account settings while you still can sign in, or ask another administrator.');
    }
    return this.db.app.transaction().execute(async (trx) => {
      await setOrganisation(trx, organisationId);
      const member = await trx.selectFrom('memberships').select('user_id').where('organisation_id', '=', organisationId).where('user_id', '=', userId).executeTakeFirst();
      if (!member) throw notFound('member_not_found', 'Member not found.');
      // The other checks and the reset itself read and change rows of other organisations' scope.
      await setPlatformScope(trx);
      const user = await trx.selectFrom('users').select(['display_name', 'is_platform_admin']).where('id', '=', userId).executeTakeFirstOrThrow();
      const memberships = await trx.selectFrom('memberships').select('organisation_id').where('user_id', '=', userId).execute();
      if (user.is_platform_admin || memberships.some((row) => row.organisation_id !== organisationId)) {
        throw forbidden(
          'second_factor_reset_needs_platform',
          'This person also has access outside your organisation, so only a platform administrator can reset their two-factor authentication.',
        );
      }
      const { name } = await trx.selectFrom('organisations').select('name').where('id', '=', organisationId).executeTakeFirstOrThrow();
      await this.#reset(trx, userId, { organisationId, ...auditActor(auth), requestId }, `an administrator of ${name}`);
      return user.display_name;
    });
  }

  /** Resets anyone's second factor, as the platform does from the command line. */
  async asPlatform(userId: string): Promise<void> {
    await this.db.app.transaction().execute(async (trx) => {
      await setPlatformScope(trx);
      await this.#reset(trx, userId, { organisationId: null, actorUserId: null, actorKind: 'platform' }, 'a platform administrator');
    });
  }

  async #reset(
    trx: Kysely<DB>,
    userId: string,
    audit: { organisationId: string | null; actorUserId: string | null; actorKind: 'user' | 'platform' | 'token' | 'system'; requestId?: string },
    by: string,
  ): Promise<void> {
    const user = await trx
      .updateTable('users')
      .set({ totp_secret_encrypted: null, totp_enabled_at: null, totp_last_step: null })
      .where('id', '=', userId)
      .returning(['email'])
      .executeTakeFirst();
    if (!user) throw notFound('user_not_found', 'No account has that id.');
    const sessions = await this.sessions.revokeAllForUser(trx, userId);
    await appendAuditEvent(trx, { ...audit, action: 'user.second_factor_reset', subjectType: 'user', subjectId: userId, details: { sessions } });
    await this.mailer.send(
      {
        to: user.email,
        subject: 'Your Thurrock Data Exchange two-factor authentication was reset',
        text: [
          `Your two-factor authentication was reset by ${by}, and every session signed in to your account has ended.`,
          `The next time you sign in at ${this.publicUrl}/sign-in you will be asked to set up an authenticator app again.`,
          'If you did not ask for this, tell your organisation’s administrator straight away.',
        ].join('\n\n'),
      },
      trx,
    );
  }
}
