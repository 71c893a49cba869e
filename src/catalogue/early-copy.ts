import { EARLY_LOAD_AFTER_ROWS, type EarlyLoadTarget } from '../ingest/early-load.ts';
import { BINARY_COPY_HEADER, BINARY_COPY_TRAILER } from '../ingest/copy-binary-writer.ts';
import { copyFormatFor, type CopyFormat } from '../ingest/copy-writer.ts';
import type { TableSchema } from '../ingest/table-schema.ts';
import { ChunkQueue } from './chunk-queue.ts';

/**
 * Characters of COPY text queued between the analysis and the COPY. On PostgreSQL the COPY starts only after the
 * original file is staged on the same connection, which took about a second for a 160 MB file, and the analysis keeps
 * converting rows meanwhile: 64 MB is about 380,000 spending rows of COPY text. The bound does not grow with the file.
 */
const MAX_QUEUED_CHARS = 64 * 1024 * 1024;

/** Starts the COPY of an early load into a table made from `schema`, and resolves with the rows copied. */
export type StartCopy = (schema: TableSchema, rows: AsyncIterable<string | Buffer>, format: CopyFormat) => Promise<number>;

/** Frames binary COPY tuples with the stream's header and trailer. */
async function* binaryStream(tuples: AsyncIterable<string | Buffer>): AsyncGenerator<string | Buffer> {
  yield BINARY_COPY_HEADER;
  yield* tuples;
  yield BINARY_COPY_TRAILER;
}

/** The outcome of an early load once the analysis has ended. */
export type EarlyCopyResult =
  | { kept: true; rows: number }
  | { kept: false; reason: 'not_started' | 'value_did_not_fit' | 'schema_changed' | 'row_count_differs' | 'copy_failed'; error?: unknown };

/**
 * The import's side of an early load: a COPY that starts when the analysis guesses the schema and reads the rows the
 * analysis converts, through a bounded queue.
 */
export class EarlyCopy implements EarlyLoadTarget {
  private schema: TableSchema | null = null;
  private complete = false;
  private copying: Promise<number> | null = null;
  private readonly queue = new ChunkQueue(MAX_QUEUED_CHARS);

  /** `binaryAllowed` lets the COPY use the binary format when the guessed schema has a binary encoder for every field. */
  constructor(
    private readonly startCopy: StartCopy,
    readonly afterRows: number = EARLY_LOAD_AFTER_ROWS,
    readonly binaryAllowed = false,
  ) {}

  begin(schema: TableSchema): CopyFormat {
    this.schema = schema;
    const format = copyFormatFor(schema, this.binaryAllowed);
    this.copying = this.startCopy(schema, format === 'binary' ? binaryStream(this.queue) : this.queue, format);
    // A failed COPY reads no more, so the analysis must not wait for room; the failure is reported by `result`.
    this.copying.catch(() => this.queue.close());
    return format;
  }

  write(chunk: string | Buffer): Promise<void> {
    return this.queue.push(chunk);
  }

  end(complete: boolean): void {
    this.complete = complete;
    this.queue.end();
  }

  /** Stops the COPY after the analysis failed, and waits until the connection is free for the rollback. */
  async abort(error: unknown): Promise<void> {
    this.queue.fail(error);
    await this.copying?.catch(() => undefined);
  }

  /**
   * Waits for the COPY and decides whether its rows can stay. They stay only when every value fitted the guessed
   * schema, the analysis of the whole file ended with the same schema, and the COPY loaded every row it counted.
   */
  async result(finalSchema: TableSchema, analysedRows: number): Promise<EarlyCopyResult> {
    if (this.copying === null) return { kept: false, reason: 'not_started' };
    let copied: number;
    try {
      copied = await this.copying;
    } catch (error) {
      return { kept: false, reason: 'copy_failed', error };
    }
    if (!this.complete) return { kept: false, reason: 'value_did_not_fit' };
    if (JSON.stringify(this.schema) !== JSON.stringify(finalSchema)) return { kept: false, reason: 'schema_changed' };
    if (copied !== analysedRows) return { kept: false, reason: 'row_count_differs' };
    return { kept: true, rows: copied };
  }
}
