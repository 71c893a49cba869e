/**
 * Result parsers shared by both engines, so a query returns the same JavaScript values on PGlite and PostgreSQL.
 * Keys are PostgreSQL type OIDs.
 */
export const INT8_OID = 20;
export const NUMERIC_OID = 1700;
export const DATE_OID = 1082;

export const sharedParsers: Record<number, (value: string) => unknown> = {
  // Counts and row numbers stay far below 2^53, so a JavaScript number is exact for them.
  [INT8_OID]: (value) => Number(value),
  [NUMERIC_OID]: (value) => Number(value),
  // A calendar date has no time zone; keep the ISO text rather than a Date at UTC midnight.
  [DATE_OID]: (value) => value,
};
