import { validationError } from '../errors.ts';
import { compileDateFormat, compileDatetimeFormat } from '../ingest/dates.ts';
import type { FieldConstraints, FieldType, TableSchema, TableSchemaField } from '../ingest/table-schema.ts';

const FIELD_TYPES: readonly FieldType[] = ['string', 'integer', 'number', 'boolean', 'date', 'datetime'];
const COLUMN_NAME = /^[a-z_][a-z0-9_]*$/;

function invalid(sourceName: string, problem: string): never {
  throw validationError('invalid_table_schema', `${sourceName} is not a valid Table Schema: ${problem}.`, [{ field: 'schema', message: problem }]);
}

function checkField(sourceName: string, value: unknown, position: number): TableSchemaField {
  const where = `fields[${position}]`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid(sourceName, `${where} must be an object with "name" and "type"`);
  const field = value as Record<string, unknown>;
  if (typeof field.name !== 'string' || !COLUMN_NAME.test(field.name) || field.name.length > 63 || field.name === '_id') {
    invalid(sourceName, `${where}.name ${JSON.stringify(field.name)} must be a column id of lowercase letters, digits and underscores, at most 63 characters, not starting with a digit and not "_id"`);
  }
  if (typeof field.type !== 'string' || !(FIELD_TYPES as readonly string[]).includes(field.type)) {
    invalid(sourceName, `${where}.type ${JSON.stringify(field.type)} of field "${field.name}" is not supported. Use one of: ${FIELD_TYPES.join(', ')}`);
  }
  if (field.title !== undefined && typeof field.title !== 'string') invalid(sourceName, `${where}.title of field "${field.name}" must be text`);
  if (field.format !== undefined && typeof field.format !== 'string') invalid(sourceName, `${where}.format of field "${field.name}" must be text`);
  if (typeof field.format === 'string') checkDateFormat(sourceName, where, field.name, field.type, field.format);
  if (field.description !== undefined && typeof field.description !== 'string') invalid(sourceName, `${where}.description of field "${field.name}" must be text`);
  if (field.constraints !== undefined && (typeof field.constraints !== 'object' || field.constraints === null || Array.isArray(field.constraints))) {
    invalid(sourceName, `${where}.constraints of field "${field.name}" must be an object`);
  }
  if (field.bareNumber !== undefined && (typeof field.bareNumber !== 'boolean' || (field.type !== 'number' && field.type !== 'integer'))) {
    invalid(sourceName, `${where}.bareNumber of field "${field.name}" must be true or false, on a number or integer field`);
  }
  const checked: TableSchemaField = { name: field.name, title: (field.title as string | undefined) ?? field.name, type: field.type as FieldType };
  if (field.format !== undefined) checked.format = field.format as string;
  if (field.description !== undefined) checked.description = field.description as string;
  if (field.constraints !== undefined) checked.constraints = checkConstraints(sourceName, `${where}.constraints`, field.name, field.constraints as Record<string, unknown>);
  if (field.bareNumber === false) checked.bareNumber = false;
  readValueOptions(sourceName, field, where, checked);
  return checked;
}

/** Checks the value of each constraint, so a mistake in the schema is reported before loading instead of failing the load. */
function checkConstraints(sourceName: string, where: string, name: string, constraints: Record<string, unknown>): FieldConstraints {
  const rejectConstraint = (key: string, expected: string): never => invalid(sourceName, `${where}.${key} of field "${name}" must be ${expected}`);
  for (const key of ['required', 'unique'] as const) {
    if (constraints[key] !== undefined && typeof constraints[key] !== 'boolean') rejectConstraint(key, 'true or false');
  }
  for (const key of ['minimum', 'maximum'] as const) {
    if (constraints[key] !== undefined && typeof constraints[key] !== 'number' && typeof constraints[key] !== 'string') rejectConstraint(key, 'a number or text');
  }
  for (const key of ['minLength', 'maxLength'] as const) {
    const value = constraints[key];
    if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value < 0)) rejectConstraint(key, 'a whole number of 0 or more');
  }
  const { pattern, enum: allowed } = constraints;
  if (pattern !== undefined) {
    if (typeof pattern !== 'string') rejectConstraint('pattern', 'a regular expression as text');
    try {
      // The same expression as the loader compiles, which anchors the pattern to the whole value.
      new RegExp(`^(?:${pattern as string})$`, 'u');
    } catch (error) {
      rejectConstraint('pattern', `a valid regular expression (${(error as Error).message})`);
    }
  }
  if (allowed !== undefined && (!Array.isArray(allowed) || allowed.length === 0 || allowed.some((value) => typeof value !== 'string' && typeof value !== 'number'))) {
    rejectConstraint('enum', 'a list of at least one text or number value');
  }
  return constraints as FieldConstraints;
}

/** Rejects a date or datetime format that ingest cannot read, before any file is read. */
function checkDateFormat(sourceName: string, where: string, name: string, type: string, format: string): void {
  if (format === 'default' || format === 'any') return;
  if (type === 'date') {
    const hasEveryPart = /%[Yy]/.test(format) && /%[mbB]/.test(format) && format.includes('%d');
    if (compileDateFormat(format) !== null && hasEveryPart) return;
    invalid(
      sourceName,
      `${where}.format ${JSON.stringify(format)} of field "${name}" is not a date format that can be read. Use default (YYYY-MM-DD), any, ` +
        'or a pattern with %d for the day, %m, %b or %B for the month and %Y or %y for the year, such as %d/%m/%Y',
    );
  }
  if (type === 'datetime' && compileDatetimeFormat(format) === null) {
    invalid(sourceName, `${where}.format ${JSON.stringify(format)} of field "${name}" is not a datetime format that can be read. Use default (ISO 8601), any, %d/%m/%Y %H:%M:%S or %d/%m/%Y %H:%M`);
  }
}

function isTextList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/**
 * Checks a field's missingValues, trueValues, falseValues and decimalChar and copies them onto `checked`. The load report's own
 * schema writes these, so a schema saved from one load must read the same values in the next.
 */
function readValueOptions(sourceName: string, field: Record<string, unknown>, where: string, checked: TableSchemaField): void {
  const name = String(field.name);
  if (field.missingValues !== undefined) {
    if (!isTextList(field.missingValues)) invalid(sourceName, `${where}.missingValues of field "${name}" must be a list of text values`);
    checked.missingValues = field.missingValues;
  }
  for (const key of ['trueValues', 'falseValues'] as const) {
    if (field[key] === undefined) continue;
    if (!isTextList(field[key]) || field.type !== 'boolean') invalid(sourceName, `${where}.${key} of field "${name}" must be a list of text values, on a boolean field`);
    checked[key] = field[key];
  }
  if (field.decimalChar !== undefined) {
    if ((field.decimalChar !== '.' && field.decimalChar !== ',') || (field.type !== 'number' && field.type !== 'integer')) {
      invalid(sourceName, `${where}.decimalChar of field "${name}" must be "." or ",", on a number or integer field`);
    }
    checked.decimalChar = field.decimalChar;
  }
}

/**
 * Parses a user-supplied Frictionless Table Schema (JSON text) and checks its shape. Errors name `sourceName` (the file
 * or form field) and what is wrong, such as the line of a JSON syntax error or the field with an unknown type.
 */
export function parseTableSchema(text: string, sourceName: string): TableSchema {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // V8's message may quote part of the text, line breaks included; the user gets one line.
    const message = (error as Error).message.replace(/\s+/g, ' ');
    const position = /position (\d+)/.exec(message);
    const line = position ? text.slice(0, Number(position[1])).split('\n').length : undefined;
    invalid(sourceName, `the JSON is invalid${line !== undefined ? ` at line ${line}` : ''} (${message}). Fix the JSON syntax`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) invalid(sourceName, 'the top level must be an object with a "fields" list');
  const schema = parsed as Record<string, unknown>;
  if (!Array.isArray(schema.fields) || schema.fields.length === 0) invalid(sourceName, '"fields" must be a list of at least one field');

  const fields = schema.fields.map((field, position) => checkField(sourceName, field, position));
  const seen = new Set<string>();
  for (const field of fields) {
    if (seen.has(field.name)) invalid(sourceName, `field name "${field.name}" appears more than once`);
    seen.add(field.name);
  }
  const result: TableSchema = { fields };
  if (schema.missingValues !== undefined) {
    if (!Array.isArray(schema.missingValues) || schema.missingValues.some((value) => typeof value !== 'string')) invalid(sourceName, '"missingValues" must be a list of text values');
    result.missingValues = schema.missingValues as string[];
  }
  if (schema.primaryKey !== undefined) {
    const keys = typeof schema.primaryKey === 'string' ? [schema.primaryKey] : schema.primaryKey;
    if (!Array.isArray(keys) || keys.some((key) => typeof key !== 'string' || !seen.has(key))) invalid(sourceName, '"primaryKey" must name fields of the schema');
    result.primaryKey = schema.primaryKey as string | string[];
    applyPrimaryKey(fields, keys as string[]);
  }
  return result;
}

/**
 * Makes every field of the primary key required, and the field of a one-field key unique, because Table Schema
 * requires a primary key to be present and unique in every row. The analysis checks a key of several fields as a
 * combination.
 */
function applyPrimaryKey(fields: TableSchemaField[], keys: string[]): void {
  for (const field of fields) {
    if (!keys.includes(field.name)) continue;
    field.constraints = { ...field.constraints, required: true };
    if (keys.length === 1) field.constraints.unique = true;
  }
}
