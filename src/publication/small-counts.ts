/**
 * Detection of small counts in tables that are already aggregated, such as children in care by ward and age band.
 * A count from 1 to 9 of people in a small group can identify them. The publication gate therefore keeps such a table
 * private until the counts are suppressed or rounded, or a data steward records why they are not about people. The
 * threshold of 10 is the aggregate API's default rule, in line with ONS and GSS practice for small counts.
 */
import type { TableSchemaField } from '../ingest/table-schema.ts';
import { headerWords } from '../privacy/names.ts';
import { EXAMPLE_ROWS } from '../privacy/scanner.ts';
import { DISCLOSURE_RULES } from './disclosure-control.ts';

/** The small-count threshold: counts from 1 to one less than this are small, as the default disclosure rule has it. */
export const SMALL_COUNT_THRESHOLD = DISCLOSURE_RULES.default!.suppressUpTo + 1;

/** Small counts in one column: how many cells, example 1-based data row numbers (the first 10), never values. */
export interface SmallCountFinding {
  column: string;
  kind: 'small_count';
  count: number;
  rows: number[];
  /** Counts from 1 to `threshold - 1` were found. */
  threshold: number;
}

// Words in a header that name a count of people or events about people.
const COUNT_WORDS = new Set([
  'count', 'counts', 'people', 'persons', 'individuals', 'children', 'adults', 'pupils', 'students', 'learners',
  'patients', 'clients', 'residents', 'households', 'families', 'referrals', 'cases', 'admissions', 'detentions',
  'placements', 'claimants', 'recipients', 'applicants', 'users', 'carers', 'victims', 'offenders', 'deaths', 'births',
  'attendances', 'frequency', 'boys', 'girls', 'men', 'women', 'males', 'females', 'male', 'female',
]);

// Headers that name a measure without saying what it counts; such a column is a count when its values are.
const GENERIC_MEASURE_HEADERS = new Set(['number', 'n', 'total', 'value', 'obs value', 'observation', 'observations', 'figure', 'freq']);

// Words that mark money, measurements, dates, codes and identifiers, which are never counts of people.
const NOT_COUNT_WORDS = new Set([
  'amount', 'cost', 'costs', 'spend', 'spending', 'price', 'gbp', 'pay', 'salary', 'income', 'budget', 'rate', 'percent',
  'percentage', 'pct', 'proportion', 'share', 'ratio', 'per', 'average', 'mean', 'median', 'score', 'rank', 'age',
  'year', 'years', 'month', 'date', 'code', 'id', 'ref', 'reference', 'uprn', 'usrn', 'postcode', 'easting',
  'northing', 'geo', 'x', 'y', 'lat', 'latitude', 'lon', 'long', 'longitude', 'size', 'area', 'hectares', 'distance',
  'duration', 'days', 'hours', 'minutes', 'weeks', 'miles', 'km', 'kg', 'tonnes', 'vat',
]);

// Words in a header that name a dimension of a statistical table: an area, a group of people or a period.
const DIMENSION_WORDS = new Set([
  'ward', 'area', 'locality', 'neighbourhood', 'district', 'borough', 'parish', 'town', 'lsoa', 'msoa', 'constituency',
  'region', 'county', 'authority', 'la', 'ccg', 'icb', 'age', 'band', 'sex', 'gender', 'ethnicity', 'ethnic', 'religion',
  'disability', 'nationality', 'month', 'quarter', 'week', 'year', 'period', 'date', 'category', 'type', 'reason',
  'group', 'status', 'need', 'placement', 'setting', 'service', 'team', 'outcome', 'source', 'stage',
]);

/**
 * An age band used as a column header ("Aged 0 to 4", "5-10", "Under 18", "65 and over"), as in a table of counts laid
 * out with one column per band. The column then contains counts of people in that band.
 */
const AGE_BAND_HEADER = /^(aged?\s+)?(\d{1,3}\s*(to|-|–)\s*\d{1,3}|under\s+\d{1,3}|\d{1,3}\s*(\+|and over|or over|and older|plus))(\s+years?(\s+old)?)?$/i;

/** Tests whether a header names a count: "Children in care", "Number of referrals", "Count", but not "Transaction number". */
export function isCountHeader(header: string): boolean {
  const words = headerWords(header);
  if (words.length === 0 || header.includes('£') || header.includes('%')) return false;
  if (AGE_BAND_HEADER.test(header.trim().replace(/_/g, ' '))) return true;
  if (words.some((word) => NOT_COUNT_WORDS.has(word))) return false;
  if (GENERIC_MEASURE_HEADERS.has(words.join(' '))) return true;
  const text = ` ${words.join(' ')} `;
  if (/ (number|no|num) of /.test(text)) return true;
  return words.some((word) => COUNT_WORDS.has(word));
}

/** Tests whether a header names a dimension such as a ward, an age band or a month. */
export function isDimensionHeader(header: string): boolean {
  return headerWords(header).some((word) => DIMENSION_WORDS.has(word));
}

// Dimensions that are often written as whole numbers, such as a year of 2024 or an age of 15.
const NUMBERED_DIMENSION_WORDS = new Set(['age', 'year', 'month', 'quarter', 'week', 'period']);

/**
 * Tests whether a column can be a dimension: text or dates under a dimension header, or whole numbers under a header
 * such as "Year" or "Age". A whole-number column under another dimension word ("Total changes in legal status") is a
 * measure, not a dimension.
 */
export function isDimensionField(field: TableSchemaField): boolean {
  if (!isDimensionHeader(field.title)) return false;
  if (field.type === 'integer') return headerWords(field.title).some((word) => NUMBERED_DIMENSION_WORDS.has(word));
  return field.type === 'string' || field.type === 'date';
}

/** Tests whether a whole-number column is a count column by its header. The scanner also checks that no value is negative. */
export function isCountField(field: TableSchemaField): boolean {
  return field.type === 'integer' && isCountHeader(field.title);
}

/** Tests whether a cell contains a count from 1 to `threshold - 1`. Zero and empty cells are not small counts. */
export function isSmallCount(text: string | null, threshold: number): boolean {
  if (text === null || !/^\d+$/.test(text)) return false;
  const value = Number(text);
  return value >= 1 && value < threshold;
}

interface CountColumn {
  index: number;
  title: string;
  negative: boolean;
  small: number;
  rows: number[];
}

/**
 * Finds small counts row by row. A table is aggregate-shaped when it has a count column and a dimension column. A
 * count column is a whole-number column whose header names a count. A dimension column's header names an area, a
 * group of people or a period, and it has at least two different values. Each count column without negative values then reports its counts from 1 to
 * `threshold - 1`.
 *
 * NOTE: a table keyed only by organisations or other named entities (a provider, a school) is not taken as
 * aggregate-shaped, so its counts are not checked. The bundled Mental Health Act statistics by provider pass for that
 * reason (their one period column holds a single value) although some of their counts of patients are from 1 to 9.
 */
export class SmallCountScanner {
  private readonly counts: CountColumn[];
  private readonly dimensions: Array<{ index: number; first: string | null; varies: boolean }>;

  constructor(
    fields: readonly TableSchemaField[],
    readonly threshold: number = SMALL_COUNT_THRESHOLD,
  ) {
    this.counts = fields.flatMap((field, index) => (isCountField(field) ? [{ index, title: field.title, negative: false, small: 0, rows: [] }] : []));
    this.dimensions = fields.flatMap((field, index) => (isDimensionField(field) && !isCountField(field) ? [{ index, first: null, varies: false }] : []));
  }

  scanRow(rowNumber: number, values: ReadonlyArray<string | null>): void {
    if (this.counts.length === 0 || this.dimensions.length === 0) return;
    for (const dimension of this.dimensions) {
      const value = values[dimension.index] ?? null;
      if (dimension.varies || value === null) continue;
      if (dimension.first === null) dimension.first = value;
      else if (value !== dimension.first) dimension.varies = true;
    }
    for (const column of this.counts) {
      const value = values[column.index] ?? null;
      if (value === null) continue;
      if (value.startsWith('-')) column.negative = true;
      if (!isSmallCount(value, this.threshold)) continue;
      column.small += 1;
      if (column.rows.length < EXAMPLE_ROWS) column.rows.push(rowNumber);
    }
  }

  findings(): SmallCountFinding[] {
    if (!this.dimensions.some((dimension) => dimension.varies)) return [];
    return this.counts
      .filter((column) => !column.negative && column.small > 0)
      .map((column) => ({ column: column.title, kind: 'small_count' as const, count: column.small, rows: [...column.rows], threshold: this.threshold }));
  }
}

/** "Children in care (3 cells with counts from 1 to 9; threshold 10)". */
export function describeSmallCountFinding(finding: SmallCountFinding): string {
  return `${finding.column} (${finding.count} ${finding.count === 1 ? 'cell' : 'cells'} with counts from 1 to ${finding.threshold - 1}; threshold ${finding.threshold})`;
}
