import type { FieldType } from '../ingest/table-schema.ts';

/** Column type names as the CKAN DataStore reports them. */
export type DatastoreType = 'int' | 'text' | 'numeric' | 'bool' | 'date' | 'timestamp';

export const DATASTORE_TYPES: Record<FieldType, DatastoreType> = {
  string: 'text',
  integer: 'int',
  number: 'numeric',
  boolean: 'bool',
  date: 'date',
  datetime: 'timestamp',
};

/** Default and maximum page sizes of `datastore_search`, the same as CKAN's defaults (`rows_default`, `rows_max`). */
export const DEFAULT_SEARCH_LIMIT = 100;
export const MAX_SEARCH_LIMIT = 32000;
/** Rows `datastore_search_sql` returns at most; a longer result is cut and flagged `records_truncated`. */
export const MAX_SQL_ROWS = 32000;

export type FilterValue = string | number | boolean | null;
export type RecordsFormat = 'objects' | 'lists' | 'csv' | 'tsv';

export interface SortKey {
  column: string;
  descending: boolean;
}

/** A datastore_search request after its parameters were read and checked for form (not yet against the table). */
export interface DatastoreQuery {
  resourceId: string;
  /** Column → value, or list of values any of which may match. */
  filters: Record<string, FilterValue | FilterValue[]>;
  /** Full-text search over every text column, or per column. */
  q: string | Record<string, string> | null;
  /** Columns to return, in order; all columns (with `_id` first) when null. */
  fields: string[] | null;
  sort: SortKey[];
  limit: number;
  offset: number;
  includeTotal: boolean;
  recordsFormat: RecordsFormat;
  distinct: boolean;
  /** Continuation token from a previous page's next link; honoured only for the offset it was made for. */
  cursor: string | null;
}

export interface DatastoreField {
  id: string;
  type: DatastoreType;
  /** CKAN's data dictionary entry; `label` is the exact original header. */
  info?: { label: string };
}

export interface DatastoreResult {
  resourceId: string;
  fields: DatastoreField[];
  /** Objects, lists or a CSV/TSV text, as `recordsFormat` asked. */
  records: Array<Record<string, unknown>> | unknown[][] | string;
  /** Exact number of matching rows; absent when the caller set include_total to false. */
  total: number | undefined;
  limit: number;
  offset: number;
  /** Token for the page after this one when rows are read in `_id` order, else null. */
  nextCursor: string | null;
}

export interface DatastoreSqlResult {
  sql: string;
  fields: Array<{ id: string; type: string }>;
  records: Array<Record<string, unknown>>;
  /** True when the query returned more than MAX_SQL_ROWS rows and the rest were dropped. */
  recordsTruncated: boolean;
}
