import { AppError } from '../errors.ts';
import type { TableSchema } from './table-schema.ts';

/** Something the user should know about a load that did not stop it, such as an excluded totals row. */
export interface IngestWarning {
  code: string;
  message: string;
  /** 1-based physical line in the file (CSV) or row in the sheet (workbooks). */
  line?: number;
  /** The column's original header. */
  column?: string;
}

/** A file on disk. Ingest reads it twice (analysis, then load), so uploads are written to a temporary file first. */
export interface IngestSource {
  path: string;
  /** The name the user gave the file, used in messages and to recognise workbooks by extension. */
  filename: string;
}

export interface IngestOptions {
  /** A user-supplied Table Schema; it overrides inference, and values that break it are reported by row and column. */
  schema?: TableSchema;
  /** The sheet to load from a workbook. */
  sheet?: string;
  /** Called as bytes are read, for progress bars. */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
}

/** What the analysis pass learnt about a file, from every value rather than a sample. */
export interface FileAnalysis {
  format: 'csv' | 'xlsx' | 'ods';
  /** The encoding used, such as UTF-8, UTF-16LE, windows-1252 or ISO-8859-1. */
  encoding: string;
  /** The field delimiter of a delimited file; null for workbooks. */
  delimiter: string | null;
  /** 1-based line (CSV) or row (workbook) of the header. */
  header_row: number;
  /** A title found above the header, kept as metadata. */
  title: string | null;
  /** The sheet loaded from a workbook. */
  sheet: string | null;
  schema: TableSchema;
  /** Data rows that the load pass will write. */
  rows: number;
  warnings: IngestWarning[];
}

/** Where a rejected value or line sits in the user's file. */
export interface IngestLocation {
  file: string;
  line?: number;
  column?: string;
  sheet?: string;
}

/** A file that cannot be loaded; the message says what is wrong, where and what to do. */
export class IngestError extends AppError {
  override name = 'IngestError';

  constructor(
    code: string,
    message: string,
    readonly location: IngestLocation,
  ) {
    super('validation', code, message, { fields: location.column ? [{ field: location.column, message }] : [] });
  }
}
