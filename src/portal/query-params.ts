import { validationError, type AppError } from '../errors.ts';

/** Query string values as Fastify parses them: a string, or a list when the parameter repeats. */
export type QueryValues = Record<string, string | string[] | undefined>;

/** Builds a 400 error naming one query parameter, what is wrong with it and how to fix it. */
export function badParameter(parameter: string, message: string): AppError {
  return validationError('invalid_parameter', `The web address has a setting that is not valid: ${parameter}.`, [{ field: parameter, message }]);
}

/** Reads the single value of a parameter. A repeated parameter is rejected, because only one value makes sense. */
export function singleValue(query: QueryValues, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) throw badParameter(name, `Give ${name} once, not ${value.length} times.`);
  return value;
}

/** Reads every value of a repeatable parameter, trimmed, without blanks or duplicates. */
export function listValues(query: QueryValues, name: string, max = 50): string[] {
  const raw = query[name];
  const values = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map((value) => value.trim()).filter((value) => value !== '');
  const unique = [...new Set(values)];
  if (unique.length > max) throw badParameter(name, `Choose at most ${max} values for ${name}.`);
  return unique;
}

/** A page number from 1 to `max` (1 when absent). */
export function pageNumber(query: QueryValues, name = 'page', max = 100_000): number {
  const raw = singleValue(query, name);
  if (raw === undefined || raw === '') return 1;
  if (!/^\d{1,9}$/.test(raw.trim()) || Number(raw) < 1) {
    throw badParameter(name, `"${raw}" is not a page number. Use a whole number from 1, such as ${name}=2.`);
  }
  const page = Number(raw);
  if (page > max) throw badParameter(name, `${page} is past the last page. Use a page number from 1 to ${max}.`);
  return page;
}

/** One of `allowed`, or `fallback` when absent. */
export function choice<T extends string>(query: QueryValues, name: string, allowed: readonly T[], fallback: T): T {
  const raw = singleValue(query, name);
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) throw badParameter(name, `"${raw}" is not a choice for ${name}. Use one of: ${allowed.join(', ')}.`);
  return raw as T;
}

/** Free text, such as a search box, cut to `maxLength` characters; the text is never read as query syntax. */
export function freeText(query: QueryValues, name: string, maxLength = 200): string {
  const raw = singleValue(query, name) ?? '';
  return raw.replace(/\p{Cc}/gu, ' ').trim().slice(0, maxLength);
}

/** Rebuilds a query string from values, dropping empty ones, for links such as pagination and filters. */
export function queryString(values: Record<string, string | number | Array<string | number> | undefined | null>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined || value === null || value === '') continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(name, String(item));
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}
