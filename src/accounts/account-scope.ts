import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';

/**
 * Transaction settings the users, sessions and secret-bearing tables' policies read (see the accounts migration).
 * Each lasts only until the end of the current transaction.
 */

/** Acts as `userId` for the rest of the transaction: the user's own row and memberships become visible. */
export async function setCurrentUser(trx: Kysely<DB>, userId: string | null): Promise<void> {
  await sql`select set_config('civic.user_id', ${userId ?? ''}, true)`.execute(trx);
}

/** Makes the row holding this secret hash visible for the rest of the transaction. */
export async function presentSecret(trx: Kysely<DB>, secretHash: string): Promise<void> {
  await sql`select set_config('civic.presented_secret', ${secretHash}, true)`.execute(trx);
}

/** Finds the id of the account with this email through the narrowly scoped SECURITY DEFINER function. */
export async function findUserIdByEmail(trx: Kysely<DB>, email: string): Promise<string | null> {
  const { rows } = await sql<{ id: string | null }>`select civic_user_id_by_email(${email}) as id`.execute(trx);
  return rows[0]?.id ?? null;
}

/** SHA-256 hex of a high-entropy random secret (session ids, reset links); passwords never go through this. */
export function sha256Hex(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}
