import type { CopyFormat } from './copy-writer.ts';
import { AppError } from '../errors.ts';
import type { EarlyLoadTarget } from './early-load.ts';
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
  /** Called as bytes are read, for progress bars. Workbooks report only the start and the end. */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /**
   * Called by analyseFile for every non-blank cell of every loaded row, for checks such as a personal-data scan that
   * must see the whole file without a third pass. Types are final only when the pass ends, so the hook receives the
   * trimmed cell text.
   */
  onValue?: (value: string, position: ValuePosition) => void;
  /** False keeps the native lane out of the analysis (native-lane.ts), so tests can compare the two paths. */
  nativeLane?: boolean;
  /**
   * Makes analyseFile also convert the rows with a schema guessed from the first rows and send them to this target,
   * so the rows load while the file is analysed. The caller keeps them only when the analysis ends with that schema.
   */
  earlyLoad?: EarlyLoadTarget;
  /** The COPY format copyRows yields: text (the default) as strings, binary as buffers framed for one COPY statement. */
  copyFormat?: CopyFormat;
}

/** Where a cell passed to IngestOptions.onValue sits. */
export interface ValuePosition {
  /** The `_id` the row will get. */
  rowId: number;
  /** 1-based physical line (CSV) or sheet row (workbook). */
  line: number;
  /** 0-based index of the field in the schema. */
  fieldIndex: number;
  /** The column id (Table Schema field `name`). */
  column: string;
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
  /** The last line or row of the header: the same as header_row unless the header is stacked over several rows. */
  header_end_row: number;
  /** A title found above the header, kept as metadata. */
  title: string | null;
  /** The sheet loaded from a workbook. */
  sheet: string | null;
  schema: TableSchema;
  /** Data rows that the load pass will write. */
  rows: number;
  warnings: IngestWarning[];
  /** Size of the file in bytes, for progress bars. */
  byte_size: number;
  /** The decimal mark numbers were read with: `,` in semicolon-delimited files, otherwise `.`. */
  decimal_mark: '.' | ',';
  /** Non-blank lines after the header that are not loaded: summary rows and footer notes. */
  excluded_lines: number[];
  /**
   * Per field, the length in characters (Unicode code points, as PostgreSQL's `length` counts) of the longest value
   * the load writes as text, or null when the field gets no value. Absent from analyses made before it was measured.
   */
  text_lengths?: Array<number | null>;
  /** Rows the native lane wrote for the early load (native-lane.ts); not part of the load report. */
  lane_rows?: number;
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
