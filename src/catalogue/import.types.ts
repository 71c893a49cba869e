import type { Kysely } from 'kysely';
import type { RawConnection } from '../db/connection.ts';
import type { DB } from '../db/schema.ts';
import type { FileAnalysis, IngestOptions, IngestSource, IngestWarning } from '../ingest/ingest.types.ts';
import type { TableSchema, TableSchemaField } from '../ingest/table-schema.ts';
import type { DatasetMetadata, Visibility } from './catalogue.types.ts';

/** The ingest functions the import pipeline runs; src/ingest provides them, and tests may wrap them. */
export interface IngestFunctions {
  analyseFile(source: IngestSource, options?: IngestOptions): Promise<FileAnalysis>;
  /**
   * COPY input for the rows, `_id` first, in chunks that each end on a row boundary, in the format that
   * `options.copyFormat` names (text unless it is binary).
   */
  copyRows(source: IngestSource, analysis: FileAnalysis, options?: IngestOptions): AsyncIterable<string | Buffer>;
  columnSqlType(field: TableSchemaField): string;
}

/**
 * Who runs an import. An operator (the `civic import` command on the server's own database) works in the platform
 * scope and may create organisations; an organisation (an API token's holder) may load only into its own datasets.
 */
export type ImportActor = { kind: 'operator'; name: string } | { kind: 'organisation'; organisationId: string; userId?: string; tokenId?: string };

export interface ImportProgress {
  /** `analyse` is the first read of the file, `load` the second. */
  phase: 'analyse' | 'load';
  bytesRead: number;
  totalBytes: number;
}

export interface ImportOptions {
  organisation: string;
  dataset: string;
  actor: ImportActor;
  /** Name for an organisation the import creates; made from the slug when absent. */
  organisationName?: string;
  /** Dataset title; for a new dataset it defaults to the title found above the header, then to the file name. */
  title?: string;
  /** Metadata for a new dataset, or changes to an existing one. */
  metadata?: Omit<DatasetMetadata, 'title'>;
  schema?: TableSchema;
  sheet?: string;
  /** True rejects the load with a `dataset_exists` conflict when the dataset exists, so the import only creates one. */
  newDataset?: boolean;
  /** Visibility to set; absent keeps an existing dataset's and makes a new one private. */
  visibility?: Visibility;
  onProgress?: (progress: ImportProgress) => void;
  /** The HTTP request id, recorded in the audit event of an upload. */
  requestId?: string;
}

/** Input to an import check: the analysis and, through the import's own transaction, the loaded but uncommitted rows. */
export interface ImportCheckContext {
  source: IngestSource;
  analysis: FileAnalysis;
  options: ImportOptions;
  organisationId: string;
  datasetId: string;
  resourceId: string;
  /** Qualified name of the datastore table holding the new rows, such as `datastore."r_…"`. */
  table: string;
  /** The visibility the dataset will have unless a check lowers it. */
  visibility: Visibility;
  raw: RawConnection;
  db: Kysely<DB>;
}

export interface ImportCheckResult {
  /** `private` keeps the dataset private although `open` was requested; a check cannot make a dataset open. */
  visibility?: 'private';
  /** Fields added to the load report, such as `personal_data`. */
  report?: Record<string, unknown>;
  warnings?: IngestWarning[];
}

/**
 * A step run over every import after the rows are loaded and before commit, such as the personal-data scan. A check
 * stops the import by throwing (an AppError for the user); everything then rolls back.
 */
export interface ImportCheck {
  name: string;
  run(context: ImportCheckContext): Promise<ImportCheckResult | void>;
}
