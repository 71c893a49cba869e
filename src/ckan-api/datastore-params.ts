import { validationError } from '../errors.ts';
import {
  DEFAULT_SEARCH_LIMIT,
  MAX_SEARCH_LIMIT,
  type DatastoreQuery,
  type FilterValue,
  type RecordsFormat,
  type SortKey,
} from './datastore.types.ts';

/**
 * Reads datastore_search parameters in the forms CKAN clients send them: strings from a query string (JSON text for
 * `filters` and `q` objects, comma lists for `fields` and `sort`) or typed values from a JSON body. Every error names
 * the parameter, so the CKAN envelope can key it as CKAN's validation errors do.
 */

export function invalidParameter(parameter: string, message: string): Error {
  return validationError(`invalid_${parameter}`, `Invalid ${parameter}: ${message}`, [{ field: parameter, message }]);
}

export function readString(params: Record<string, unknown>, name: string): string | undefined {
  const value = params[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw invalidParameter(name, `${name} must be a string.`);
}

export function requireString(params: Record<string, unknown>, name: string): string {
  const value = readString(params, name);
  // The message starts with CKAN's own text, "Missing value", for clients that match it.
  if (value === undefined || value.trim() === '') throw invalidParameter(name, `Missing value. Send the ${name} parameter in the query string or the JSON body.`);
  return value.trim();
}

export function readInteger(params: Record<string, unknown>, name: string, fallback: number, min: number, max: number): number {
  const raw = params[name];
  if (raw === undefined || raw === null || raw === '') return fallback;
  const value = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(value)) throw invalidParameter(name, `"${String(raw)}" is not a whole number. Give a whole number from ${min} to ${max}.`);
  if (value < min || value > max) throw invalidParameter(name, `${value} is out of range. Give a whole number from ${min} to ${max}.`);
  return value;
}

export function readBoolean(params: Record<string, unknown>, name: string, fallback: boolean): boolean {
  const raw = params[name];
  if (raw === undefined || raw === null || raw === '') return fallback;
  if (typeof raw === 'boolean') return raw;
  if (typeof raw === 'string') {
    const lowered = raw.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(lowered)) return true;
    if (['false', '0', 'no', 'off'].includes(lowered)) return false;
  }
  throw invalidParameter(name, `"${String(raw)}" is not a boolean. Give true or false.`);
}

/**
 * Parses a parameter that may arrive as JSON text (query strings) or as the decoded value (JSON bodies). `example` is
 * JSON of the shape the parameter takes, quoted in the error message.
 */
export function readJson(params: Record<string, unknown>, name: string, example: string): unknown {
  const raw = params[name];
  if (typeof raw !== 'string') return raw;
  try {
    return JSON.parse(raw);
  } catch {
    throw invalidParameter(name, `Cannot parse ${name} as JSON: ${truncate(raw)}. Send JSON such as ${example}.`);
  }
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

function isScalar(value: unknown): value is FilterValue {
  return value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

export function readFilters(params: Record<string, unknown>): Record<string, FilterValue | FilterValue[]> {
  const value = readJson(params, 'filters', '{"column": "value"}');
  if (value === undefined || value === null || value === '') return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidParameter('filters', 'filters must be a JSON object of column names to values.');
  const filters: Record<string, FilterValue | FilterValue[]> = {};
  for (const [column, filter] of Object.entries(value)) {
    if (isScalar(filter)) filters[column] = filter;
    else if (Array.isArray(filter) && filter.every(isScalar)) filters[column] = filter;
    else throw invalidParameter('filters', `The filter on "${column}" must be a value or a list of values.`);
  }
  return filters;
}

export function readQ(params: Record<string, unknown>): string | Record<string, string> | null {
  const raw = params.q;
  if (raw === undefined || raw === null || raw === '') return null;
  let value: unknown = raw;
  if (typeof raw === 'string') {
    if (!raw.trimStart().startsWith('{')) return raw;
    value = readJson(params, 'q', '{"column": "text"}');
  }
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidParameter('q', 'q must be text or a JSON object of column names to text.');
  const perColumn: Record<string, string> = {};
  for (const [column, text] of Object.entries(value)) {
    if (typeof text !== 'string') throw invalidParameter('q', `The search text for "${column}" must be a string.`);
    perColumn[column] = text;
  }
  return perColumn;
}

/** Splits a comma-separated list, keeping commas inside double-quoted names. */
function splitList(text: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (const char of text) {
    if (char === '"') quoted = !quoted;
    if (char === ',' && !quoted) {
      parts.push(current);
      current = '';
    } else current += char;
  }
  parts.push(current);
  return parts.map((part) => part.trim()).filter((part) => part !== '');
}

function unquote(name: string): string {
  return name.length >= 2 && name.startsWith('"') && name.endsWith('"') ? name.slice(1, -1).replace(/""/g, '"') : name;
}

export function readFields(params: Record<string, unknown>): string[] | null {
  const raw = params.fields;
  if (raw === undefined || raw === null || raw === '') return null;
  let names: unknown;
  if (typeof raw === 'string') names = raw.trimStart().startsWith('[') ? readJson(params, 'fields', '["column", "other column"]') : splitList(raw).map(unquote);
  else names = raw;
  if (!Array.isArray(names) || !names.every((name) => typeof name === 'string')) {
    throw invalidParameter('fields', 'fields must be a list of column names, as a JSON list or separated by commas.');
  }
  return [...new Set(names as string[])];
}

export function readSort(params: Record<string, unknown>): SortKey[] {
  const raw = params.sort;
  if (raw === undefined || raw === null || raw === '') return [];
  const parts = Array.isArray(raw) ? raw : typeof raw === 'string' ? splitList(raw) : null;
  if (!parts || !parts.every((part) => typeof part === 'string')) throw invalidParameter('sort', 'sort must be text such as "column asc, other desc".');
  return (parts as string[]).map((part) => {
    const match = /^("(?:[^"]|"")+"|\S+)(?:\s+(asc|desc))?\s*$/i.exec(part.trim());
    if (!match) throw invalidParameter('sort', `Cannot read "${part}". Write a column name followed by asc or desc.`);
    return { column: unquote(match[1]!), descending: match[2]?.toLowerCase() === 'desc' };
  });
}

const RECORDS_FORMATS: RecordsFormat[] = ['objects', 'lists', 'csv', 'tsv'];

/** Reads every datastore_search parameter; checks against the table's columns come later, in the search. */
export function readDatastoreQuery(params: Record<string, unknown>): DatastoreQuery {
  const recordsFormat = (readString(params, 'records_format') ?? 'objects') as RecordsFormat;
  if (!RECORDS_FORMATS.includes(recordsFormat)) {
    throw invalidParameter('records_format', `"${recordsFormat}" is not a records format. Use one of: ${RECORDS_FORMATS.join(', ')}.`);
  }
  return {
    resourceId: requireString(params, 'resource_id'),
    filters: readFilters(params),
    q: readQ(params),
    fields: readFields(params),
    sort: readSort(params),
    limit: readInteger(params, 'limit', DEFAULT_SEARCH_LIMIT, 0, MAX_SEARCH_LIMIT),
    offset: readInteger(params, 'offset', 0, 0, Number.MAX_SAFE_INTEGER),
    includeTotal: readBoolean(params, 'include_total', true),
    recordsFormat,
    distinct: readBoolean(params, 'distinct', false),
    cursor: readString(params, 'cursor') ?? null,
  };
}
