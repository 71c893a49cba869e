/**
 * Matching a user-supplied Table Schema to the columns of a file, and checking values against its constraints.
 */
import { isValidColumnName } from './column-names.ts';
import { IngestError } from './ingest.types.ts';
import { FIELD_TYPES, type TableSchema, type TableSchemaField } from './table-schema.ts';

/**
 * Returns, for each file column, the user's field that names it (by `name` = column id or `title` = original header),
 * or undefined for columns the schema leaves to inference. Rejects schemas naming columns the file does not have.
 */
export function matchSchemaFields(
  schema: TableSchema,
  headers: string[],
  columnIds: string[],
  filename: string,
): Array<TableSchemaField | undefined> {
  const matched: Array<TableSchemaField | undefined> = headers.map(() => undefined);
  const unknown: string[] = [];
  for (const field of schema.fields) {
    if (!FIELD_TYPES.includes(field.type)) {
      throw new IngestError(
        'schema_invalid',
        `The Table Schema for ${filename} gives field ${field.name} the type ${String(field.type)}, which cannot be loaded. Use one of ${FIELD_TYPES.join(', ')}.`,
        { file: filename, column: field.name },
      );
    }
    if (!isValidColumnName(field.name)) {
      throw new IngestError(
        'schema_invalid',
        `The Table Schema for ${filename} has the field name "${field.name}", which is not a valid column id. Use lower case letters, digits and underscores, starting with a letter, at most 63 characters, and not _id.`,
        { file: filename, column: field.name },
      );
    }
    let index = columnIds.indexOf(field.name);
    if (index === -1) index = headers.findIndex((header) => header === field.title || header.trim() === field.title?.trim());
    if (index === -1 || matched[index] !== undefined) unknown.push(field.name);
    else matched[index] = field;
  }
  if (unknown.length > 0) {
    throw new IngestError(
      'schema_mismatch',
      `The Table Schema for ${filename} names ${unknown.length === 1 ? 'a field' : 'fields'} the file has no column for: ${unknown.join(', ')}. Match each field's name to a column id or its title to a header, as in: ${columnIds.join(', ')}.`,
      { file: filename },
    );
  }
  return matched;
}

/** Checks a converted value against a field's constraints; returns what is wrong, or null. */
export type ConstraintCheck = (converted: string, raw: string) => string | null;

function compare(field: TableSchemaField, a: string, b: string | number): number {
  if (field.type === 'integer' || field.type === 'number') return Number(a) - Number(b);
  const left = a;
  const right = String(b);
  return left < right ? -1 : left > right ? 1 : 0;
}

/** Compiles the constraints of a field other than `required`, which the caller checks on blank cells. */
export function compileConstraints(field: TableSchemaField): ConstraintCheck | null {
  const constraints = field.constraints;
  if (!constraints) return null;
  const checks: ConstraintCheck[] = [];
  const { minimum, maximum, minLength, maxLength, pattern, unique } = constraints;
  if (minimum !== undefined) checks.push((value) => (compare(field, value, minimum) < 0 ? `is below the minimum ${minimum}` : null));
  if (maximum !== undefined) checks.push((value) => (compare(field, value, maximum) > 0 ? `is above the maximum ${maximum}` : null));
  if (minLength !== undefined) checks.push((value) => (value.length < minLength ? `is shorter than ${minLength} characters` : null));
  if (maxLength !== undefined) checks.push((value) => (value.length > maxLength ? `is longer than ${maxLength} characters` : null));
  if (pattern !== undefined) {
    const regex = new RegExp(`^(?:${pattern})$`, 'u');
    checks.push((value) => (regex.test(value) ? null : `does not match the pattern ${pattern}`));
  }
  if (constraints.enum !== undefined) {
    const allowed = new Set(constraints.enum.map(String));
    checks.push((value, raw) => (allowed.has(value) || allowed.has(raw) ? null : `is not one of the allowed values`));
  }
  if (unique) {
    // NOTE: uniqueness keeps every value of the column in memory, so it is the one check whose memory grows with the file.
    const seen = new Set<string>();
    checks.push((value) => {
      if (seen.has(value)) return 'repeats a value that must be unique';
      seen.add(value);
      return null;
    });
  }
  if (checks.length === 0) return null;
  return (value, raw) => {
    for (const check of checks) {
      const problem = check(value, raw);
      if (problem !== null) return problem;
    }
    return null;
  };
}
