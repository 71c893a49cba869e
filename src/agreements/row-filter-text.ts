import type { FilterValue, RowFilter } from './row-filter.ts';

const COMPARISONS: Record<'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge', string> = {
  eq: 'is',
  ne: 'is not',
  lt: 'is less than',
  le: 'is at most',
  gt: 'is more than',
  ge: 'is at least',
};

function quote(value: FilterValue): string {
  return typeof value === 'string' ? `"${value}"` : String(value);
}

/** Joins values as "a, b or c" (or "and" for `last`). */
function list(values: string[], last: 'or' | 'and'): string {
  return values.length <= 1 ? (values[0] ?? '') : `${values.slice(0, -1).join(', ')} ${last} ${values.at(-1)}`;
}

/**
 * Describes a row filter in plain English for the agreement's page and PDF, such as `service is "Reablement" and
 * weekly cost is more than 500`. Nested groups are bracketed so that "and" and "or" read unambiguously.
 */
export function describeRowFilter(filter: RowFilter, fieldTitle: (name: string) => string = (name) => name, nested = false): string {
  if ('and' in filter || 'or' in filter) {
    const joiner = 'and' in filter ? 'and' : 'or';
    const parts = ('and' in filter ? filter.and : filter.or).map((child) => describeRowFilter(child, fieldTitle, true));
    const text = parts.join(` ${joiner} `);
    return nested && parts.length > 1 ? `(${text})` : text;
  }
  if ('not' in filter) return `not ${describeRowFilter(filter.not, fieldTitle, true)}`;
  const field = fieldTitle(filter.field);
  let values: FilterValue[] = [];
  if (Array.isArray(filter.value)) values = filter.value;
  else if (filter.value !== undefined) values = [filter.value];
  switch (filter.op) {
    case 'in':
      return `${field} is one of ${list(values.map(quote), 'or')}`;
    case 'between':
      return `${field} is from ${quote(values[0]!)} to ${quote(values[1]!)}`;
    case 'is_null':
      return `${field} is empty`;
    case 'not_null':
      return `${field} is not empty`;
    default:
      return `${field} ${COMPARISONS[filter.op]} ${quote(values[0]!)}`;
  }
}
