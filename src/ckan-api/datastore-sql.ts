import { sql, type Kysely, type Transaction } from 'kysely';
import type { EngineName } from '../db/database.ts';
import { SQL_READER_ROLE } from '../db/roles.ts';
import type { DB } from '../db/schema.ts';
import { setOrganisation } from '../db/tenant.ts';
import { AppError } from '../errors.ts';
import { hiddenResourceError, hiddenResourceReason } from './access.ts';
import { invalidParameter } from './datastore-params.ts';
import { MAX_SQL_ROWS, type DatastoreSqlResult } from './datastore.types.ts';
import { checkSelectQuery, rewriteTables } from './sql-guard.ts';

export interface SqlLimits {
  /** PostgreSQL `statement_timeout` for the query, in milliseconds. */
  timeoutMs: number;
  engine: EngineName;
}

/**
 * Planner cost above which the embedded engine refuses a query. PGlite runs queries on the Node.js thread and does not
 * enforce statement_timeout, so a runaway query would stall every request; the planner's estimate stops the obvious
 * ones (cross joins of large tables) before they start. The bound is an estimate, not a time.
 */
const EMBEDDED_MAX_PLAN_COST = 20_000_000;

const CKAN_TYPES: Record<string, string> = {
  smallint: 'int',
  integer: 'int',
  bigint: 'int',
  numeric: 'numeric',
  real: 'numeric',
  'double precision': 'numeric',
  text: 'text',
  'character varying': 'text',
  character: 'text',
  boolean: 'bool',
  date: 'date',
  'timestamp without time zone': 'timestamp',
  'timestamp with time zone': 'timestamp',
};

/**
 * Runs a read-only SELECT from datastore_search_sql. The query is checked against the allow-list, its resource ids are
 * resolved as the caller (row-level security hides private resources), rewritten to their datastore tables, and run in
 * a read-only transaction with a statement timeout and a row cap, as a role that can read only datastore tables.
 */
export async function runDatastoreSql(db: Kysely<DB>, organisationId: string | null, query: string, limits: SqlLimits): Promise<DatastoreSqlResult> {
  const checked = await checkSelectQuery(query);
  return db
    .transaction()
    .setAccessMode('read only')
    .execute(async (trx) => {
      await setOrganisation(trx, organisationId);
      await sql.raw(`set local statement_timeout = ${Math.trunc(limits.timeoutMs)}`).execute(trx);
      const tableNames = await resolveTables(trx, checked.references.map((reference) => reference.resourceId));
      const rewritten = await rewriteTables(query, checked.references, tableNames);
      // From here the query runs as a role that can read datastore tables only, whatever the checker let through.
      await sql.raw(`set local role ${SQL_READER_ROLE}`).execute(trx);
      try {
        const fields = await describeResult(trx, rewritten);
        // The alias list names the result's columns by position, so columns that share a name keep their own values.
        const aliases = fields.length > 0 ? `(${fields.map((field) => quoteIdentifier(field.id)).join(', ')})` : '';
        const capped = `select * from (${rewritten}\n) as _sql${aliases} limit ${MAX_SQL_ROWS + 1}`;
        if (limits.engine === 'pglite') await checkPlanCost(trx, capped);
        const { rows } = await sql.raw<Record<string, unknown>>(capped).execute(trx);
        const records = rows.slice(0, MAX_SQL_ROWS).map((row) => Object.fromEntries(Object.entries(row).map(([key, value]) => [key, value instanceof Date ? value.toISOString() : value])));
        return {
          sql: query,
          fields,
          records,
          recordsTruncated: rows.length > MAX_SQL_ROWS,
        };
      } catch (error) {
        throw asQueryError(error, limits.timeoutMs);
      }
    });
}

async function resolveTables(trx: Transaction<DB>, resourceIds: string[]): Promise<Map<string, string>> {
  const unique = [...new Set(resourceIds)];
  const tableNames = new Map<string, string>();
  if (unique.length === 0) return tableNames;
  const rows = await trx.selectFrom('resources').select(['id', 'table_name']).where('id', 'in', unique).execute();
  for (const row of rows) tableNames.set(row.id, row.table_name);
  for (const id of unique) {
    if (tableNames.has(id)) continue;
    const reason = await hiddenResourceReason(trx, id);
    if (reason !== null) throw hiddenResourceError(id, reason);
    throw invalidParameter('sql', `Table "${id}" is not a datastore resource. Check the resource id.`);
  }
  return tableNames;
}

async function checkPlanCost(trx: Transaction<DB>, capped: string): Promise<void> {
  const { rows } = await sql.raw<{ 'QUERY PLAN': unknown }>(`explain (format json) ${capped}`).execute(trx);
  const raw = rows[0]?.['QUERY PLAN'];
  const plan = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Array<{ Plan: { 'Total Cost': number } }>;
  const cost = plan[0]?.Plan['Total Cost'] ?? 0;
  if (cost > EMBEDDED_MAX_PLAN_COST) {
    throw invalidParameter('sql', 'The query would take too long on this server. Add filters, a LIMIT or fewer joins.');
  }
}

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Gives every result column a distinct name: the first column of a name keeps it, and later ones get `_2`, `_3` and so
 * on (skipping names already taken), as in `_id`, `_id_2`. CKAN clients read each record's values by field id, so
 * two fields with one id cannot both be read. Renaming was chosen over rejecting the query: it keeps every value, and
 * `select *` over a self-join still runs without the client spelling out aliases. Columns with distinct names keep
 * them unchanged.
 */
export function distinctNames(names: string[]): string[] {
  const taken = new Set(names);
  const seen = new Set<string>();
  return names.map((name) => {
    if (!seen.has(name)) {
      seen.add(name);
      return name;
    }
    let suffix = 2;
    while (taken.has(`${name}_${suffix}`)) suffix += 1;
    const renamed = `${name}_${suffix}`;
    taken.add(renamed);
    seen.add(renamed);
    return renamed;
  });
}

/**
 * Result column names and types, read without running the query. The names come, duplicates and order included, from
 * the keys of `row_to_json` over a row of nulls: the query joined `on false` to one row, which still carries every
 * column. The types come from `pg_typeof` on the same row, with the columns renamed by position so each is read once.
 */
async function describeResult(trx: Transaction<DB>, rewritten: string): Promise<Array<{ id: string; type: string }>> {
  const nullRow = (aliases: string) => `(select 1) as _one left join (${rewritten}\n) as _q${aliases} on false`;
  const { rows } = await sql.raw<{ key: string }>(
    `select _keys.key from (select row_to_json(_row) as _json from (select _q.* from ${nullRow('')}) as _row) as _names, json_each(_names._json) with ordinality as _keys order by _keys.ordinality`,
  ).execute(trx);
  if (rows.length === 0) return [];
  const positions = rows.map((_, index) => `c${index}`);
  const probes = positions.map((position, index) => `pg_typeof(_q.${position})::text as "${index}"`);
  const { rows: typeRows } = await sql.raw<Record<string, string>>(`select ${probes.join(', ')} from ${nullRow(`(${positions.join(', ')})`)}`).execute(trx);
  const names = distinctNames(rows.map((row) => row.key));
  return names.map((name, index) => ({ id: name, type: ckanType(typeRows[0]?.[String(index)]) }));
}

function ckanType(postgresType: string | undefined): string {
  if (postgresType === undefined) return 'text';
  return CKAN_TYPES[postgresType] ?? postgresType;
}

/** Turns a PostgreSQL error caused by the query into a Validation Error on `sql`; anything else is left to the 500 path. */
function asQueryError(error: unknown, timeoutMs: number): unknown {
  if (error instanceof AppError) return error;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return error;
  if (code === '57014') return invalidParameter('sql', `The query took longer than ${timeoutMs} ms and was cancelled. Add filters or a LIMIT.`);
  if (/^(42|22|21|2F|54|25)/.test(code)) return invalidParameter('sql', `The query failed: ${(error as Error).message}.`);
  return error;
}
