import type { Kysely } from 'kysely';
import { auditActor, type AuthContext } from '../accounts/auth-context.ts';
import { appendAuditEvent } from '../audit/audit.repository.ts';
import type { DB } from '../db/schema.ts';
import { withOrganisation } from '../db/tenant.ts';
import { AppError, validationError } from '../errors.ts';
import { APPLICATION_NAMES, PLANS } from './plans.ts';
import { APPLICATIONS, type ApplicationId } from './tenancy.tables.ts';

/** The applications an active organisation has enabled; null when the organisation is not active or not visible. */
export async function organisationApplications(db: Kysely<DB>, organisationId: string): Promise<ApplicationId[] | null> {
  const row = await withOrganisation(db, organisationId, (trx) => trx.selectFrom('organisations').select(['status', 'applications']).where('id', '=', organisationId).executeTakeFirst());
  return row?.status === 'active' ? row.applications : null;
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
        { field: 'applications', message: `${APPLICATION_NAMES[outside[0]!]} is not part of the ${plan.name}. Ask a platform administrator about another plan` },
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
