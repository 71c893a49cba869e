import { sql } from 'kysely';
import type { ResourceVersion } from '../catalogue/catalogue.types.ts';
import { loadDatastoreTable } from '../ckan-api/datastore-table.ts';
import type { Database } from '../db/database.ts';
import { withOrganisation } from '../db/tenant.ts';
import type { TableSchemaField } from '../ingest/table-schema.ts';
import { badParameter, choice, singleValue, type QueryValues } from './query-params.ts';
import { sortByTime } from './time-labels.ts';
import { allValuesDistinct, hasCoordinateName, hasIdentifierName, hasMeasureName, hasYearName, isIdentifierColumn, type ColumnProfiles } from './column-profile.ts';

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
 * Returns the column a chart adds up when the request names none: one whose header names money or a count, then a
 * decimal column, then another whole-number column, earliest first. Identifiers, codes, years, map coordinates and
 * columns with one value throughout are never chosen, so the result is null when only those are numeric.
 */
export function defaultMeasure(version: ResourceVersion, profiles: ColumnProfiles): TableSchemaField | null {
  const candidates = numericFields(version).filter((field) => {
    const profile = profiles.get(field.name);
    const constant = profile !== undefined && profile.values >= 2 && profile.distinct === 1;
    return !hasIdentifierName(field) && !isIdentifierColumn(field, profile) && !hasYearName(field) && !hasCoordinateName(field) && !constant;
  });
  const score = (field: TableSchemaField) => (hasMeasureName(field) ? 2 : 0) + (field.type === 'number' ? 1 : 0);
  let best: TableSchemaField | null = null;
  for (const field of candidates) if (best === null || score(field) > score(best)) best = field;
  return best;
}

/**
 * Returns the grouping a chart uses when the request names none. That is the first text or yes-or-no column that is
 * not an identifier or code, whose values repeat, and that has from 2 to MAX_GROUPS distinct values. Failing that, it
 * is the one with the fewest distinct values above 1, then the months of the first date column, then the first text
 * column.
 */
export function defaultGroup(version: ResourceVersion, profiles: ColumnProfiles): ChartRequest['group'] | null {
  const categories = groupFields(version).filter((field) => field.type !== 'integer' && !hasIdentifierName(field) && !allValuesDistinct(profiles.get(field.name)));
  const distinct = (field: TableSchemaField) => profiles.get(field.name)?.distinct ?? 0;
  const modest = categories.find((field) => distinct(field) >= 2 && distinct(field) <= MAX_GROUPS);
  if (modest) return { kind: 'column', field: modest };
  const varied = categories.filter((field) => distinct(field) >= 2).sort((a, b) => distinct(a) - distinct(b))[0];
  if (varied) return { kind: 'column', field: varied };
  const date = dateFields(version)[0];
  if (date) return { kind: 'month', field: date };
  const fallback = groupFields(version).find((field) => field.type === 'string') ?? groupFields(version)[0];
  return fallback ? { kind: 'column', field: fallback } : null;
}

/** Lists the numeric columns by name for error messages, with a hint to count rows when there are none. */
function numericChoices(version: ResourceVersion): string {
  return numericFields(version).map((f) => f.name).join(', ') || 'this dataset has none, so use agg=count';
}

/**
 * Reads the chart parameters against the version's columns. Absent parameters get defaults from defaultMeasure and
 * defaultGroup, drawn as bars, and rows are counted when no column suits adding up. A wrong parameter raises a 400
 * naming it and the choices.
 */
export function readChartRequest(version: ResourceVersion, query: QueryValues, profiles: ColumnProfiles): ChartRequest {
  const fields = version.tableSchema.fields;
  const byName = new Map(fields.map((field) => [field.name, field]));
  const measure = defaultMeasure(version, profiles);
  const aggregate = choice(query, 'agg', ['sum', 'count', 'mean'] as const, measure ? 'sum' : 'count');
  const type = choice(query, 'type', ['bar', 'line'] as const, 'bar');

  let value: TableSchemaField | null = null;
  const valueName = singleValue(query, 'value');
  if (valueName !== undefined && valueName !== '') {
    const field = byName.get(valueName);
    if (!field) throw badParameter('value', `"${valueName}" is not a column of this dataset. Use a numeric column: ${numericChoices(version)}.`);
    if (!NUMERIC.has(field.type)) throw badParameter('value', `Column "${valueName}" contains ${field.type} values, not numbers. Use a numeric column: ${numericChoices(version)}.`);
    value = field;
  } else if (aggregate !== 'count') {
    const verb = aggregate === 'sum' ? 'add up' : 'average';
    if (numericFields(version).length === 0) throw badParameter('agg', `This dataset has no numeric column to ${verb}. Use agg=count.`);
    value = measure;
    if (!value) throw badParameter('value', `The numeric columns of this dataset look like identifiers or codes, so name the column to ${verb}: ${numericChoices(version)}. Or use agg=count.`);
  }

  const groupName = singleValue(query, 'group');
  let group: ChartRequest['group'];
  if (groupName === undefined || groupName === '') {
    const fallback = defaultGroup(version, profiles);
    if (!fallback) throw badParameter('group', 'This dataset has no column to group by.');
    group = fallback;
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
