import { sql } from 'kysely';
import type { ResourceVersion } from '../catalogue/catalogue.types.ts';
import { loadDatastoreTable } from '../ckan-api/datastore-table.ts';
import type { Database } from '../db/database.ts';
import { withOrganisation } from '../db/tenant.ts';
import type { TableSchemaField } from '../ingest/table-schema.ts';
import { badParameter, choice, singleValue, type QueryValues } from './query-params.ts';
import { sortByTime } from './time-labels.ts';

export type ChartType = 'bar' | 'line';
export type Aggregate = 'sum' | 'count' | 'mean';

/** Maximum groups a chart shows. With more values in the grouping column, the page shows the largest and states it. */
export const MAX_GROUPS = 20;
/** Maximum points of a chart in time order, such as ten years of a monthly chart. */
export const MAX_MONTHS = 120;

export interface ChartRequest {
  /** The numeric column summed or averaged; null when counting rows. */
  value: TableSchemaField | null;
  group: { kind: 'column'; field: TableSchemaField } | { kind: 'month'; field: TableSchemaField };
  type: ChartType;
  aggregate: Aggregate;
}

export interface ChartPoint {
  label: string;
  value: number;
}

export interface ChartData {
  points: ChartPoint[];
  /** Whether there were more groups than the chart shows. */
  truncated: boolean;
  /** Whether the points are periods in time order (the first ones shown when truncated) rather than largest first. */
  timeOrder: boolean;
}

const NUMERIC = new Set(['integer', 'number']);
const DATES = new Set(['date', 'datetime']);

export function numericFields(version: ResourceVersion): TableSchemaField[] {
  return version.tableSchema.fields.filter((field) => NUMERIC.has(field.type));
}

/** Columns to group by: text, whole numbers and yes-or-no columns. */
export function groupFields(version: ResourceVersion): TableSchemaField[] {
  return version.tableSchema.fields.filter((field) => field.type === 'string' || field.type === 'boolean' || field.type === 'integer');
}

export function dateFields(version: ResourceVersion): TableSchemaField[] {
  return version.tableSchema.fields.filter((field) => DATES.has(field.type));
}

/**
 * Reads the chart parameters against the version's columns. Absent parameters get defaults: the first numeric column
 * summed, grouped by the first text column, as bars. A wrong one raises a 400 naming it and the choices.
 */
export function readChartRequest(version: ResourceVersion, query: QueryValues): ChartRequest {
  const fields = version.tableSchema.fields;
  const byName = new Map(fields.map((field) => [field.name, field]));
  const numeric = numericFields(version);
  const aggregate = choice(query, 'agg', ['sum', 'count', 'mean'] as const, numeric.length > 0 ? 'sum' : 'count');
  const type = choice(query, 'type', ['bar', 'line'] as const, 'bar');

  let value: TableSchemaField | null = null;
  const valueName = singleValue(query, 'value');
  if (valueName !== undefined && valueName !== '') {
    const field = byName.get(valueName);
    if (!field) throw badParameter('value', `"${valueName}" is not a column of this dataset. Use a numeric column: ${numeric.map((f) => f.name).join(', ') || 'this dataset has none, so use agg=count'}.`);
    if (!NUMERIC.has(field.type)) throw badParameter('value', `Column "${valueName}" contains ${field.type} values, not numbers. Use a numeric column: ${numeric.map((f) => f.name).join(', ') || 'this dataset has none, so use agg=count'}.`);
    value = field;
  } else if (aggregate !== 'count') {
    value = numeric[0] ?? null;
    if (!value) throw badParameter('agg', `This dataset has no numeric column to ${aggregate === 'sum' ? 'add up' : 'average'}. Use agg=count.`);
  }

  const groupName = singleValue(query, 'group');
  let group: ChartRequest['group'];
  if (groupName === undefined || groupName === '') {
    const fallback = groupFields(version).find((field) => field.type === 'string') ?? groupFields(version)[0];
    const date = dateFields(version)[0];
    if (fallback) group = { kind: 'column', field: fallback };
    else if (date) group = { kind: 'month', field: date };
    else throw badParameter('group', 'This dataset has no column to group by.');
  } else if (groupName.startsWith('month:')) {
    const field = byName.get(groupName.slice('month:'.length));
    if (!field || !DATES.has(field.type)) {
      throw badParameter('group', `"${groupName}" does not name a date column. Use month: and one of: ${dateFields(version).map((f) => f.name).join(', ') || 'none (this dataset has no date column)'}.`);
    }
    group = { kind: 'month', field };
  } else {
    const field = byName.get(groupName);
    if (!field) throw badParameter('group', `"${groupName}" is not a column of this dataset. Use one of: ${groupFields(version).map((f) => f.name).join(', ')}, or month: and a date column.`);
    group = { kind: 'column', field };
  }
  return { value, group, type, aggregate };
}

/** Maximum groups read to find out whether a column's values are all periods, such as daily dates over many years. */
export const MAX_TIME_GROUPS = 10_000;

type GroupRow = { label: string; value: number | string | null };

/**
 * Groups the version's rows in SQL and returns one point per group. Months of a date column, and groups whose values
 * are all periods written as text (dates, months, years, financial years or quarters), come in time order without the
 * blank group. Other groups come largest first. Runs as the visitor's organisation, so the resource must be visible to
 * them.
 */
export async function chartData(db: Database, viewer: string | null, version: ResourceVersion, request: ChartRequest): Promise<ChartData> {
  return withOrganisation(db.app, viewer, async (trx) => {
    const table = await loadDatastoreTable(trx, version.id);
    const target = sql.id('datastore', table.tableName);
    const valueColumn = request.value ? sql.id(request.value.name) : null;
    const measure =
      request.aggregate === 'count' || !valueColumn
        ? sql`count(*)`
        : request.aggregate === 'sum'
          ? sql`coalesce(sum(${valueColumn}), 0)`
          : sql`avg(${valueColumn})`;
    const groupColumn = sql.id(request.group.field.name);
    const toPoint = (row: GroupRow): ChartPoint => ({ label: row.label, value: Number(row.value ?? 0) });

    if (request.group.kind === 'month') {
      const limit = MAX_MONTHS + 1;
      const { rows } = await sql<GroupRow>`
        select to_char(date_trunc('month', ${groupColumn}), 'YYYY-MM') as label, (${measure})::float8 as value
        from ${target} where ${groupColumn} is not null
        group by 1 order by label asc limit ${limit}`.execute(trx);
      return { points: rows.slice(0, MAX_MONTHS).map(toPoint), truncated: rows.length === limit, timeOrder: true };
    }

    const label = sql`coalesce(${groupColumn}::text, '')`;
    const readGroups = async (limit: number, order: 'value' | 'label') =>
      (
        await sql<GroupRow>`
          select ${label} as label, (${measure})::float8 as value from ${target}
          group by 1 order by ${order === 'value' ? sql`value desc nulls last, label asc` : sql`label asc`} limit ${limit}`.execute(trx)
      ).rows;

    // The largest groups are read first. Only when all of them are periods are the rest read to put them in time order.
    const largest = await readGroups(MAX_MONTHS + 1, 'value');
    const byValue = { points: largest.slice(0, MAX_GROUPS).map(toPoint), truncated: largest.length > MAX_GROUPS, timeOrder: false };
    const inTime = (rows: GroupRow[]) => sortByTime(rows.filter((row) => row.label.trim() !== ''), (row) => row.label);
    const firstSorted = inTime(largest);
    if (firstSorted === null) return byValue;
    if (largest.length <= MAX_MONTHS) return { points: firstSorted.map(toPoint), truncated: false, timeOrder: true };

    // NOTE: past MAX_TIME_GROUPS groups, the groups read are the first in text order, which is time order only for ISO
    // forms such as 2026-01-31 and 2026-01, so the earliest periods of other forms may be missed.
    const all = await readGroups(MAX_TIME_GROUPS + 1, 'label');
    const sorted = inTime(all);
    if (sorted === null) return byValue;
    return { points: sorted.slice(0, MAX_MONTHS).map(toPoint), truncated: sorted.length > MAX_MONTHS || all.length > MAX_TIME_GROUPS, timeOrder: true };
  });
}
