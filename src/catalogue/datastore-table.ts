import type { TableSchema, TableSchemaField } from '../ingest/table-schema.ts';

/** Most filter indexes an import builds on one table; each index slows the load, so wide tables get only the first ones. */
export const MAX_FILTER_INDEXES = 8;

/** Maximum length in characters of text that still counts as a code worth a filter index, such as a postcode or ODS code. */
export const MAX_CODE_LENGTH = 40;

/** Double-quotes an SQL identifier, doubling any quote inside it. */
export function quoteIdentifier(name: string): string {
  if (name.includes('\u0000')) throw new Error(`Column name ${JSON.stringify(name)} contains a NUL character.`);
  return `"${name.replaceAll('"', '""')}"`;
}

/** The datastore table of a resource: `r_` and the resource id's 32 hex digits, so it is unique and a valid identifier. */
export function datastoreTableName(resourceId: string): string {
  const hex = resourceId.replaceAll('-', '').toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new Error(`Resource id ${resourceId} is not a UUID.`);
  return `r_${hex}`;
}

export function qualifiedTableName(tableName: string): string {
  return `datastore.${quoteIdentifier(tableName)}`;
}

/** `create table` for a resource: `_id` numbers rows in source order from 1, then one typed column per field. */
export function createTableSql(tableName: string, schema: TableSchema, columnSqlType: (field: TableSchemaField) => string): string {
  const columns = schema.fields.map((field) => `${quoteIdentifier(field.name)} ${columnSqlType(field)}`);
  return `create table ${qualifiedTableName(tableName)} (_id bigint primary key${columns.map((column) => `, ${column}`).join('')})`;
}

/**
 * `create table` for a bulk load: like `createTableSql` but without the `_id` primary key, which `addPrimaryKeySql`
 * adds after the rows are in. One sorted index build is cheaper than updating the index for every copied row.
 */
export function createLoadTableSql(tableName: string, schema: TableSchema, columnSqlType: (field: TableSchemaField) => string): string {
  const columns = schema.fields.map((field) => `${quoteIdentifier(field.name)} ${columnSqlType(field)}`);
  return `create table ${qualifiedTableName(tableName)} (_id bigint not null${columns.map((column) => `, ${column}`).join('')})`;
}

/** Adds the `_id` primary key to a table made by `createLoadTableSql`, under the name `createTableSql` would give it. */
export function addPrimaryKeySql(tableName: string): string {
  return `alter table ${qualifiedTableName(tableName)} add constraint ${quoteIdentifier(`${tableName}_pkey`)} primary key (_id)`;
}

/** A query returning, for each text column, its longest value in characters (column `l<n>` for field n), in one scan. */
export function textLengthsSql(tableName: string, schema: TableSchema): string | null {
  const measures = schema.fields.flatMap((field, position) =>
    field.type === 'string' ? [`max(length(${quoteIdentifier(field.name)})) as l${position}`] : [],
  );
  return measures.length === 0 ? null : `select ${measures.join(', ')} from ${qualifiedTableName(tableName)}`;
}

/**
 * Columns that filters use and that get a btree index: integers, dates, date-times, booleans and text codes (text no
 * longer than MAX_CODE_LENGTH, such as postcodes or expense codes), in schema order, at most MAX_FILTER_INDEXES.
 * Decimal amounts and free text are left out because exact-match filters on them are rare. `textLengths` maps a
 * field's position to its longest value, as `textLengthsSql` measures it; an empty column has no entry.
 */
export function filterIndexColumns(schema: TableSchema, textLengths: ReadonlyMap<number, number>): string[] {
  const chosen: string[] = [];
  for (const [position, field] of schema.fields.entries()) {
    if (chosen.length >= MAX_FILTER_INDEXES) break;
    const longest = textLengths.get(position);
    const isCode = field.type === 'string' && longest !== undefined && longest <= MAX_CODE_LENGTH;
    const indexed = field.type === 'integer' || field.type === 'date' || field.type === 'datetime' || field.type === 'boolean' || isCode;
    if (indexed) chosen.push(field.name);
  }
  return chosen;
}

/**
 * Returns one `create index` per filter column. Index names are numbered because column names may be long or
 * repeated. With `ifNotExists` an index already built is kept, so a repeated build does no work.
 */
export function createIndexSql(tableName: string, columns: string[], options: { ifNotExists?: boolean } = {}): string[] {
  const create = options.ifNotExists ? 'create index if not exists' : 'create index';
  return columns.map((column, position) => `${create} ${quoteIdentifier(`${tableName}_f${position + 1}`)} on ${qualifiedTableName(tableName)} (${quoteIdentifier(column)})`);
}
