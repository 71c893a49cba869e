import { createHash } from 'node:crypto';
import type { AuthContext } from '../accounts/auth-context.ts';
import * as catalogue from '../catalogue/catalogue.repository.ts';
import { qualifiedTableName } from '../catalogue/datastore-table.ts';
import type { Database } from '../db/database.ts';
import { withOrganisation } from '../db/tenant.ts';
import { AppError, notFound, validationError } from '../errors.ts';
import type { TableSchema } from '../ingest/table-schema.ts';
import type { Logger } from '../logger.ts';
import { DISCLOSURE_RULES, protectTable, type DisclosureRule, type PublishedValue } from './disclosure-control.ts';
import { findReleases, groupCounts, recordRelease } from './publication.repository.ts';

export const MAX_GROUP_BY = 2;
/** Most cells (groups, or row × column pairs) one aggregate may have; larger cross-tabulations are refused. */
export const MAX_CELLS = 10000;

export interface AggregateQuery {
  groupBy: string[];
  /** `count`, or `sum:COLUMN` for the sum of a numeric column. */
  measure: string;
  rule: string;
}

export interface AggregateCell extends PublishedValue {
  group: Record<string, string | null>;
}

export interface AggregateResult {
  dataset: string;
  resource_id: string;
  version: number;
  group_by: string[];
  measure: string;
  rule: string;
  cells: AggregateCell[];
  /** Totals per value of the first group-by column, for two columns. */
  row_totals: AggregateCell[] | null;
  /** Totals per value of the second group-by column, for two columns. */
  column_totals: AggregateCell[] | null;
  total: PublishedValue;
}

/** Sorts group values in a stable order with the empty group (null) last. */
function compareKeys(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : 1;
}

function cellKey(names: readonly string[], values: ReadonlyArray<string | null | '*'>): string {
  return JSON.stringify(names.map((name, index) => [name, values[index]]));
}

/**
 * Aggregates over a dataset's current version with statistical disclosure control. It rejects a query that would let
 * a reader difference two releases, which is the same query on another version whose published counts differ by
 * fewer than the rule's threshold in any cell.
 */
export class AggregateService {
  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
  ) {}

  async aggregate(auth: AuthContext | null, slug: string, query: AggregateQuery): Promise<AggregateResult> {
    const rule = DISCLOSURE_RULES[query.rule];
    if (!rule) throw validationError('unknown_rule', `Disclosure rule "${query.rule}" does not exist. Use ${Object.keys(DISCLOSURE_RULES).join(' or ')}.`, [{ field: 'rule', message: 'Unknown rule' }]);
    if (query.groupBy.length > MAX_GROUP_BY) throw validationError('too_many_groups', `Group by at most ${MAX_GROUP_BY} columns, not ${query.groupBy.length}.`, [{ field: 'group_by', message: 'Too many columns' }]);
    if (new Set(query.groupBy).size !== query.groupBy.length) throw validationError('repeated_group', 'Name each group-by column once.', [{ field: 'group_by', message: 'Repeated column' }]);
    const sumColumn = parseMeasure(query.measure);

    return withOrganisation(this.db.app, auth?.organisationId ?? null, async (trx) => {
      const dataset = await catalogue.findDatasetBySlug(trx, slug);
      if (!dataset) throw notFound('dataset_not_found', `Dataset "${slug}" was not found.`);
      const resource = dataset.current_resource_id ? await catalogue.findResourceById(trx, dataset.current_resource_id) : undefined;
      if (!resource) throw notFound('no_version', `Dataset "${slug}" has no loaded version yet.`);
      const schema = resource.table_schema as TableSchema;
      checkColumns(schema, query.groupBy, sumColumn);

      const groups = await groupCounts(trx, qualifiedTableName(resource.table_name), query.groupBy, sumColumn);
      const result = this.protect(query, rule, groups);
      const response: AggregateResult = { dataset: slug, resource_id: resource.id, version: resource.version, group_by: query.groupBy, measure: query.measure, rule: rule.name, ...result.tables };

      const definition = { group_by: query.groupBy, measure: query.measure, rule: rule.name };
      const queryHash = createHash('sha256').update(JSON.stringify(definition)).digest('hex');
      // NOTE: only the same query on another version is compared. Two different groupings of one version (such as two
      // age bandings that differ by one year) are not checked against each other for differencing.
      const releases = await findReleases(trx, dataset.id, queryHash);
      for (const release of releases) {
        if (release.resource_id === resource.id) continue;
        const risk = differencingRisk(release.cell_counts as Record<string, number>, result.publishedCounts, rule);
        if (risk) {
          this.logger.info({ dataset: slug, resource_id: resource.id, earlier_resource_id: release.resource_id }, 'aggregate rejected for differencing risk');
          throw new AppError(
            'conflict',
            'differencing_risk',
            `This aggregate of dataset "${slug}" was released for an earlier version, and the group ${risk} differs from it by fewer than ${rule.suppressUpTo + 1}. Comparing the two releases would reveal a small group, so it is not released. Group by other columns, or ask again once every group has changed by 0 or by ${rule.suppressUpTo + 1} or more since the earlier release.`,
          );
        }
      }
      await recordRelease(trx, { organisationId: dataset.organisation_id, datasetId: dataset.id, resourceId: resource.id, queryHash, query: definition, cellCounts: result.publishedCounts });
      return response;
    });
  }

  private protect(query: AggregateQuery, rule: DisclosureRule, groups: Array<{ keys: Array<string | null>; count: number; sum: number | null }>) {
    const names = query.groupBy;
    const rowValues = [...new Set(groups.map((group) => group.keys[0] ?? null))].sort(compareKeys);
    const columnValues = names.length === 2 ? [...new Set(groups.map((group) => group.keys[1] ?? null))].sort(compareKeys) : [null];
    if (names.length > 0 && rowValues.length * columnValues.length > MAX_CELLS) {
      throw validationError('too_many_cells', `The aggregate would have ${rowValues.length * columnValues.length} cells, more than ${MAX_CELLS}. Group by columns with fewer distinct values.`);
    }
    const rows = names.length === 0 ? [null] : rowValues;
    const counts = rows.map(() => columnValues.map(() => 0));
    const sums = rows.map(() => columnValues.map(() => 0));
    for (const group of groups) {
      const row = names.length === 0 ? 0 : rows.indexOf(group.keys[0] ?? null);
      const column = names.length === 2 ? columnValues.indexOf(group.keys[1] ?? null) : 0;
      counts[row]![column] = group.count;
      sums[row]![column] = group.sum ?? 0;
    }
    const isSum = query.measure !== 'count';
    const table = protectTable({ counts, ...(isSum ? { sums } : {}) }, rule);

    // The true counts of every published figure, keyed by its groups; "*" stands for a total over a column.
    const publishedCounts: Record<string, number> = {};
    const record = (values: Array<string | null | '*'>, value: PublishedValue, count: number) => {
      if (!value.suppressed) publishedCounts[cellKey(names, values)] = count;
    };
    const cells: AggregateCell[] = [];
    rows.forEach((rowValue, row) =>
      columnValues.forEach((columnValue, column) => {
        if (names.length === 0) return;
        const values = names.length === 2 ? [rowValue, columnValue] : [rowValue];
        const cell = table.cells[row]![column]!;
        record(values, cell, counts[row]![column]!);
        cells.push({ group: Object.fromEntries(names.map((name, index) => [name, values[index] ?? null])), ...cell });
      }),
    );
    const rowTotals = table.rowTotals?.map((value, row) => {
      record([rows[row] ?? null, '*'], value, counts[row]!.reduce((total, count) => total + count, 0));
      return { group: { [names[0]!]: rows[row] ?? null }, ...value };
    }) ?? null;
    const columnTotals = table.columnTotals?.map((value, column) => {
      record(['*', columnValues[column] ?? null], value, counts.reduce((total, line) => total + line[column]!, 0));
      return { group: { [names[1]!]: columnValues[column] ?? null }, ...value };
    }) ?? null;
    const grandCount = counts.flat().reduce((total, count) => total + count, 0);
    record(names.map(() => '*'), table.grandTotal, grandCount);
    return { tables: { cells, row_totals: rowTotals, column_totals: columnTotals, total: table.grandTotal }, publishedCounts };
  }
}

function parseMeasure(measure: string): string | null {
  if (measure === 'count') return null;
  const match = /^sum:(.+)$/.exec(measure);
  if (!match) throw validationError('invalid_measure', `Measure "${measure}" is not valid. Use count or sum:COLUMN.`, [{ field: 'measure', message: 'Use count or sum:COLUMN' }]);
  return match[1]!;
}

function checkColumns(schema: TableSchema, groupBy: readonly string[], sumColumn: string | null): void {
  const names = schema.fields.map((field) => field.name);
  const dates = schema.fields.filter((field) => field.type === 'date' || field.type === 'datetime').map((field) => field.name);
  for (const column of groupBy) {
    const month = monthColumn(column);
    if (month !== null) {
      if (!dates.includes(month)) {
        const choices = dates.length === 0 ? 'this dataset has no date column' : `its date columns are: ${dates.join(', ')}`;
        throw validationError('not_a_date', `"${column}" does not name a date column: ${choices}.`, [{ field: 'group_by', message: `${month} is not a date column` }]);
      }
      continue;
    }
    if (!names.includes(column)) throw validationError('unknown_column', `Column "${column}" is not in the dataset. The columns are: ${names.join(', ')}, or month: and a date column.`, [{ field: 'group_by', message: `Unknown column ${column}` }]);
  }
  if (sumColumn !== null) {
    const field = schema.fields.find((candidate) => candidate.name === sumColumn);
    if (!field) throw validationError('unknown_column', `Column "${sumColumn}" is not in the dataset. The columns are: ${names.join(', ')}.`, [{ field: 'measure', message: `Unknown column ${sumColumn}` }]);
    if (field.type !== 'number' && field.type !== 'integer') throw validationError('not_numeric', `Column "${sumColumn}" contains ${field.type} values. Sum a number column.`, [{ field: 'measure', message: 'Not a number column' }]);
  }
}

/** Returns the date column of a `month:COLUMN` group, which groups by calendar month, or null for a plain column. */
function monthColumn(group: string): string | null {
  return group.startsWith('month:') ? group.slice('month:'.length) : null;
}

/** Returns the first cell published in both releases whose counts differ by 1 up to the suppression threshold, or null. */
export function differencingRisk(earlier: Record<string, number>, current: Record<string, number>, rule: DisclosureRule): string | null {
  for (const [key, count] of Object.entries(current)) {
    const before = earlier[key];
    if (before === undefined) continue;
    const difference = Math.abs(count - before);
    if (difference >= 1 && difference <= rule.suppressUpTo) {
      const groups = (JSON.parse(key) as Array<[string, string | null]>).map(([name, value]) => `${name} = ${value === '*' ? 'all' : (value ?? 'empty')}`);
      return groups.length > 0 ? groups.join(', ') : 'total';
    }
  }
  return null;
}
