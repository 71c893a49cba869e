import { sql, type RawBuilder } from 'kysely';
import type { FieldError } from '../errors.ts';
import type { FieldType, TableSchema, TableSchemaField } from '../ingest/table-schema.ts';

/**
 * The row filter of an agreement: a JSON condition tree, never SQL text. It compiles to parameterised SQL against the
 * typed columns of a dataset version, after every field and value has been checked against its Table Schema.
 */
export const COMPARISON_OPERATORS = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'in', 'between', 'is_null', 'not_null'] as const;
export type ComparisonOperator = (typeof COMPARISON_OPERATORS)[number];

export type FilterValue = string | number | boolean;

export type RowFilter =
  | { and: RowFilter[] }
  | { or: RowFilter[] }
  | { not: RowFilter }
  | { field: string; op: ComparisonOperator; value?: FilterValue | FilterValue[] };

const MAX_DEPTH = 8;
const MAX_CONDITIONS = 100;
const MAX_IN_VALUES = 500;

const SQL_OPERATOR: Record<'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge', string> = { eq: '=', ne: '<>', lt: '<', le: '<=', gt: '>', ge: '>=' };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks the shape of a filter tree; field names and value types are checked later against a schema. */
export function parseRowFilter(input: unknown, path: string): { filter: RowFilter | null; errors: FieldError[] } {
  const errors: FieldError[] = [];
  let conditions = 0;

  const visit = (node: unknown, at: string, depth: number): RowFilter | null => {
    if (depth > MAX_DEPTH) {
      errors.push({ field: at, message: `The row filter is nested more than ${MAX_DEPTH} levels deep. Simplify it` });
      return null;
    }
    if (!isRecord(node)) {
      errors.push({ field: at, message: 'Each row filter condition must be an object such as {"field": "age", "op": "ge", "value": 18}' });
      return null;
    }
    const keys = Object.keys(node);
    if ('and' in node || 'or' in node) {
      const key = 'and' in node ? 'and' : 'or';
      const children = node[key];
      if (keys.length !== 1 || !Array.isArray(children) || children.length === 0) {
        errors.push({ field: at, message: `"${key}" must be the only key and hold a non-empty list of conditions` });
        return null;
      }
      const parsed = children.map((child, index) => visit(child, `${at}.${key}[${index}]`, depth + 1));
      if (parsed.some((child) => child === null)) return null;
      return key === 'and' ? { and: parsed as RowFilter[] } : { or: parsed as RowFilter[] };
    }
    if ('not' in node) {
      if (keys.length !== 1) {
        errors.push({ field: at, message: '"not" must be the only key of its condition' });
        return null;
      }
      const child = visit(node.not, `${at}.not`, depth + 1);
      return child === null ? null : { not: child };
    }
    conditions += 1;
    if (conditions > MAX_CONDITIONS) {
      errors.push({ field: at, message: `The row filter has more than ${MAX_CONDITIONS} conditions. Simplify it` });
      return null;
    }
    const unknownKeys = keys.filter((key) => !['field', 'op', 'value'].includes(key));
    if (unknownKeys.length > 0) {
      errors.push({ field: at, message: `Unknown key "${unknownKeys[0]}" in a row filter condition. Use field, op and value, or and/or/not` });
      return null;
    }
    const { field, op, value } = node;
    if (typeof field !== 'string' || field === '') {
      errors.push({ field: `${at}.field`, message: 'Enter the field the condition tests' });
      return null;
    }
    if (typeof op !== 'string' || !(COMPARISON_OPERATORS as readonly string[]).includes(op)) {
      errors.push({ field: `${at}.op`, message: `The operator "${String(op)}" is not valid. Use one of: ${COMPARISON_OPERATORS.join(', ')}` });
      return null;
    }
    const operator = op as ComparisonOperator;
    if (operator === 'is_null' || operator === 'not_null') {
      if (value !== undefined) {
        errors.push({ field: `${at}.value`, message: `The operator ${operator} takes no value. Remove it` });
        return null;
      }
      return { field, op: operator };
    }
    const isScalar = (candidate: unknown): candidate is FilterValue => ['string', 'number', 'boolean'].includes(typeof candidate);
    if (operator === 'in' || operator === 'between') {
      const expectedLength = operator === 'between' ? 2 : undefined;
      const valid =
        Array.isArray(value) &&
        value.length > 0 &&
        value.length <= MAX_IN_VALUES &&
        (expectedLength === undefined || value.length === expectedLength) &&
        value.every(isScalar);
      if (!valid) {
        const shape = operator === 'between' ? 'a list of two values [low, high]' : `a list of 1 to ${MAX_IN_VALUES} values`;
        errors.push({ field: `${at}.value`, message: `The operator ${operator} on "${field}" needs ${shape}` });
        return null;
      }
      return { field, op: operator, value: value as FilterValue[] };
    }
    if (!isScalar(value)) {
      errors.push({ field: `${at}.value`, message: `The operator ${operator} on "${field}" needs one value (text, number or true/false)` });
      return null;
    }
    return { field, op: operator, value };
  };

  if (input === null || input === undefined) return { filter: null, errors };
  const filter = visit(input, path, 1);
  return { filter: errors.length > 0 ? null : filter, errors };
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

function checkValue(field: TableSchemaField, value: FilterValue, at: string): FieldError | null {
  const wrong = (expected: string) => ({ field: at, message: `The value ${JSON.stringify(value)} for "${field.name}" is not ${expected}, which the field's type ${field.type} needs` });
  switch (field.type) {
    case 'integer':
      return typeof value === 'number' && Number.isSafeInteger(value) ? null : wrong('a whole number');
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? null : wrong('a number');
    case 'boolean':
      return typeof value === 'boolean' ? null : wrong('true or false');
    case 'date':
      return typeof value === 'string' && ISO_DATE.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) ? null : wrong('a date (YYYY-MM-DD)');
    case 'datetime':
      return typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? null : wrong('a date and time (ISO 8601)');
    case 'string':
      return typeof value === 'string' ? null : wrong('text');
  }
}

const SQL_TYPE: Record<FieldType, string> = {
  string: 'text',
  integer: 'bigint',
  number: 'numeric',
  boolean: 'boolean',
  date: 'date',
  datetime: 'timestamptz',
};

function typedParameter(field: TableSchemaField, value: FilterValue): RawBuilder<unknown> {
  return sql`cast(${value} as ${sql.raw(SQL_TYPE[field.type])})`;
}

/** Lists every field and value in the filter that the schema does not allow. */
export function checkRowFilter(filter: RowFilter, schema: TableSchema, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const byName = new Map(schema.fields.map((field) => [field.name, field]));
  const visit = (node: RowFilter, at: string) => {
    if ('and' in node) node.and.forEach((child, index) => visit(child, `${at}.and[${index}]`));
    else if ('or' in node) node.or.forEach((child, index) => visit(child, `${at}.or[${index}]`));
    else if ('not' in node) visit(node.not, `${at}.not`);
    else {
      const field = byName.get(node.field);
      if (!field) {
        errors.push({ field: `${at}.field`, message: `The row filter names the field "${node.field}", which the dataset does not have. Use one of: ${[...byName.keys()].join(', ')}` });
        return;
      }
      if (field.type === 'boolean' && !['eq', 'ne', 'in', 'is_null', 'not_null'].includes(node.op)) {
        errors.push({ field: `${at}.op`, message: `The operator ${node.op} cannot compare the true/false field "${field.name}". Use eq, ne, in, is_null or not_null` });
      }
      const values = node.value === undefined ? [] : Array.isArray(node.value) ? node.value : [node.value];
      for (const value of values) {
        const problem = checkValue(field, value, `${at}.value`);
        if (problem) errors.push(problem);
      }
    }
  };
  visit(filter, path);
  return errors;
}

/**
 * Compiles a checked filter to a parameterised SQL condition. Throws when the schema does not match, so callers must
 * run checkRowFilter against the same schema first. The check is repeated here so an unchecked filter never reaches a
 * query.
 */
export function compileRowFilter(filter: RowFilter, schema: TableSchema): RawBuilder<boolean> {
  const problems = checkRowFilter(filter, schema, 'row_filter');
  if (problems.length > 0) throw new Error(`Row filter does not match the dataset schema: ${problems[0]!.message}`);
  const byName = new Map(schema.fields.map((field) => [field.name, field]));

  const compile = (node: RowFilter): RawBuilder<boolean> => {
    if ('and' in node) return sql<boolean>`(${sql.join(node.and.map(compile), sql` and `)})`;
    if ('or' in node) return sql<boolean>`(${sql.join(node.or.map(compile), sql` or `)})`;
    if ('not' in node) return sql<boolean>`(not coalesce(${compile(node.not)}, false))`;
    const field = byName.get(node.field)!;
    const column = sql.id(field.name);
    switch (node.op) {
      case 'is_null':
        return sql<boolean>`(${column} is null)`;
      case 'not_null':
        return sql<boolean>`(${column} is not null)`;
      case 'in': {
        const values = (node.value as FilterValue[]).map((value) => typedParameter(field, value));
        return sql<boolean>`(${column} in (${sql.join(values)}))`;
      }
      case 'between': {
        const [low, high] = node.value as FilterValue[];
        return sql<boolean>`(${column} between ${typedParameter(field, low!)} and ${typedParameter(field, high!)})`;
      }
      default:
        return sql<boolean>`(${column} ${sql.raw(SQL_OPERATOR[node.op])} ${typedParameter(field, node.value as FilterValue)})`;
    }
  };
  return compile(filter);
}
