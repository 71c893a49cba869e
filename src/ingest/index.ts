/**
 * Ingest: reading council files into typed tables. analyseFile (pass 1) reads the whole file and returns its encoding,
 * dialect, header, Table Schema, warnings and row count; copyRows (pass 2) yields the rows as PostgreSQL COPY text for
 * `COPY datastore.<table> (<copyColumnList>) FROM STDIN`.
 */
export { analyseFile, MAX_REPORTED_VIOLATIONS } from './analyse.ts';
export { columnSqlType, isValidColumnName, makeColumnNames, MAX_IDENTIFIER_BYTES, ROW_ID_COLUMN } from './column-names.ts';
export { copyColumnList, copyRows, escapeCopyText } from './copy-rows.ts';
export { EARLY_LOAD_AFTER_ROWS, type EarlyLoadTarget } from './early-load.ts';
export { fileSize, formatOf, type FileFormat } from './records.ts';
export { listSheets, type SheetInfo } from './workbook.ts';
export {
  IngestError,
  type FileAnalysis,
  type IngestLocation,
  type IngestOptions,
  type IngestSource,
  type IngestWarning,
  type ValuePosition,
} from './ingest.types.ts';
export type { FieldConstraints, FieldType, TableSchema, TableSchemaField } from './table-schema.ts';
