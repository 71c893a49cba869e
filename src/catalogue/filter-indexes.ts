/**
 * Filter indexes on a new datastore table are built by a job after the import commits. The rows serve from the commit,
 * and filters on them use a sequential scan until the job has run. Sorting a large table once per index took longer
 * than loading it, so building the indexes inside the import delayed every new version.
 */
import { sql, type Kysely } from 'kysely';
import type { RawConnection } from '../db/connection.ts';
import type { Database } from '../db/database.ts';
import type { DB } from '../db/schema.ts';
import { setPlatformScope } from '../db/tenant.ts';
import type { FileAnalysis } from '../ingest/ingest.types.ts';
import { enqueueJob } from '../jobs/job-queue.ts';
import { createIndexSql, filterIndexColumns, textLengthsSql } from './datastore-table.ts';

export const FILTER_INDEX_JOB = 'catalogue.filter_indexes';

/** The job's input: the resource's table and the columns chosen when it was loaded. */
export interface FilterIndexRequest {
  resourceId: string;
  tableName: string;
  columns: string[];
}

/** Returns the job's unique key, so one resource's indexes are queued once. */
function jobKey(resourceId: string): string {
  return `${FILTER_INDEX_JOB}:${resourceId}`;
}

/**
 * Chooses the filter columns of a loaded table. The analysis measured every stored text value, which saves a scan. A
 * load without those lengths (an older analysis) measures them in the table.
 */
export async function chooseFilterColumns(raw: RawConnection, tableName: string, analysis: FileAnalysis): Promise<string[]> {
  const lengths = new Map<number, number>();
  const lengthsSql = textLengthsSql(tableName, analysis.schema);
  if (analysis.text_lengths) {
    for (const [position, longest] of analysis.text_lengths.entries()) if (longest !== null) lengths.set(position, longest);
  } else if (lengthsSql !== null) {
    const { rows } = await raw.query<Record<string, number | string | null>>(lengthsSql);
    for (const [key, value] of Object.entries(rows[0] ?? {})) {
      if (value !== null) lengths.set(Number(key.slice(1)), Number(value));
    }
  }
  return filterIndexColumns(analysis.schema, lengths);
}

/** Queues the index build in the import's transaction, so the job exists exactly when the new version does. */
export async function queueFilterIndexes(trx: Kysely<DB>, organisationId: string, request: FilterIndexRequest): Promise<void> {
  if (request.columns.length === 0) return;
  await enqueueJob(trx, {
    kind: FILTER_INDEX_JOB,
    organisationId,
    uniqueKey: jobKey(request.resourceId),
    payload: { resource_id: request.resourceId, table: request.tableName, columns: request.columns },
  });
}

/** Reads a request back from a job's payload, rejecting one that does not name a datastore table and its columns. */
export function filterIndexRequest(payload: Record<string, unknown>): FilterIndexRequest {
  const { resource_id: resourceId, table: tableName, columns } = payload;
  if (typeof resourceId !== 'string' || typeof tableName !== 'string' || !/^r_[0-9a-f]{32}$/.test(tableName)) {
    throw new Error(`Invalid filter index job: table ${JSON.stringify(tableName)} is not a datastore table name. An import did not write this job, so delete it.`);
  }
  if (!Array.isArray(columns) || !columns.every((column) => typeof column === 'string')) {
    throw new Error(`Invalid filter index job for table ${tableName}: the list of columns is missing. An import did not write this job, so delete it.`);
  }
  return { resourceId, tableName, columns: columns as string[] };
}

/**
 * Builds the filter indexes of one table in one transaction, and marks its queued job done, so a command that builds
 * them itself leaves no work behind. Returns false when the table no longer exists (retention dropped the version
 * first). Safe to run twice: an index that exists is left as it is.
 */
export async function buildFilterIndexes(db: Database, request: FilterIndexRequest): Promise<boolean> {
  return db.app.transaction().execute(async (trx) => {
    await setPlatformScope(trx);
    // A server's worker and `civic import` may build the same table's indexes at once. The lock makes the second wait
    // until the first has built them, because two concurrent `create index if not exists` fail on the index name.
    await sql`select pg_advisory_xact_lock(hashtext(${jobKey(request.resourceId)}))`.execute(trx);
    const found = await sql<{ found: string | null }>`select to_regclass(${`datastore.${request.tableName}`})::text as found`.execute(trx);
    if (found.rows[0]?.found === null || found.rows[0]?.found === undefined) return false;
    // Index builds sort in memory up to this limit (the default is 64 MB), and spill to disk beyond it.
    await sql`set local maintenance_work_mem = '256MB'`.execute(trx);
    for (const statement of createIndexSql(request.tableName, request.columns, { ifNotExists: true })) await sql.raw(statement).execute(trx);
    await trx
      .updateTable('jobs')
      .set({ status: 'completed', finished_at: new Date() })
      .where('unique_key', '=', jobKey(request.resourceId))
      .where('status', '=', 'pending')
      .execute();
    return true;
  });
}

/** Builds the indexes still queued for one resource, for a command that should not leave them to a server. */
export async function buildQueuedFilterIndexes(db: Database, resourceId: string): Promise<boolean> {
  const job = await db.app.transaction().execute(async (trx) => {
    await setPlatformScope(trx);
    return trx.selectFrom('jobs').select('payload').where('unique_key', '=', jobKey(resourceId)).where('status', '=', 'pending').executeTakeFirst();
  });
  if (!job) return false;
  return buildFilterIndexes(db, filterIndexRequest(job.payload as Record<string, unknown>));
}
