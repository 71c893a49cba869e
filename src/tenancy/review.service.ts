import type { Kysely } from 'kysely';
import type { AuthContext } from '../accounts/auth-context.ts';
import type { Mailer } from '../accounts/mailer.ts';
import { appendAuditEvent } from '../audit/audit.repository.ts';
import type { OrganisationStatus } from '../catalogue/catalogue.tables.ts';
import type { DB } from '../db/schema.ts';
import { setPlatformScope } from '../db/tenant.ts';
import { AppError, notFound, validationError } from '../errors.ts';
import { defaultApplications, PLANS } from './plans.ts';
import { reviewWarnings } from './review-warnings.ts';
import { PLAN_IDS, type OrganisationType, type PlanId } from './tenancy.tables.ts';

export interface OrganisationForReview {
  id: string;
  slug: string;
  name: string;
  type: OrganisationType;
  status: OrganisationStatus;
  plan: PlanId;
  emailDomains: string[];
  registrationNumbers: Array<{ field: string; value: string }>;
  applicantName: string | null;
  applicantEmail: string | null;
  applicantEmailVerified: boolean;
  createdAt: Date;
  reviewedAt: Date | null;
  reviewReason: string | null;
  /** Points a reviewer should check before approving; empty for organisations already reviewed. */
  warnings: string[];
}

export type ReviewDecision = 'approve' | 'decline';

const MAX_REASON_LENGTH = 2000;

/**
 * Platform administrators' work on organisations: the review of registrations and closing an organisation. Every
 * change runs in the platform scope with its audit row in the same transaction.
 */
export class ReviewService {
  constructor(
    private readonly db: { app: Kysely<DB> },
    private readonly mailer: Mailer,
  ) {}

  /** Lists organisations in `statuses`, oldest first, with their applicants. */
  async list(statuses: OrganisationStatus[]): Promise<OrganisationForReview[]> {
    const { rows, warnings } = await this.db.app.transaction().execute(async (trx) => {
      await setPlatformScope(trx);
      const rows = await trx
        .selectFrom('organisations')
        .leftJoin('users', 'users.id', 'organisations.applicant_user_id')
        .select([
          'organisations.id', 'organisations.slug', 'organisations.name', 'organisations.type', 'organisations.status', 'organisations.plan',
          'organisations.email_domains', 'organisations.charity_number', 'organisations.scottish_charity_number', 'organisations.company_number',
          'organisations.ods_code', 'organisations.school_urn', 'organisations.created_at', 'organisations.reviewed_at', 'organisations.review_reason',
          'users.display_name', 'users.email', 'users.email_verified_at',
        ])
        .where('organisations.status', 'in', statuses)
        .orderBy('organisations.created_at')
        .limit(500)
        .execute();
      const pending = rows.filter((row) => row.status === 'pending').map((row) => ({ id: row.id, name: row.name, emailDomains: row.email_domains }));
      return { rows, warnings: await reviewWarnings(trx, pending) };
    });
    return rows.map((row) => ({
      id: row.id,
      slug: row.slug,
      name: row.name,
      type: row.type,
      status: row.status,
      plan: row.plan,
      emailDomains: row.email_domains,
      registrationNumbers: (['charity_number', 'scottish_charity_number', 'company_number', 'ods_code', 'school_urn'] as const)
        .filter((field) => row[field] !== null)
        .map((field) => ({ field, value: row[field]! })),
      applicantName: row.display_name,
      applicantEmail: row.email,
      applicantEmailVerified: row.email_verified_at !== null,
      createdAt: row.created_at,
      reviewedAt: row.reviewed_at,
      reviewReason: row.review_reason,
      warnings: warnings.get(row.id) ?? [],
    }));
  }

  /**
   * Approves or declines a pending registration and emails the reason to the applicant. Approval may move the
   * organisation to another plan; its applications are then reset to that plan's defaults.
   */
  async review(auth: AuthContext, organisationId: string, decision: ReviewDecision, reasonText: string, planText: string | undefined, requestId?: string): Promise<void> {
    const reason = reasonText.trim();
    const errors = [];
    if (decision === 'decline' && reason === '') errors.push({ field: 'reason', message: 'Enter the reason for declining, which is sent to the applicant' });
    if (reason.length > MAX_REASON_LENGTH) errors.push({ field: 'reason', message: `Reason must be ${MAX_REASON_LENGTH} characters or fewer` });
    const plan = planText === undefined || planText === '' ? null : (PLAN_IDS as readonly string[]).includes(planText) ? (planText as PlanId) : undefined;
    if (plan === undefined) errors.push({ field: 'plan', message: 'Select a plan' });
    if (errors.length > 0) throw validationError('invalid_review', errors[0]!.message, errors);

    await this.db.app.transaction().execute(async (trx) => {
      await setPlatformScope(trx);
      const organisation = await trx
        .selectFrom('organisations')
        .leftJoin('users', 'users.id', 'organisations.applicant_user_id')
        .select(['organisations.id', 'organisations.name', 'organisations.status', 'organisations.plan', 'users.email', 'users.email_verified_at'])
        .where('organisations.id', '=', organisationId)
        .forUpdate('organisations')
        .executeTakeFirst();
      if (!organisation) throw notFound('organisation_not_found', 'Organisation not found.');
      if (organisation.status !== 'pending') {
        throw new AppError('conflict', 'already_reviewed', `${organisation.name} has already been reviewed: it is ${organisation.status}.`);
      }
      // The registration page instructs applicants to confirm their address before approval. Approval makes them the
      // administrator of a live organisation, and the decision email must reach someone who owns the address.
      if (decision === 'approve' && organisation.email !== null && organisation.email_verified_at === null) {
        const message = `${organisation.name} cannot be approved until the applicant confirms their email address, ${organisation.email}. Ask them to open the link in the email we sent when they registered, or decline the registration.`;
        throw validationError('email_not_confirmed', message, [{ field: 'decision', message }]);
      }
      const status = decision === 'approve' ? 'active' : 'declined';
      const newPlan = plan ?? organisation.plan;
      await trx
        .updateTable('organisations')
        .set({ status, reviewed_at: new Date(), review_reason: reason === '' ? null : reason, plan: newPlan, ...(newPlan !== organisation.plan ? { applications: defaultApplications(newPlan) } : {}) })
        .where('id', '=', organisationId)
        .execute();
      await appendAuditEvent(trx, {
        organisationId,
        actorUserId: auth.userId,
        actorKind: 'platform',
        action: decision === 'approve' ? 'organisation.approved' : 'organisation.declined',
        subjectType: 'organisation',
        subjectId: organisationId,
        requestId,
        details: { plan: newPlan, reason_given: reason !== '' },
      });
      if (organisation.email !== null) {
        const outcome = decision === 'approve'
          ? `has been approved on the ${PLANS[newPlan].name}. Sign in to invite your members and choose your applications.`
          : 'has been declined.';
        await this.mailer.send(
          {
            to: organisation.email,
            subject: `Your registration of ${organisation.name} has been ${decision === 'approve' ? 'approved' : 'declined'}`,
            text: `The registration of ${organisation.name} with Thurrock Data Exchange ${outcome}${reason === '' ? '' : `\n\nReason from the reviewer:\n${reason}`}`,
          },
          trx,
        );
      }
    });
  }

  /**
   * Closes an organisation: it can no longer be signed in to, its sessions acting in it and all its API tokens are
   * revoked, and it disappears from public lists. Its data stays for export and the record.
   */
  async close(auth: AuthContext, organisationId: string, reasonText: string, requestId?: string): Promise<{ sessions: number; tokens: number }> {
    const reason = reasonText.trim();
    if (reason === '' || reason.length > MAX_REASON_LENGTH) {
      throw validationError('invalid_close', 'Enter the reason for closing the organisation', [{ field: 'reason', message: `Enter the reason for closing the organisation, in ${MAX_REASON_LENGTH} characters or fewer` }]);
    }
    return this.db.app.transaction().execute(async (trx) => {
      await setPlatformScope(trx);
      const organisation = await trx.selectFrom('organisations').select(['id', 'name', 'status']).where('id', '=', organisationId).forUpdate().executeTakeFirst();
      if (!organisation) throw notFound('organisation_not_found', 'Organisation not found.');
      if (organisation.status === 'closed') throw new AppError('conflict', 'already_closed', `${organisation.name} is already closed.`);
      const now = new Date();
      await trx.updateTable('organisations').set({ status: 'closed', closed_at: now, review_reason: reason }).where('id', '=', organisationId).execute();
      const sessions = await trx.updateTable('sessions').set({ revoked_at: now }).where('current_organisation_id', '=', organisationId).where('revoked_at', 'is', null).executeTakeFirst();
      const tokens = await trx.updateTable('api_tokens').set({ revoked_at: now }).where('organisation_id', '=', organisationId).where('revoked_at', 'is', null).executeTakeFirst();
      const counts = { sessions: Number(sessions.numUpdatedRows), tokens: Number(tokens.numUpdatedRows) };
      await trx.updateTable('invitations').set({ revoked_at: now }).where('organisation_id', '=', organisationId).where('accepted_at', 'is', null).where('revoked_at', 'is', null).execute();
      await appendAuditEvent(trx, {
        organisationId,
        actorUserId: auth.userId,
        actorKind: 'platform',
        action: 'organisation.closed',
        subjectType: 'organisation',
        subjectId: organisationId,
        requestId,
        details: { revoked_sessions: counts.sessions, revoked_tokens: counts.tokens },
      });
      return counts;
    });
  }
}
