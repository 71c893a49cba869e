/**
 * Column ids for the API and the database, made from the original headers: lower snake_case ASCII, never empty, never
 * starting with a digit, never `_id` (the row id ingest adds), unique, and unique within PostgreSQL's 63-byte
 * identifier limit.
 */
import type { FieldType, TableSchemaField } from './table-schema.ts';

export const ROW_ID_COLUMN = '_id';
export const MAX_IDENTIFIER_BYTES = 63;

const LETTER_SPELLINGS: Record<string, string> = {
  ß: 'ss', æ: 'ae', Æ: 'ae', œ: 'oe', Œ: 'oe', ø: 'o', Ø: 'o', ł: 'l', Ł: 'l', đ: 'd', Đ: 'd', ð: 'd', Ð: 'd',
  þ: 'th', Þ: 'th', ı: 'i', '&': ' and ', '%': ' percent ', '#': ' number ', '£': ' gbp ', '€': ' eur ',
};

/** Turns one header into lower snake_case ASCII, or '' when nothing usable remains. */
export function slugify(header: string): string {
  let text = '';
  for (const char of header.normalize('NFKD')) text += LETTER_SPELLINGS[char] ?? char;
  return text
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

function withSuffix(base: string, suffix: string): string {
  return base.slice(0, MAX_IDENTIFIER_BYTES - suffix.length).replace(/_+$/, '') + suffix;
}

/** Makes one distinct column id per header, in order. Blank headers become `column_N` (N counts from 1). */
export function makeColumnNames(headers: string[]): string[] {
  const used = new Set<string>([ROW_ID_COLUMN]);
  return headers.map((header, index) => {
    let base = slugify(header);
    if (base.length === 0) base = `column_${index + 1}`;
    else if (/^[0-9]/.test(base)) base = `column_${base}`;
    base = base.slice(0, MAX_IDENTIFIER_BYTES).replace(/_+$/, '');

    let name = base;
    for (let n = 2; used.has(name); n++) name = withSuffix(base, `_${n}`);
    used.add(name);
    return name;
  });
}

/** Returns true when `name` is a column id that makeColumnNames could have made. */
export function isValidColumnName(name: string): boolean {
  return /^[a-z][a-z0-9_]*$/.test(name) && name.length <= MAX_IDENTIFIER_BYTES;
}

const SQL_TYPES: Record<FieldType, string> = {
  string: 'text',
  integer: 'bigint',
  number: 'numeric',
  boolean: 'boolean',
  date: 'date',
  datetime: 'timestamptz',
};

/** Returns the PostgreSQL column type that stores a Table Schema field. */
export function columnSqlType(field: TableSchemaField): string {
  const type = SQL_TYPES[field.type];
  if (type === undefined) throw new Error(`Unsupported Table Schema field type ${String(field.type)}`);
  return type;
}
