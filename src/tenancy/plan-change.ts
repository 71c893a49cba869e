import type { Kysely } from 'kysely';
import type { Mailer } from '../accounts/mailer.ts';
import { appendAuditEvent } from '../audit/audit.repository.ts';
import type { DB } from '../db/schema.ts';
import { setPlatformScope } from '../db/tenant.ts';
import { AppError, notFound, validationError, type FieldError } from '../errors.ts';
import { APPLICATION_NAMES, LIMIT_WORDS, PLANS, planLimitsText, planPrice, planUsage, type LimitName } from './plans.ts';
import { PLAN_IDS, type PlanId } from './tenancy.tables.ts';

const MAX_REASON_LENGTH = 2000;

/** The outcome of a plan change, for the page or command that requested it. */
export interface PlanChange {
  organisationName: string;
  from: PlanId;
  to: PlanId;
  /** Applications the organisation had enabled that the new plan does not offer, now turned off. */
  applicationsRemoved: string[];
  /** How many administrators were emailed; none when the organisation has no administrator yet. */
  administratorsEmailed: number;
}

/** Describes who was emailed about a plan change and which applications it turned off, for the page and the command. */
export function describePlanChange(change: PlanChange): string {
  const emailed =
    change.administratorsEmailed === 0
      ? 'It has no administrators, so nobody was emailed; invite one with civic admin invite.'
      : `We have emailed its ${change.administratorsEmailed === 1 ? 'administrator' : `${change.administratorsEmailed} administrators`}.`;
  const removed = change.applicationsRemoved.length === 0 ? '' : ` These applications were turned off: ${change.applicationsRemoved.join(', ')}.`;
  return `${emailed}${removed}`;
}

/** Identifies the organisation to move: by id from the admin page, by slug from the command line. */
export type OrganisationKey = { id: string } | { slug: string };

/**
 * Moves an active organisation to another plan, as only a platform administrator may. A move to a plan whose limits
 * the organisation already passes is refused, naming each limit, so nothing is removed without the organisation's agreement.
 * Applications the new plan does not offer are turned off. The change is audited, and the organisation's
 * administrators are emailed the new plan, its price and its limits.
 */
export class PlanChangeService {
  constructor(
    private readonly db: { app: Kysely<DB> },
    private readonly mailer: Mailer,
  ) {}

  /** Moves the organisation; `actorUserId` is the platform administrator, or null for the `civic admin` command. */
  async changePlan(actorUserId: string | null, key: OrganisationKey, planText: string, reasonText: string, requestId?: string): Promise<PlanChange> {
    const reason = reasonText.trim();
    const errors: FieldError[] = [];
    const to = (PLAN_IDS as readonly string[]).includes(planText) ? (planText as PlanId) : null;
    if (to === null) errors.push({ field: 'plan', message: `Select a plan: ${PLAN_IDS.map((id) => `${id} (${PLANS[id].name})`).join(', ')}` });
    if (reason === '') errors.push({ field: 'reason', message: 'Enter the reason for the change, which is sent to the organisation’s administrators' });
    if (reason.length > MAX_REASON_LENGTH) errors.push({ field: 'reason', message: `Reason must be ${MAX_REASON_LENGTH} characters or fewer` });
    if (errors.length > 0 || to === null) throw validationError('invalid_plan_change', errors[0]!.message, errors);

    return this.db.app.transaction().execute(async (trx) => {
      await setPlatformScope(trx);
      const query = trx.selectFrom('organisations').select(['id', 'name', 'status', 'plan', 'applications']);
      const organisation = await ('id' in key ? query.where('id', '=', key.id) : query.where('slug', '=', key.slug)).forUpdate().executeTakeFirst();
      if (!organisation) throw notFound('organisation_not_found', `Organisation ${'id' in key ? key.id : `"${key.slug}"`} was not found. Check the slug on the organisations page.`);
      if (organisation.status !== 'active') {
        throw new AppError('conflict', 'organisation_not_active', `${organisation.name} is ${organisation.status}, so its plan cannot be changed. Only active organisations change plan.`);
      }
      if (organisation.plan === to) throw validationError('same_plan', `${organisation.name} is already on the ${PLANS[to].name}.`, [{ field: 'plan', message: `${organisation.name} is already on the ${PLANS[to].name}` }]);

      const plan = PLANS[to];
      const usage = await planUsage(trx, organisation.id);
      const over = (Object.keys(usage) as LimitName[]).filter((limit) => usage[limit] > plan.limits[limit]);
      if (over.length > 0) {
        const problems = over.map((limit) => `${usage[limit]} ${LIMIT_WORDS[limit]}, where the ${plan.name} allows ${plan.limits[limit]}`);
        const message = `${organisation.name} has ${problems.join('; and ')}. Ask its administrators to reduce them first, or choose another plan.`;
        throw validationError('plan_limits_exceeded', message, [{ field: 'plan', message }]);
      }

      const applications = organisation.applications.filter((application) => plan.applications.includes(application));
      const removed = organisation.applications.filter((application) => !plan.applications.includes(application)).map((application) => APPLICATION_NAMES[application]);
      await trx.updateTable('organisations').set({ plan: to, applications }).where('id', '=', organisation.id).execute();
      await appendAuditEvent(trx, {
        organisationId: organisation.id,
        actorUserId,
        actorKind: 'platform',
        action: 'organisation.plan_changed',
        subjectType: 'organisation',
        subjectId: organisation.id,
        requestId,
        details: { from: organisation.plan, to, applications_removed: removed },
      });
      const emailed = await this.#emailAdministrators(trx, organisation, organisation.plan, to, removed, reason);
      return { organisationName: organisation.name, from: organisation.plan, to, applicationsRemoved: removed, administratorsEmailed: emailed };
    });
  }

  /** Emails each of the organisation's administrators and returns how many there were. */
  async #emailAdministrators(trx: Kysely<DB>, organisation: { id: string; name: string }, from: PlanId, to: PlanId, removed: string[], reason: string): Promise<number> {
    const administrators = await trx
      .selectFrom('memberships')
      .innerJoin('users', 'users.id', 'memberships.user_id')
      .select('users.email')
      .where('memberships.organisation_id', '=', organisation.id)
      .where('memberships.role', '=', 'administrator')
      .execute();
    const plan = PLANS[to];
    const lines = [
      `${organisation.name} has moved from the ${PLANS[from].name} to the ${plan.name} on Thurrock Data Exchange.`,
      '',
      `Price: ${planPrice(plan)}.`,
      `Limits: ${planLimitsText(plan)}.`,
      ...(removed.length === 0 ? [] : [`These applications are not part of the new plan and have been turned off: ${removed.join(', ')}.`]),
      '',
      `Reason from the platform administrator:\n${reason}`,
    ];
    for (const { email } of administrators) {
      await this.mailer.send({ to: email, subject: `${organisation.name} is now on the ${plan.name}`, text: lines.join('\n') }, trx);
    }
    return administrators.length;
  }
}
