import type { Database } from '../db/database.ts';
import { setPlatformScope } from '../db/tenant.ts';
import type { FieldError } from '../errors.ts';
import type { AgreementTerms } from './agreement.terms.ts';

/** Organisation roles that may be named to approve an agreement: its data protection officer, or an administrator acting as SIRO. */
const APPROVING_ROLES = ['data_protection_officer', 'administrator'] as const;

export interface ApproverCandidate {
  organisationId: string;
  organisationName: string;
  userId: string;
  name: string;
  role: (typeof APPROVING_ROLES)[number];
}

export interface PartyOrganisation {
  id: string;
  name: string;
}

/**
 * Active organisations and the members of each who may approve agreements, for the drafting form. A drafter must
 * name the other parties' approvers, whom their own organisation's scope cannot see, so this reads in the platform
 * scope. It returns display names and ids only, never email addresses.
 */
export async function listApproverCandidates(db: Database): Promise<{ organisations: PartyOrganisation[]; candidates: ApproverCandidate[] }> {
  return db.app.transaction().execute(async (trx) => {
    await setPlatformScope(trx);
    const organisations = await trx.selectFrom('organisations').select(['id', 'name']).where('status', '=', 'active').orderBy('name').execute();
    const rows = await trx
      .selectFrom('memberships as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .innerJoin('organisations as o', 'o.id', 'm.organisation_id')
      .select(['m.organisation_id', 'o.name as organisation_name', 'u.id as user_id', 'u.display_name', 'm.role'])
      .where('o.status', '=', 'active')
      .where('m.role', 'in', [...APPROVING_ROLES])
      .orderBy('o.name')
      .orderBy('u.display_name')
      .execute();
    return {
      organisations,
      candidates: rows.map((row) => ({
        organisationId: row.organisation_id,
        organisationName: row.organisation_name,
        userId: row.user_id,
        name: row.display_name,
        role: row.role as ApproverCandidate['role'],
      })),
    };
  });
}

/**
 * Checks that every approver named in the terms is a data protection officer or administrator of the party they
 * approve for, so that each named person can act on the review page. Returns one error per approver who is not.
 */
export async function checkApproverMemberships(db: Database, terms: AgreementTerms): Promise<FieldError[]> {
  const userIds = [...new Set(terms.parties.flatMap((party) => party.approvers.map((approver) => approver.userId)))];
  if (userIds.length === 0) return [];
  const memberships = await db.app.transaction().execute(async (trx) => {
    await setPlatformScope(trx);
    return trx.selectFrom('memberships').select(['organisation_id', 'user_id', 'role']).where('user_id', 'in', userIds).where('role', 'in', [...APPROVING_ROLES]).execute();
  });
  const errors: FieldError[] = [];
  terms.parties.forEach((party, partyIndex) => {
    party.approvers.forEach((approver, approverIndex) => {
      const member = memberships.some((row) => row.organisation_id === party.organisationId && row.user_id === approver.userId);
      if (!member) {
        errors.push({
          field: `parties[${partyIndex}].approvers[${approverIndex}].user_id`,
          message: `The approver ${approver.name} is not a data protection officer or administrator of that party. Name one of its data protection officers or administrators`,
        });
      }
    });
  });
  return errors;
}
