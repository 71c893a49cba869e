import type { Kysely } from 'kysely';
import { auditActor, type AuthContext, type OrganisationAccess } from '../accounts/auth-context.ts';
import { appendAuditEvent } from '../audit/audit.repository.ts';
import type { DB } from '../db/schema.ts';
import { withOrganisation } from '../db/tenant.ts';
import { AppError, validationError } from '../errors.ts';
import { APPLICATION_NAMES, PLANS } from './plans.ts';
import { APPLICATIONS, type ApplicationId, type PlanId } from './tenancy.tables.ts';

/** Reads the plan and enabled applications of an active organisation; returns null when it is not active or not visible. */
export async function organisationApplications(db: Kysely<DB>, organisationId: string): Promise<OrganisationAccess | null> {
  const row = await withOrganisation(db, organisationId, (trx) => trx.selectFrom('organisations').select(['status', 'plan', 'applications']).where('id', '=', organisationId).executeTakeFirst());
  return row?.status === 'active' ? { plan: row.plan, applications: row.applications } : null;
}

/**
 * Returns why an organisation cannot use `application`, naming it and what to do, or null when it can: either the
 * plan does not offer it (a platform administrator can change the plan) or an administrator has not enabled it.
 */
export function applicationRefusal(access: OrganisationAccess, application: ApplicationId): string | null {
  if (access.applications.includes(application)) return null;
  const name = APPLICATION_NAMES[application];
  const plan = PLANS[access.plan];
  if (!plan.applications.includes(application)) {
    const offering = Object.values(PLANS).filter((candidate) => candidate.applications.includes(application)).map((candidate) => candidate.name);
    return `${name} is not part of the ${plan.name} your organisation is on. Ask a platform administrator to move it to the ${offering.join(' or ')}.`;
  }
  return `Your organisation has not enabled ${name}. An administrator of your organisation can enable it under Applications in the organisation settings (/organisation/settings).`;
}

/** Sets the organisation's enabled applications, which must all be offered by its plan; audited. */
export async function setApplications(db: Kysely<DB>, auth: AuthContext, requested: string[], requestId?: string): Promise<ApplicationId[]> {
  const organisationId = auth.organisationId;
  if (organisationId === null) throw new AppError('forbidden', 'not_a_member', 'You are not a member of an organisation.');
  const unknown = requested.filter((application) => !(APPLICATIONS as readonly string[]).includes(application));
  if (unknown.length > 0) {
    throw validationError('unknown_application', `Unknown application ${unknown.join(', ')}`, [{ field: 'applications', message: `Select applications from the list; "${unknown[0]}" is not one` }]);
  }
  const applications = APPLICATIONS.filter((application) => requested.includes(application));
  return withOrganisation(db, organisationId, async (trx) => {
    const organisation = await trx.selectFrom('organisations').select(['plan', 'status', 'applications']).where('id', '=', organisationId).forUpdate().executeTakeFirstOrThrow();
    if (organisation.status !== 'active') throw new AppError('conflict', 'organisation_not_active', 'You can choose applications once the organisation has been approved.');
    const plan = PLANS[organisation.plan];
    const outside = applications.filter((application) => !plan.applications.includes(application));
    if (outside.length > 0) {
      throw validationError('application_not_in_plan', `${APPLICATION_NAMES[outside[0]!]} is not part of the ${plan.name}`, [
        { field: 'applications', message: `${APPLICATION_NAMES[outside[0]!]} is not part of the ${plan.name}. Ask a platform administrator to move your organisation to another plan` },
      ]);
    }
    await trx.updateTable('organisations').set({ applications }).where('id', '=', organisationId).execute();
    await appendAuditEvent(trx, {
      organisationId,
      ...auditActor(auth),
      action: 'organisation.applications_changed',
      subjectType: 'organisation',
      subjectId: organisationId,
      requestId,
      details: { from: organisation.applications, to: applications },
    });
    return applications;
  });
}
