import { sql, type Kysely, type Transaction } from 'kysely';
import { executePrepared } from './prepared.ts';
import type { DB } from './schema.ts';

/**
 * Runs `work` in one transaction scoped to an organisation. Row-level security policies read the organisation from
 * the transaction-local setting `civic.organisation_id`; with `null` only public rows are visible.
 */
export async function withOrganisation<T>(
  db: Kysely<DB>,
  organisationId: string | null,
  work: (trx: Transaction<DB>) => Promise<T>,
): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await setOrganisation(trx, organisationId);
    return work(trx);
  });
}

/** Sets the organisation for the rest of the current transaction. */
export async function setOrganisation(trx: Kysely<DB>, organisationId: string | null): Promise<void> {
  // Nearly every transaction runs this, so it is prepared once per connection rather than parsed each time.
  await executePrepared(trx, sql`select set_config('civic.organisation_id', ${organisationId ?? ''}, true)`.compile(trx));
}

/**
 * Opens the platform scope for the rest of the current transaction: policies then allow platform-wide work such as
 * approval queues and operator imports. Callers record who acted and why in the audit log in the same transaction.
 */
export async function setPlatformScope(trx: Kysely<DB>): Promise<void> {
  await sql`select set_config('civic.platform', 'on', true)`.execute(trx);
}
