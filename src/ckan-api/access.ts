import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { AppError, notFound } from '../errors.ts';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}

/**
 * Whether a dataset (by slug or id) or resource exists but row-level security hides it from the caller. CKAN responds to
 * an unauthorised read of a private package or resource with an Authorization Error (403) rather than Not Found, so
 * this check tells the two apart. It opens the platform scope for this one query only and closes it again in the same
 * transaction, so no row data leaves the scope: the queries return whether the row exists and, for a resource, whether
 * its dataset is open.
 */
async function readBehindPolicy<T>(trx: Kysely<DB>, query: () => Promise<T>): Promise<T> {
  await sql`select set_config('civic.platform', 'on', true)`.execute(trx);
  try {
    return await query();
  } finally {
    await sql`select set_config('civic.platform', '', true)`.execute(trx);
  }
}

export function hiddenDatasetExists(trx: Kysely<DB>, reference: string): Promise<boolean> {
  return readBehindPolicy(trx, async () => {
    let query = trx.selectFrom('datasets').select('id').where('slug', '=', reference);
    if (isUuid(reference)) query = trx.selectFrom('datasets').select('id').where((eb) => eb.or([eb('slug', '=', reference), eb('id', '=', reference)]));
    return (await query.executeTakeFirst()) !== undefined;
  });
}

/**
 * Returns why row-level security hides a resource from the caller: `private` when its dataset is private, `withheld`
 * when its dataset is open but this version is withheld from public readers, or null when no such resource exists.
 */
export function hiddenResourceReason(trx: Kysely<DB>, resourceId: string): Promise<'private' | 'withheld' | null> {
  if (!isUuid(resourceId)) return Promise.resolve(null);
  return readBehindPolicy(trx, async () => {
    const row = await trx
      .selectFrom('resources as r')
      .innerJoin('datasets as d', 'd.id', 'r.dataset_id')
      .select('d.visibility')
      .where('r.id', '=', resourceId)
      .executeTakeFirst();
    if (!row) return null;
    return row.visibility === 'open' ? 'withheld' : 'private';
  });
}

/** Builds the 403 for a resource that row-level security hides, saying whether its dataset or only this version is. */
export function hiddenResourceError(resourceId: string, reason: 'private' | 'withheld'): AppError {
  if (reason === 'withheld') {
    return new AppError(
      'forbidden',
      'resource_withheld',
      `You are not authorised to read resource "${resourceId}". It is a version of an open dataset that its organisation withholds from public readers. Read the dataset's current version, or ask the organisation.`,
    );
  }
  return new AppError('forbidden', 'resource_private', `You are not authorised to read resource "${resourceId}". Its dataset is private to its organisation: its members read it signed in, or with an API token that has the read scope.`);
}

/** Builds the error for a dataset the caller may not read: 403 when it exists but is private, else 404. */
export async function missingDatasetError(trx: Kysely<DB>, reference: string): Promise<AppError> {
  if (await hiddenDatasetExists(trx, reference)) {
    return new AppError('forbidden', 'dataset_private', `You are not authorised to read dataset "${reference}". It is private to its organisation: its members read it signed in, or with an API token that has the read scope.`);
  }
  return notFound('dataset_not_found', `Dataset "${reference}" was not found. Check the name or id.`);
}

export async function missingResourceError(trx: Kysely<DB>, resourceId: string): Promise<AppError> {
  const reason = await hiddenResourceReason(trx, resourceId);
  if (reason !== null) return hiddenResourceError(resourceId, reason);
  return notFound('resource_not_found', `Resource "${resourceId}" was not found. Check the resource id.`);
}
