import { sql } from 'kysely';
import type { ResourceVersion } from '../catalogue/catalogue.types.ts';
import { loadDatastoreTable } from '../ckan-api/datastore-table.ts';
import type { Database } from '../db/database.ts';
import { withOrganisation } from '../db/tenant.ts';
import type { TableSchemaField } from '../ingest/table-schema.ts';

/**
 * Tells what a column is for from its header and values: an identifier or code (a transaction number, a VAT
 * registration), an amount or count worth adding up, or a year. The preview uses it to format figures and the chart
 * page to choose a sensible default measure and grouping.
 */

/** Rows read, in row order, to count a column's values and distinct values; enough to tell codes from categories. */
export const PROFILE_SAMPLE_ROWS = 5000;
/**
 * Minimum number of values before "every value is different" can mark a column as an identifier, because in a short
 * table a few counts or amounts are often all different by chance.
 */
export const MIN_VALUES_FOR_DISTINCT_RULE = 10;

/** Counts over the first PROFILE_SAMPLE_ROWS rows of one column. */
export interface ColumnProfile {
  /** Rows with a value (not null). */
  values: number;
  /** Different values among them. */
  distinct: number;
  /** The smallest and largest value of a numeric column; null for other columns and when there are no values. */
  minimum: number | null;
  maximum: number | null;
}

export type ColumnProfiles = ReadonlyMap<string, ColumnProfile>;

/** Counts the values and distinct values of each of `fields` in the first rows of the version, as the visitor. */
export async function columnProfiles(db: Database, viewer: string | null, version: ResourceVersion, fields: readonly TableSchemaField[]): Promise<ColumnProfiles> {
  if (fields.length === 0) return new Map();
  return withOrganisation(db.app, viewer, async (trx) => {
    const table = await loadDatastoreTable(trx, version.id);
    const columns = fields.map((field) => sql.id(field.name));
    const counts = fields.map((field, index) => {
      const column = sql.id(field.name);
      const minimum = NUMERIC.has(field.type) ? sql`min(${column})::float8` : sql`null::float8`;
      const maximum = NUMERIC.has(field.type) ? sql`max(${column})::float8` : sql`null::float8`;
      return sql`count(${column}) as ${sql.id(`values_${index}`)}, count(distinct ${column}) as ${sql.id(`distinct_${index}`)},
        ${minimum} as ${sql.id(`minimum_${index}`)}, ${maximum} as ${sql.id(`maximum_${index}`)}`;
    });
    const { rows } = await sql<Record<string, number | string | null>>`
      select ${sql.join(counts)}
      from (select ${sql.join(columns)} from ${sql.id('datastore', table.tableName)} order by _id limit ${PROFILE_SAMPLE_ROWS}) as sample`.execute(trx);
    const row = rows[0] ?? {};
    const numberOrNull = (value: number | string | null | undefined) => (value === null || value === undefined ? null : Number(value));
    return new Map(
      fields.map((field, index) => [
        field.name,
        {
          values: Number(row[`values_${index}`] ?? 0),
          distinct: Number(row[`distinct_${index}`] ?? 0),
          minimum: numberOrNull(row[`minimum_${index}`]),
          maximum: numberOrNull(row[`maximum_${index}`]),
        },
      ]),
    );
  });
}

/** Splits a column's title and name into lower-case words: "VAT reg no" and "SupplierID" give vat, reg, no and supplier, id. */
export function headerWords(field: TableSchemaField): string[] {
  const split = (text: string) =>
    text
      .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
      .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
      .toLowerCase()
      .split(/[^a-z0-9]+/)
      .filter((word) => word !== '');
  const titleWords = split(field.title ?? '');
  return titleWords.length > 0 ? titleWords : split(field.name);
}

const NUMERIC = new Set(['integer', 'number']);

/** Words that name an identifier or code wherever they stand in a header. */
const IDENTIFIER_WORDS = new Set(['id', 'ids', 'uid', 'uuid', 'guid', 'code', 'codes', 'ref', 'reference', 'registration', 'reg', 'urn', 'uprn', 'usrn', 'postcode']);
/** Words for "number" that name an identifier ("Transaction number", "VAT reg no") unless they start "number of". */
const NUMBER_WORDS = new Set(['number', 'no', 'num', 'nbr']);
/** Words that name money or a count, which a chart should add up. */
const MEASURE_WORDS = new Set([
  'amount', 'amounts', 'value', 'values', 'total', 'totals', 'count', 'counts', 'sum', 'spend', 'spent', 'cost', 'costs',
  'price', 'paid', 'payment', 'payments', 'expenditure', 'income', 'budget', 'net', 'gross', 'balance', 'fee', 'fees',
  'charge', 'charges', 'quantity', 'qty', 'gbp',
]);

/** Checks whether the header counts something: "Number", "Number of visits", "No. of cases" or "Total number". */
function countsByNumberWord(words: string[]): boolean {
  return words.some((word, index) => NUMBER_WORDS.has(word) && (words.length === 1 || words[index + 1] === 'of' || words[index - 1] === 'total'));
}

/** Checks whether the header names an identifier or code, such as "Supplier ID", "Expense code" or "Transaction number". */
export function hasIdentifierName(field: TableSchemaField): boolean {
  const words = headerWords(field);
  if (words.some((word) => IDENTIFIER_WORDS.has(word))) return true;
  return words.some((word) => NUMBER_WORDS.has(word)) && !countsByNumberWord(words);
}

/** Checks whether the header names money or a count, such as "Amount", "Total spend (£)" or "Number of referrals". */
export function hasMeasureName(field: TableSchemaField): boolean {
  const words = headerWords(field);
  return (field.title ?? '').includes('£') || words.some((word) => MEASURE_WORDS.has(word)) || countsByNumberWord(words);
}

/** Words that name a map coordinate: GeoX, GeoY, Easting, Northing, Latitude, Longitude. */
const COORDINATE_WORDS = new Set(['geo', 'x', 'y', 'easting', 'northing', 'latitude', 'longitude', 'lat', 'lon', 'lng', 'coordinate', 'coordinates']);

/** Checks whether the header names a map coordinate, whose figures locate a place and are not amounts. */
export function hasCoordinateName(field: TableSchemaField): boolean {
  return headerWords(field).some((word) => COORDINATE_WORDS.has(word));
}

/** Checks whether the header names a calendar year, such as "Year" or "Financial year", so its figures are not amounts. */
export function hasYearName(field: TableSchemaField): boolean {
  return headerWords(field).some((word) => word === 'year' || word === 'yr');
}

/** Checks whether every sampled value is different, among at least MIN_VALUES_FOR_DISTINCT_RULE values. */
export function allValuesDistinct(profile: ColumnProfile | undefined): boolean {
  return profile !== undefined && profile.values >= MIN_VALUES_FOR_DISTINCT_RULE && profile.distinct === profile.values;
}

/** Number of digits in the whole part of a non-negative number: 22002769 has 8. */
function digitCount(value: number): number {
  return String(Math.trunc(Math.abs(value))).length;
}

/**
 * Checks whether an integer column contains identifiers or codes. Its header says so, or it has no money or count words and its
 * sampled values are all different, non-negative and written with the same number of digits, at least 4 (22002769,
 * 941534529). The digit rule keeps counts that happen to differ, such as 1 to 130 visits a day, as counts. Other types
 * are never identifiers here.
 */
export function isIdentifierColumn(field: TableSchemaField, profile: ColumnProfile | undefined): boolean {
  if (field.type !== 'integer') return false;
  if (hasIdentifierName(field)) return true;
  if (hasMeasureName(field) || !allValuesDistinct(profile)) return false;
  const { minimum, maximum } = profile!;
  if (minimum === null || maximum === null || minimum < 0) return false;
  // NOTE: figures of one size that never repeat, such as ward populations from 10,000 to 99,999, look the same as
  // codes here, so they lose their separators and are not chosen as a default measure.
  return digitCount(minimum) >= 4 && digitCount(minimum) === digitCount(maximum);
}

/**
 * Decides whether the preview shows a numeric column's figures with thousands separators: amounts and counts do, while
 * identifiers, codes and years (22002769, not 22,002,769) do not.
 */
export function usesThousandsSeparators(field: TableSchemaField, profile: ColumnProfile | undefined): boolean {
  if (field.type === 'number') return !hasIdentifierName(field) || hasMeasureName(field);
  if (field.type !== 'integer') return false;
  return !isIdentifierColumn(field, profile) && !hasYearName(field);
}
