import type { Kysely } from 'kysely';
import { executePrepared } from '../db/prepared.ts';
import type { DB } from '../db/schema.ts';
import type { TableSchema, TableSchemaField } from '../ingest/table-schema.ts';
import { isUuid, missingResourceError } from './access.ts';
import { DATASTORE_TYPES, type DatastoreField, type DatastoreType } from './datastore.types.ts';

/** A resource's datastore table as the API exposes it: `_id` first, then one column per Table Schema field. */
export interface DatastoreTable {
  resourceId: string;
  datasetId: string;
  tableName: string;
  /** Exact row count stored when the table was loaded. */
  rowCount: number;
  columns: DatastoreColumn[];
}

export interface DatastoreColumn {
  name: string;
  type: DatastoreType;
  /** The exact original header; absent for `_id`. */
  title?: string;
}

export const ID_COLUMN: DatastoreColumn = { name: '_id', type: 'int' };

export function columnsOf(schema: TableSchema): DatastoreColumn[] {
  return [ID_COLUMN, ...schema.fields.map((field: TableSchemaField) => ({ name: field.name, type: DATASTORE_TYPES[field.type], title: field.title }))];
}

export function describeColumn(column: DatastoreColumn): DatastoreField {
  return column.title === undefined ? { id: column.name, type: column.type } : { id: column.name, type: column.type, info: { label: column.title } };
}

/** Loads the table behind a resource the caller may read; throws 404, or 403 when the resource is private. */
export async function loadDatastoreTable(trx: Kysely<DB>, resourceId: string): Promise<DatastoreTable> {
  // Every datastore_search runs this lookup, and planning it under row-level security took most of its time.
  const lookup = trx.selectFrom('resources').select(['id', 'dataset_id', 'table_name', 'row_count', 'table_schema']).where('id', '=', resourceId);
  const [row] = isUuid(resourceId) ? await executePrepared(trx, lookup.compile()) : [];
  if (!row) throw await missingResourceError(trx, resourceId);
  return {
    resourceId: row.id,
    datasetId: row.dataset_id,
    tableName: row.table_name,
    rowCount: Number(row.row_count),
    columns: columnsOf(row.table_schema as TableSchema),
  };
}
