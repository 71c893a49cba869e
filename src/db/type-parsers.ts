/**
 * Result parsers shared by both engines, so a query returns the same JavaScript values on PGlite and PostgreSQL.
 * Keys are PostgreSQL type OIDs.
 */
import { parseDatabaseNumber } from './exact-number.ts';

export const INT8_OID = 20;
export const NUMERIC_OID = 1700;
export const DATE_OID = 1082;
export const TIMESTAMPTZ_OID = 1184;

export const sharedParsers: Record<number, (value: string) => unknown> = {
  // Counts, row numbers and most amounts are exact as JavaScript numbers; a value that is not keeps its text.
  [INT8_OID]: parseDatabaseNumber,
  [NUMERIC_OID]: parseDatabaseNumber,
  // A calendar date has no time zone; keep the ISO text rather than a Date at UTC midnight.
  [DATE_OID]: (value) => value,
};
