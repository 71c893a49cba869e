import { randomBytes, randomUUID } from 'node:crypto';
import { hash } from '@node-rs/argon2';
import type { Kysely } from 'kysely';
import { ORGANISATION_ROLES, type OrganisationRole } from '../accounts/accounts.tables.ts';
import { findUserIdByEmail, presentSecret, setCurrentUser, sha256Hex } from '../accounts/account-scope.ts';
import { auditActor, type AuthContext } from '../accounts/auth-context.ts';
import { emailAddressProblem } from '../accounts/email-address.ts';
import type { Mailer } from '../accounts/mailer.ts';
import { checkNewPassword } from '../accounts/password-policy.ts';
import { appendAuditEvent } from '../audit/audit.repository.ts';
import type { DB } from '../db/schema.ts';
import { setOrganisation, setPlatformScope, withOrganisation } from '../db/tenant.ts';
import { AppError, notFound, validationError } from '../errors.ts';
import { checkMemberLimit } from './plans.ts';

/** Invitation links work for 7 days. */
export const INVITATION_LIFETIME_MS = 7 * 24 * 60 * 60_000;

export const ROLE_NAMES: Record<OrganisationRole, string> = {
  administrator: 'Administrator',
  data_steward: 'Data steward',
  data_protection_officer: 'Data protection officer',
  analyst: 'Analyst',
  viewer: 'Viewer',
};

export interface Member {
  userId: string;
  displayName: string;
  email: string;
  role: OrganisationRole;
  joinedAt: Date;
  /** Whether the member has an authenticator app set up. */
  twoFactorOn: boolean;
}

export interface OpenInvitation {
  id: string;
  email: string;
  role: OrganisationRole;
  expiresAt: Date;
}

export interface InvitationDetails {
  organisationId: string;
  organisationName: string;
  email: string;
  role: OrganisationRole;
  /** Whether an account already uses the invited email. */
  accountExists: boolean;
}

function parseRole(text: string): OrganisationRole | null {
  return (ORGANISATION_ROLES as readonly string[]).includes(text) ? (text as OrganisationRole) : null;
}

function requireOrganisation(auth: AuthContext): string {
  if (auth.organisationId === null) throw new AppError('forbidden', 'not_a_member', 'You are not a member of an organisation.');
  return auth.organisationId;
}

/** Checks an invitation's email address and role, naming each field at fault. */
function checkInvitation(emailText: string, roleText: string): { email: string; role: OrganisationRole } {
  const email = emailText.trim().toLowerCase();
  const role = parseRole(roleText);
  const errors = [];
  const emailProblem = emailAddressProblem(email);
  if (email === '') errors.push({ field: 'email', message: 'Enter the email address of the person to invite' });
  else if (emailProblem !== null) errors.push({ field: 'email', message: emailProblem });
  if (role === null) errors.push({ field: 'role', message: 'Select a role' });
  if (errors.length > 0 || role === null) throw validationError('invalid_invitation', errors[0]!.message, errors);
  return { email, role };
}

/** Organisation members and invitations, managed by the organisation's administrators; every change is audited. */
export class MembersService {
  constructor(
    private readonly db: { app: Kysely<DB> },
    private readonly mailer: Mailer,
    private readonly publicUrl: string,
  ) {}

  async listMembers(organisationId: string): Promise<Member[]> {
    const rows = await withOrganisation(this.db.app, organisationId, (trx) =>
      trx
        .selectFrom('memberships')
        .innerJoin('users', 'users.id', 'memberships.user_id')
        .select(['users.id', 'users.display_name', 'users.email', 'users.totp_enabled_at', 'memberships.role', 'memberships.created_at'])
        .where('memberships.organisation_id', '=', organisationId)
        .orderBy('users.display_name')
        .execute(),
    );
    return rows.map((row) => ({ userId: row.id, displayName: row.display_name, email: row.email, role: row.role, joinedAt: row.created_at, twoFactorOn: row.totp_enabled_at !== null }));
  }

  async listInvitations(organisationId: string): Promise<OpenInvitation[]> {
    const rows = await withOrganisation(this.db.app, organisationId, (trx) =>
      trx
        .selectFrom('invitations')
        .select(['id', 'email', 'role', 'expires_at'])
        .where('organisation_id', '=', organisationId)
        .where('accepted_at', 'is', null)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', new Date())
        .orderBy('created_at', 'desc')
        .execute(),
    );
    return rows.map((row) => ({ id: row.id, email: row.email, role: row.role, expiresAt: row.expires_at }));
  }

  /** Invites `emailText` with a role and emails a single-use link; only the link's hash is stored. */
  async invite(auth: AuthContext, emailText: string, roleText: string, requestId?: string): Promise<{ invitationId: string }> {
    const organisationId = requireOrganisation(auth);
    const { email, role } = checkInvitation(emailText, roleText);
    return withOrganisation(this.db.app, organisationId, (trx) =>
      this.#createInvitation(trx, organisationId, email, role, { invitedBy: auth.userId, ...auditActor(auth) }, requestId),
    );
  }

  /**
   * Invites a member to an organisation on a platform operator's behalf, as `civic admin invite` does, so that an
   * organisation created by `civic import` can get its first administrator.
   */
  async inviteAsPlatform(organisationSlug: string, emailText: string, roleText: string): Promise<{ invitationId: string }> {
    const { email, role } = checkInvitation(emailText, roleText);
    const organisation = await this.db.app.transaction().execute(async (trx) => {
      await setPlatformScope(trx);
      return trx.selectFrom('organisations').select('id').where('slug', '=', organisationSlug.trim()).executeTakeFirst();
    });
    if (!organisation) throw notFound('organisation_not_found', `No organisation has the slug "${organisationSlug}". Check the slug on its page at /organisations.`);
    return withOrganisation(this.db.app, organisation.id, (trx) =>
      this.#createInvitation(trx, organisation.id, email, role, { invitedBy: null, actorUserId: null, actorKind: 'platform' }),
    );
  }

  async #createInvitation(
    trx: Kysely<DB>,
    organisationId: string,
    email: string,
    role: OrganisationRole,
    actor: { invitedBy: string | null; actorUserId: string | null; actorKind: 'user' | 'token' | 'platform' },
    requestId?: string,
  ): Promise<{ invitationId: string }> {
    const secret = randomBytes(32).toString('base64url');
    const organisation = await trx.selectFrom('organisations').select(['name', 'status']).where('id', '=', organisationId).executeTakeFirstOrThrow();
    if (organisation.status !== 'active') throw new AppError('conflict', 'organisation_not_active', 'You can invite members once the organisation has been approved.');
    const existingUser = await findUserIdByEmail(trx, email);
    if (existingUser !== null) {
      const member = await trx.selectFrom('memberships').select('role').where('organisation_id', '=', organisationId).where('user_id', '=', existingUser).executeTakeFirst();
      if (member) throw validationError('already_member', 'That person is already a member', [{ field: 'email', message: `${email} is already a member of ${organisation.name}` }]);
    }
    // A new invitation to the same address replaces the open one, so only the latest link works.
    await trx.updateTable('invitations').set({ revoked_at: new Date() }).where('organisation_id', '=', organisationId).where('email', '=', email).where('accepted_at', 'is', null).where('revoked_at', 'is', null).execute();
    await checkMemberLimit(trx, organisationId);
    const row = await trx
      .insertInto('invitations')
      .values({ organisation_id: organisationId, token_hash: sha256Hex(secret), email, role, invited_by: actor.invitedBy, expires_at: new Date(Date.now() + INVITATION_LIFETIME_MS) })
      .returning('id')
      .executeTakeFirstOrThrow();
    await appendAuditEvent(trx, { organisationId, actorUserId: actor.actorUserId, actorKind: actor.actorKind, action: 'invitation.created', subjectType: 'invitation', subjectId: row.id, requestId, details: { role } });
    await this.mailer.send(
      {
        to: email,
        subject: `You have been invited to join ${organisation.name} on Thurrock Data Exchange`,
        text: `You have been invited to join ${organisation.name} as ${ROLE_NAMES[role].toLowerCase()}.\n\nUse this link within 7 days to accept:\n\n${this.publicUrl}/invitations/${secret}\n\nIf you were not expecting this invitation, you can ignore this email.`,
      },
      trx,
    );
    return { invitationId: row.id };
  }

  async revokeInvitation(auth: AuthContext, invitationId: string, requestId?: string): Promise<void> {
    const organisationId = requireOrganisation(auth);
    await withOrganisation(this.db.app, organisationId, async (trx) => {
      const result = await trx.updateTable('invitations').set({ revoked_at: new Date() }).where('id', '=', invitationId).where('organisation_id', '=', organisationId).where('accepted_at', 'is', null).where('revoked_at', 'is', null).executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) throw notFound('invitation_not_found', 'Invitation not found, or already accepted or withdrawn.');
      await appendAuditEvent(trx, { organisationId, ...auditActor(auth), action: 'invitation.revoked', subjectType: 'invitation', subjectId: invitationId, requestId });
    });
  }

  /** The open invitation behind a link, or null when the link is unknown, used, withdrawn or expired. */
  async findInvitation(secret: string): Promise<InvitationDetails | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(secret)) return null;
    return this.db.app.transaction().execute(async (trx) => {
      const found = await this.openInvitation(trx, sha256Hex(secret));
      if (!found) return null;
      return { organisationId: found.organisation_id, organisationName: found.name, email: found.email, role: found.role, accountExists: (await findUserIdByEmail(trx, found.email)) !== null };
    });
  }

  private async openInvitation(trx: Kysely<DB>, tokenHash: string) {
    await presentSecret(trx, tokenHash);
    return trx
      .selectFrom('invitations')
      .innerJoin('organisations', 'organisations.id', 'invitations.organisation_id')
      .select(['invitations.id', 'invitations.organisation_id', 'invitations.email', 'invitations.role', 'organisations.name'])
      .where('invitations.token_hash', '=', tokenHash)
      .where('invitations.accepted_at', 'is', null)
      .where('invitations.revoked_at', 'is', null)
      .where('invitations.expires_at', '>', new Date())
      .where('organisations.status', '=', 'active')
      .executeTakeFirst();
  }

  /**
   * Accepts an invitation: as the signed-in user, whose email must be the invited one, or by creating an account for
   * the invited email (the link proves the address, so it counts as verified). Returns the member's user id.
   */
  async accept(secret: string, signedInUserId: string | null, newAccount: { displayName: string; password: string } | null, requestId?: string): Promise<{ userId: string; organisationId: string }> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(secret)) throw notFound('invitation_not_found', 'This invitation link is invalid, has expired or has already been used.');
    const tokenHash = sha256Hex(secret);
    let passwordHash: string | null = null;
    if (signedInUserId === null) {
      const displayName = newAccount?.displayName.trim() ?? '';
      const errors = [];
      if (displayName === '' || displayName.length > 200) errors.push({ field: 'displayName', message: 'Enter your full name' });
      errors.push(...checkNewPassword(newAccount?.password ?? '', 'password'));
      if (errors.length > 0) throw validationError('invalid_account', errors[0]!.message, errors);
      passwordHash = await hash(newAccount!.password);
    }
    return this.db.app.transaction().execute(async (trx) => {
      const invitation = await this.openInvitation(trx, tokenHash);
      if (!invitation) throw notFound('invitation_not_found', 'This invitation link is invalid, has expired or has already been used.');
      let userId = signedInUserId;
      const existing = await findUserIdByEmail(trx, invitation.email);
      if (userId !== null && existing !== userId) {
        throw new AppError('forbidden', 'invitation_for_another_email', `This invitation is for ${invitation.email}. Sign out, then open the link again and sign in with that email address.`);
      }
      if (userId === null) {
        if (existing !== null) throw new AppError('conflict', 'account_exists', `An account already uses ${invitation.email}. Sign in to accept the invitation.`);
        userId = randomUUID();
        await setCurrentUser(trx, userId);
        await trx.insertInto('users').values({ id: userId, email: invitation.email, display_name: newAccount!.displayName.trim(), password_hash: passwordHash, email_verified_at: new Date() }).execute();
      }
      await setOrganisation(trx, invitation.organisation_id);
      const member = await trx.selectFrom('memberships').select('role').where('organisation_id', '=', invitation.organisation_id).where('user_id', '=', userId).executeTakeFirst();
      if (!member) {
        await trx.insertInto('memberships').values({ organisation_id: invitation.organisation_id, user_id: userId, role: invitation.role }).execute();
      }
      await trx.updateTable('invitations').set({ accepted_at: new Date() }).where('id', '=', invitation.id).execute();
      await appendAuditEvent(trx, {
        organisationId: invitation.organisation_id,
        actorUserId: userId,
        actorKind: 'user',
        action: 'invitation.accepted',
        subjectType: 'membership',
        subjectId: userId,
        requestId,
        details: { invitation_id: invitation.id, role: invitation.role, already_member: member !== undefined },
      });
      return { userId, organisationId: invitation.organisation_id };
    });
  }

  /** Changes a member's role. The last administrator cannot become anything else. */
  async changeRole(auth: AuthContext, userId: string, roleText: string, requestId?: string): Promise<void> {
    const organisationId = requireOrganisation(auth);
    const role = parseRole(roleText);
    if (role === null) throw validationError('invalid_role', 'Select a role', [{ field: 'role', message: 'Select a role' }]);
    await withOrganisation(this.db.app, organisationId, async (trx) => {
      const member = await this.lockMember(trx, organisationId, userId);
      if (member.role === role) return;
      if (member.role === 'administrator') await this.keepAnAdministrator(trx, organisationId, 'change the role of');
      await trx.updateTable('memberships').set({ role }).where('organisation_id', '=', organisationId).where('user_id', '=', userId).execute();
      await appendAuditEvent(trx, { organisationId, ...auditActor(auth), action: 'membership.role_changed', subjectType: 'membership', subjectId: userId, requestId, details: { from: member.role, to: role } });
    });
  }

  /** Removes a member and revokes their API tokens in the organisation. The last administrator cannot be removed. */
  async remove(auth: AuthContext, userId: string, requestId?: string): Promise<void> {
    const organisationId = requireOrganisation(auth);
    await withOrganisation(this.db.app, organisationId, async (trx) => {
      const member = await this.lockMember(trx, organisationId, userId);
      if (member.role === 'administrator') await this.keepAnAdministrator(trx, organisationId, 'remove');
      await trx.deleteFrom('memberships').where('organisation_id', '=', organisationId).where('user_id', '=', userId).execute();
      const tokens = await trx.updateTable('api_tokens').set({ revoked_at: new Date() }).where('organisation_id', '=', organisationId).where('user_id', '=', userId).where('revoked_at', 'is', null).executeTakeFirst();
      await appendAuditEvent(trx, { organisationId, ...auditActor(auth), action: 'membership.removed', subjectType: 'membership', subjectId: userId, requestId, details: { role: member.role, revoked_tokens: Number(tokens.numUpdatedRows) } });
    });
  }

  /** Locks every membership row of the organisation, so two concurrent changes cannot both remove an administrator. */
  private async lockMember(trx: Kysely<DB>, organisationId: string, userId: string): Promise<{ role: OrganisationRole }> {
    const rows = await trx.selectFrom('memberships').select(['user_id', 'role']).where('organisation_id', '=', organisationId).forUpdate().execute();
    const member = rows.find((row) => row.user_id === userId);
    if (!member) throw notFound('member_not_found', 'Member not found.');
    return member;
  }

  private async keepAnAdministrator(trx: Kysely<DB>, organisationId: string, verb: string): Promise<void> {
    const admins = await trx.selectFrom('memberships').select('user_id').where('organisation_id', '=', organisationId).where('role', '=', 'administrator').execute();
    if (admins.length <= 1) {
      throw new AppError('conflict', 'last_administrator', `You cannot ${verb} the last administrator. Make another member an administrator first.`);
    }
  }
}
