/**
 * The two COPY formats a load can use. Binary costs the server less. PGlite loads COPY input in several statements of
 * about 8 MB, and a binary stream cannot be split that way, so PGlite loads text. Datetime fields also load as text.
 */
import { CopyBinaryWriter, supportsBinaryCopy } from './copy-binary-writer.ts';
import { CopyTextWriter } from './copy-text.ts';
import type { DecimalMark } from './numbers.ts';
import type { TableSchema } from './table-schema.ts';

export type CopyFormat = 'text' | 'binary';

/** A writer of COPY rows in one format: both writers number rows from 1 and reject a value that does not fit. */
export interface CopyRowWriter {
  readonly rows: number;
  readonly pendingRows: number;
  /** Appends one row, or returns false and appends nothing when a value does not fit (see RowValues.value). */
  write(cells: string[], parsedNumbers?: ReadonlyArray<string | null | undefined>): boolean;
  take(): string | Buffer;
}

/** Returns the format to load `schema` in: binary when `binaryAllowed` and every field type has a binary encoder. */
export function copyFormatFor(schema: TableSchema, binaryAllowed: boolean): CopyFormat {
  return binaryAllowed && supportsBinaryCopy(schema) ? 'binary' : 'text';
}

export function createCopyWriter(schema: TableSchema, decimal: DecimalMark, format: CopyFormat): CopyRowWriter {
  return format === 'binary' ? new CopyBinaryWriter(schema, decimal) : new CopyTextWriter(schema, decimal);
}
