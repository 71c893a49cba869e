import { sql, type Kysely } from 'kysely';
import type { RawConnection } from '../db/connection.ts';
import type { DB } from '../db/schema.ts';
import { qualifiedTableName, quoteIdentifier } from '../catalogue/datastore-table.ts';
import type { TableSchema } from '../ingest/table-schema.ts';
import type { PublicationFinding } from './publication-findings.ts';

/** Rows read from a datastore table per query while scanning or rewriting it. */
export const ROW_BATCH = 2000;

/**
 * Reads a datastore table in `_id` order, every column as text, in batches, on the caller's connection (so it sees
 * the rows of an import that has not committed yet).
 */
export async function* readRowsAsText(raw: RawConnection, table: string, schema: TableSchema): AsyncGenerator<Array<{ id: number; values: Array<string | null> }>> {
  const columns = schema.fields.map((field, index) => `${quoteIdentifier(field.name)}::text as c${index}`);
  const select = `select _id${columns.map((column) => `, ${column}`).join('')} from ${table} where _id > $1 order by _id limit ${ROW_BATCH}`;
  let after = 0;
  for (;;) {
    const { rows } = await raw.query<Record<string, string | number | null>>(select, [after]);
    if (rows.length === 0) return;
    const batch = rows.map((row) => ({ id: Number(row._id), values: schema.fields.map((_field, index) => (row[`c${index}`] ?? null) as string | null) }));
    yield batch;
    after = batch[batch.length - 1]!.id;
    if (rows.length < ROW_BATCH) return;
  }
}

/** Inserts rows (values as text, cast by PostgreSQL to the column types) into a datastore table. */
export async function insertRows(raw: RawConnection, tableName: string, schema: TableSchema, rows: ReadonlyArray<{ id: number; values: ReadonlyArray<string | null> }>): Promise<void> {
  if (rows.length === 0) return;
  const width = schema.fields.length + 1;
  const columns = ['_id', ...schema.fields.map((field) => field.name)].map(quoteIdentifier).join(', ');
  // PostgreSQL takes at most 65,535 parameters in one statement.
  const perStatement = Math.max(1, Math.floor(60000 / width));
  for (let start = 0; start < rows.length; start += perStatement) {
    const slice = rows.slice(start, start + perStatement);
    const parameters: Array<string | number | null> = [];
    const tuples = slice.map((row) => {
      parameters.push(row.id, ...row.values);
      const base = parameters.length - width;
      return `(${Array.from({ length: width }, (_value, index) => `$${base + index + 1}`).join(', ')})`;
    });
    await raw.query(`insert into ${qualifiedTableName(tableName)} (${columns}) values ${tuples.join(', ')}`, parameters);
  }
}

export function insertJustification(
  db: Kysely<DB>,
  values: { organisationId: string; datasetId: string; resourceId: string; userId: string | null; recordedBy: string; reason: string; findings: PublicationFinding[] },
): Promise<{ id: string }> {
  return db
    .insertInto('publication_justifications')
    .values({
      organisation_id: values.organisationId,
      dataset_id: values.datasetId,
      resource_id: values.resourceId,
      recorded_by_user_id: values.userId,
      recorded_by: values.recordedBy,
      reason: values.reason,
      findings: JSON.stringify(values.findings),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
}

export async function hasJustification(db: Kysely<DB>, resourceId: string): Promise<boolean> {
  const row = await db.selectFrom('publication_justifications').select('id').where('resource_id', '=', resourceId).limit(1).executeTakeFirst();
  return row !== undefined;
}

export interface ReleasedAggregate {
  resource_id: string;
  query_hash: string;
  cell_counts: unknown;
}

/** Earlier releases of the same query from any version of the dataset. */
export function findReleases(db: Kysely<DB>, datasetId: string, queryHash: string): Promise<ReleasedAggregate[]> {
  return db.selectFrom('released_aggregates').select(['resource_id', 'query_hash', 'cell_counts']).where('dataset_id', '=', datasetId).where('query_hash', '=', queryHash).execute();
}

export async function recordRelease(
  db: Kysely<DB>,
  values: { organisationId: string; datasetId: string; resourceId: string; queryHash: string; query: unknown; cellCounts: Record<string, number> },
): Promise<void> {
  await db
    .insertInto('released_aggregates')
    .values({
      organisation_id: values.organisationId,
      dataset_id: values.datasetId,
      resource_id: values.resourceId,
      query_hash: values.queryHash,
      query: JSON.stringify(values.query),
      cell_counts: JSON.stringify(values.cellCounts),
    })
    .onConflict((conflict) => conflict.columns(['resource_id', 'query_hash']).doNothing())
    .execute();
}

/** Counts (and optionally sums) of a datastore table grouped by up to two columns. */
export async function groupCounts(
  db: Kysely<DB>,
  table: string,
  groupBy: readonly string[],
  sumColumn: string | null,
): Promise<Array<{ keys: Array<string | null>; count: number; sum: number | null }>> {
  // A month:COLUMN group counts by calendar month of a date column, written YYYY-MM so that keys sort in time order.
  const keys = groupBy.map((column, index) =>
    column.startsWith('month:') ? `to_char(date_trunc('month', ${quoteIdentifier(column.slice('month:'.length))}), 'YYYY-MM') as k${index}` : `${quoteIdentifier(column)}::text as k${index}`,
  );
  const measures = ['count(*)::bigint as n', sumColumn ? `sum(${quoteIdentifier(sumColumn)})::float8 as s` : 'null::float8 as s'];
  const groupClause = groupBy.length > 0 ? ` group by ${groupBy.map((_column, index) => index + 1).join(', ')}` : '';
  const query = `select ${[...keys, ...measures].join(', ')} from ${table}${groupClause}`;
  const result = await sql.raw<Record<string, string | number | null>>(query).execute(db);
  return result.rows.map((row) => ({
    keys: groupBy.map((_column, index) => (row[`k${index}`] ?? null) as string | null),
    count: Number(row.n),
    sum: row.s === null ? null : Number(row.s),
  }));
}
