import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { OrganisationRole } from './accounts.tables.ts';

/** Organisation roles whose holders must use a second factor. Platform administrators must use one too. */
export const SECOND_FACTOR_ROLES: readonly OrganisationRole[] = ['administrator', 'data_protection_officer'];

/**
 * Whether a user must use a second factor: a platform administrator, or an administrator or data protection officer
 * of any organisation. Reads the user's own memberships, so `trx` must act as that user (setCurrentUser).
 */
export async function secondFactorRequired(trx: Kysely<DB>, userId: string, platformAdmin: boolean): Promise<boolean> {
  if (platformAdmin) return true;
  const privileged = await trx
    .selectFrom('memberships')
    .select('role')
    .where('user_id', '=', userId)
    .where('role', 'in', [...SECOND_FACTOR_ROLES])
    .executeTakeFirst();
  return privileged !== undefined;
}
