/** The primary key of a user-supplied Table Schema, when it has several fields. */
import type { TableSchema, TableSchemaField } from './table-schema.ts';

/** A row that repeats an earlier row's key, reported like any value that breaks the schema. */
export interface KeyViolation {
  line: number;
  column: string;
  problem: string;
}

/** Shortens a value quoted in an error message. */
function clip(value: string): string {
  return value.length > 40 ? `${value.slice(0, 37)}...` : value;
}

/**
 * Checks that no two rows repeat a primary key of several fields, as a combination. A key of one field is checked
 * as a unique field instead. Like that check, this one keeps every key in memory.
 */
export function compositeKeyCheck(schema: TableSchema | undefined, userFields: Array<TableSchemaField | undefined>, headers: string[]) {
  const keys = schema?.primaryKey;
  if (!Array.isArray(keys) || keys.length < 2) return null;
  const positions = keys.map((key) => userFields.findIndex((field) => field?.name === key)).filter((position) => position >= 0);
  if (positions.length < 2) return null;
  const names = keys.join(', ');
  const seen = new Map<string, number>();
  const values: Array<string | null | undefined> = [];
  return {
    /** Converted values of the current row, by column; a key field's value is set for every row it is present in. */
    values,
    /** Returns a violation when the current row repeats an earlier row's key, and clears the row's values. */
    check(line: number): KeyViolation | null {
      // A missing key field is reported as required, so a row without one has no key to compare.
      const parts = positions.map((position) => values[position]);
      for (const position of positions) values[position] = undefined;
      if (parts.some((part) => part === undefined || part === null)) return null;
      const key = JSON.stringify(parts);
      const first = seen.get(key);
      if (first === undefined) {
        seen.set(key, line);
        return null;
      }
      return { line, column: headers[positions[0]!]!, problem: `repeats the primary key (${names}) of line ${first}: ${parts.map((part) => `"${clip(part!)}"`).join(', ')}` };
    },
  };
}
