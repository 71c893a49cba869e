import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DB } from '../db/schema.ts';
import { withOrganisation } from '../db/tenant.ts';
import { invalidParameter } from './datastore-params.ts';
import { columnsOf, describeColumn, ID_COLUMN, loadDatastoreTable, type DatastoreColumn, type DatastoreTable } from './datastore-table.ts';
import type { DatastoreQuery, DatastoreResult, FilterValue, SortKey } from './datastore.types.ts';

export { columnsOf };

/**
 * Runs a datastore_search request as the caller's organisation (null for anonymous callers), so row-level security
 * decides whether the resource is visible. The portal's data preview calls this too.
 */
export async function searchDatastore(db: Kysely<DB>, organisationId: string | null, query: DatastoreQuery): Promise<DatastoreResult> {
  return withOrganisation(db, organisationId, async (trx) => {
    const table = await loadDatastoreTable(trx, query.resourceId);
    const plan = planSearch(table, query);
    const { rows } = await plan.select.execute(trx);
    const total = query.includeTotal ? (plan.count ? Number((await plan.count.execute(trx)).rows[0]?.count ?? 0) : table.rowCount) : undefined;
    return shapeResult(table, query, plan, rows as Array<Record<string, unknown>>, total);
  });
}

/** The SQL of one datastore_search page, built and checked against the table's columns. */
export interface SearchPlan {
  columns: DatastoreColumn[];
  select: RawBuilder<Record<string, unknown>>;
  /** Exact count of matching rows; null when the stored row count is exact (no filters, no search, no distinct). */
  count: RawBuilder<{ count: string | number }> | null;
  /** Whether the page is read in `_id` order, so the next page can continue after the last `_id`. */
  keyset: boolean;
  /** `_id` is selected only to make the cursor and is removed from the records. */
  dropIdColumn: boolean;
}

export function planSearch(table: DatastoreTable, query: DatastoreQuery): SearchPlan {
  const byName = new Map(table.columns.map((column) => [column.name, column]));
  const lookup = (parameter: string, name: string): DatastoreColumn => {
    const column = byName.get(name);
    if (!column) throw invalidParameter(parameter, `field "${name}" not in table. Use one of: ${table.columns.map((c) => c.name).join(', ')}.`);
    return column;
  };

  const columns = query.fields ? query.fields.map((name) => lookup('fields', name)) : table.columns;
  const matching: RawBuilder<unknown>[] = [];
  for (const [name, value] of Object.entries(query.filters)) matching.push(filterCondition(lookup('filters', name), value));
  matching.push(...searchConditions(table, query.q, lookup));

  const sort = resolveSort(query, columns, lookup);
  const keyset = !query.distinct && sort.length === 1 && sort[0]!.column === '_id' && !sort[0]!.descending;
  const unfiltered = matching.length === 0 && !query.distinct;
  const page = [...matching];
  let skip = query.offset;
  if (keyset && query.offset > 0) {
    // `_id` numbers the rows 1..row_count without gaps, so with no filter the rows after offset N are those with
    // `_id` > N; a filtered search needs the last `_id` of the previous page, carried by the cursor.
    const after = matching.length === 0 ? query.offset : cursorPosition(query);
    if (after !== null) {
      page.push(sql`_id > ${after}`);
      skip = 0;
    }
  }

  const dropIdColumn = keyset && !columns.some((column) => column.name === '_id');
  const selected = dropIdColumn ? [...columns, ID_COLUMN] : columns;
  const target = sql.id('datastore', table.tableName);
  const whereOf = (conditions: RawBuilder<unknown>[]) => (conditions.length > 0 ? sql`where ${sql.join(conditions, sql` and `)}` : sql``);
  const order = sql.join(sort.map((key) => sql`${sql.id(key.column)} ${sql.raw(key.descending ? 'desc' : 'asc')}`));
  const list = sql.join(selected.map((column) => sql.id(column.name)));
  const distinct = query.distinct ? sql`distinct ` : sql``;
  const select = sql<Record<string, unknown>>`select ${distinct}${list} from ${target} ${whereOf(page)} order by ${order} limit ${query.limit} offset ${skip}`;

  let count: SearchPlan['count'] = null;
  if (!unfiltered) {
    const returned = sql.join(columns.map((column) => sql.id(column.name)));
    count = query.distinct
      ? sql`select count(*) as count from (select distinct ${returned} from ${target} ${whereOf(matching)}) as matching`
      : sql`select count(*) as count from ${target} ${whereOf(matching)}`;
  }
  return { columns, select, count, keyset, dropIdColumn };
}

function resolveSort(query: DatastoreQuery, columns: DatastoreColumn[], lookup: (parameter: string, name: string) => DatastoreColumn): SortKey[] {
  const sort = query.sort.map((key) => ({ column: lookup('sort', key.column).name, descending: key.descending }));
  if (query.distinct) {
    const selected = new Set(columns.map((column) => column.name));
    for (const key of sort) {
      if (!selected.has(key.column)) throw invalidParameter('sort', `field "${key.column}" is not among the returned fields; with distinct, sort only by returned fields.`);
    }
    if (sort.length === 0) return columns.map((column) => ({ column: column.name, descending: false }));
    return sort;
  }
  // `_id` breaks ties, so pages never overlap or skip rows whatever the sort.
  if (!sort.some((key) => key.column === '_id')) sort.push({ column: '_id', descending: false });
  return sort;
}

/** Returns the `_id` to continue after when the cursor was made for this offset; otherwise null. */
function cursorPosition(query: DatastoreQuery): number | null {
  if (query.cursor === null) return null;
  const match = /^(\d+)\.(\d+)$/.exec(query.cursor);
  if (!match) throw invalidParameter('cursor', `"${query.cursor}" is not a cursor from a next link. Remove it to page by offset.`);
  return Number(match[1]) === query.offset ? Number(match[2]) : null;
}

const SQL_CASTS: Record<DatastoreColumn['type'], string> = {
  int: 'bigint',
  text: 'text',
  numeric: 'numeric',
  bool: 'boolean',
  date: 'date',
  timestamp: 'timestamptz',
};

/** Checks a filter value against the column type, so a bad value gets a message naming it rather than a SQL error. */
function checkFilterValue(column: DatastoreColumn, value: FilterValue): string | null {
  if (value === null) return null;
  const text = String(value).trim();
  const bad = (expected: string) => invalidParameter('filters', `"${String(value)}" is not ${expected}, as column "${column.name}" needs.`);
  switch (column.type) {
    case 'int':
      if (!/^-?\d{1,18}$/.test(text)) throw bad('a whole number');
      return text;
    case 'numeric':
      if (text === '' || !Number.isFinite(Number(text))) throw bad('a number');
      return text;
    case 'bool':
      if (!/^(true|false)$/i.test(text)) throw bad('true or false');
      return text.toLowerCase();
    case 'date':
      if (!/^\d{4}-\d{2}-\d{2}$/.test(text) || Number.isNaN(Date.parse(`${text}T00:00:00Z`))) throw bad('a date (YYYY-MM-DD)');
      return text;
    case 'timestamp':
      if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(Date.parse(text))) throw bad('a date and time (ISO 8601)');
      return text;
    case 'text':
      return String(value);
  }
}

/** A time with a zone or offset at its end: `Z`, `+01`, `+0100` or `+01:00`. */
const ZONED_TIME = /(?:z|[+-]\d{2}(?::?\d{2})?)$/i;

/**
 * Returns a checked filter value cast to its column's type. A date and time without a zone is read as UK local time,
 * as the import read the file's own times, so a filter can quote a time exactly as the file wrote it.
 */
function filterValueSql(column: DatastoreColumn, item: string, cast: RawBuilder<unknown>): RawBuilder<unknown> {
  if (column.type === 'timestamp' && !ZONED_TIME.test(item)) return sql`(cast(${item} as timestamp) at time zone 'Europe/London')`;
  return sql`cast(${item} as ${cast})`;
}

function filterCondition(column: DatastoreColumn, value: FilterValue | FilterValue[]): RawBuilder<unknown> {
  const values = Array.isArray(value) ? value : [value];
  const name = sql.id(column.name);
  const cast = sql.raw(SQL_CASTS[column.type]);
  const checked = values.map((item) => checkFilterValue(column, item));
  const present = checked.filter((item): item is string => item !== null);
  const parts: RawBuilder<unknown>[] = [];
  if (present.length > 0) parts.push(sql`${name} in (${sql.join(present.map((item) => filterValueSql(column, item, cast)))})`);
  if (present.length < checked.length) parts.push(sql`${name} is null`);
  if (parts.length === 0) return sql`false`;
  return parts.length === 1 ? parts[0]! : sql`(${sql.join(parts, sql` or `)})`;
}

/** Turns free text into a prefix-matching tsquery of its words, so the text is never read as query syntax. */
export function toPrefixQuery(text: string): string | null {
  const words = text.match(/[\p{L}\p{N}]+/gu);
  return words ? words.map((word) => `'${word}':*`).join(' & ') : null;
}

function searchConditions(
  table: DatastoreTable,
  q: DatastoreQuery['q'],
  lookup: (parameter: string, name: string) => DatastoreColumn,
): RawBuilder<unknown>[] {
  if (q === null) return [];
  const match = (document: RawBuilder<unknown>, text: string) => {
    const tsquery = toPrefixQuery(text);
    return tsquery === null ? null : sql`to_tsvector('english', ${document}) @@ to_tsquery('english', ${tsquery})`;
  };
  if (typeof q === 'string') {
    const textColumns = table.columns.filter((column) => column.type === 'text');
    const document = textColumns.length > 0 ? sql`concat_ws(' ', ${sql.join(textColumns.map((column) => sql.id(column.name)))})` : sql`''`;
    const condition = match(document, q);
    return condition ? [condition] : [];
  }
  const conditions: RawBuilder<unknown>[] = [];
  for (const [name, text] of Object.entries(q)) {
    const condition = match(sql`coalesce(${sql.id(lookup('q', name).name)}::text, '')`, text);
    if (condition) conditions.push(condition);
  }
  return conditions;
}

/** Converts database values to their JSON forms: timestamps as ISO 8601 text, everything else unchanged. */
function jsonValue(value: unknown): unknown {
  return value instanceof Date ? value.toISOString() : value;
}

function delimitedText(rows: unknown[][], delimiter: string): string {
  const cell = (value: unknown): string => {
    if (value === null || value === undefined) return '';
    const text = String(value);
    return text.includes(delimiter) || /["\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return rows.map((row) => row.map(cell).join(delimiter) + '\n').join('');
}

function shapeResult(
  table: DatastoreTable,
  query: DatastoreQuery,
  plan: SearchPlan,
  rows: Array<Record<string, unknown>>,
  total: number | undefined,
): DatastoreResult {
  const lastId = rows.length > 0 ? rows[rows.length - 1]!._id : undefined;
  const nextCursor = plan.keyset && query.limit > 0 && rows.length === query.limit && lastId !== undefined ? `${query.offset + query.limit}.${String(lastId)}` : null;
  const lists = rows.map((row) => plan.columns.map((column) => jsonValue(row[column.name])));
  let records: DatastoreResult['records'];
  if (query.recordsFormat === 'lists') records = lists;
  else if (query.recordsFormat === 'csv') records = delimitedText(lists, ',');
  else if (query.recordsFormat === 'tsv') records = delimitedText(lists, '\t');
  else records = lists.map((values) => Object.fromEntries(plan.columns.map((column, index) => [column.name, values[index]])));
  return {
    resourceId: table.resourceId,
    fields: plan.columns.map(describeColumn),
    records,
    total,
    limit: query.limit,
    offset: query.offset,
    nextCursor,
  };
}
