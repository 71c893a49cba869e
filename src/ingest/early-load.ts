/**
 * The early load: while the analysis reads the file, it also converts the rows with a schema guessed from the first
 * rows and sends them to a COPY, so a large file is read once instead of twice. The guess decides nothing: the import
 * keeps the early rows only when the analysis of every value ends with the same schema, and loads the file again
 * otherwise.
 */
import { CopyBinaryWriter } from './copy-binary-writer.ts';
import { createCopyWriter, type CopyFormat, type CopyRowWriter } from './copy-writer.ts';
import type { DecimalMark } from './numbers.ts';
import type { TableSchema } from './table-schema.ts';

/** Rows the analysis reads before it guesses the schema of an early load, unless the target sets another number. */
export const EARLY_LOAD_AFTER_ROWS = 10_000;

/** The receiver of an early load's rows, such as a COPY into a table made from the guessed schema. */
export interface EarlyLoadTarget {
  /** Rows analysed before the schema is guessed; a file with fewer rows gets no early load. */
  afterRows: number;
  /** True when `begin` may choose binary COPY, the only format the native lane writes. */
  readonly binaryAllowed?: boolean;
  /** Receives the guessed schema and returns the COPY format to send. All rows written afterwards fit the schema. */
  begin(schema: TableSchema): CopyFormat;
  /** Sends a chunk of COPY rows and resolves when the target can take more. */
  write(chunk: string | Buffer): Promise<void>;
  /**
   * Ends the COPY input. `complete` is false when a value did not fit the guessed schema, so the rows sent are not
   * all of the file's rows and the import must load the file again.
   */
  end(complete: boolean): void;
}

/** Rows collected before an early load sends them on, so the COPY receives few, large chunks. */
const MIN_CHUNK_ROWS = 1000;

/** The analysis's side of an early load: it buffers the first rows, guesses, then converts every row it is given. */
export class EarlyLoad {
  private firstRows: string[][] = [];
  private writer: CopyRowWriter | null = null;
  private abandoned = false;
  private guessed: TableSchema | null = null;

  constructor(
    private readonly target: EarlyLoadTarget,
    private readonly guessSchema: () => TableSchema,
    private readonly decimal: DecimalMark,
  ) {}

  /**
   * Takes the cells of the next row the analysis counts, in the order the load pass would write them, with the
   * decimal text inference parsed from each cell where it parsed one (see CopyRowWriter.write).
   */
  add(cells: string[], parsedNumbers?: ReadonlyArray<string | null | undefined>): void {
    if (this.abandoned) return;
    if (this.writer === null) {
      this.firstRows.push(cells);
      if (this.firstRows.length >= this.target.afterRows) this.start();
      return;
    }
    if (!this.writer.write(cells, parsedNumbers)) this.abandon();
  }

  /** The guessed schema while rows are converted to binary COPY, which the native lane can write too; otherwise null. */
  get binarySchema(): TableSchema | null {
    return !this.abandoned && this.writer instanceof CopyBinaryWriter ? this.guessed : null;
  }

  /** The `_id` of the next row. */
  get nextId(): number {
    return (this.writer?.rows ?? 0) + 1;
  }

  /** Takes binary COPY tuples the native lane wrote for the next `rows` rows (see binarySchema). */
  addEncoded(tuples: Buffer, rows: number): void {
    if (this.abandoned) return;
    if (!(this.writer instanceof CopyBinaryWriter)) throw new Error('Encoded rows need an early load in the binary format.');
    this.writer.appendEncoded(tuples, rows);
  }

  /** Sends the rows converted so far once there are enough of them; the analysis awaits this between batches. */
  async flush(): Promise<void> {
    if (this.writer !== null && !this.abandoned && this.writer.pendingRows >= MIN_CHUNK_ROWS) await this.target.write(this.writer.take());
  }

  /** Sends the last rows and ends the COPY input, at the end of a successful analysis. */
  async finish(): Promise<void> {
    if (this.writer === null || this.abandoned) return;
    if (this.writer.pendingRows > 0) await this.target.write(this.writer.take());
    this.target.end(true);
  }

  private start(): void {
    const schema = this.guessSchema();
    this.guessed = schema;
    const format = this.target.begin(schema);
    this.writer = createCopyWriter(schema, this.decimal, format);
    const firstRows = this.firstRows;
    this.firstRows = [];
    for (const cells of firstRows) {
      if (!this.writer.write(cells)) {
        this.abandon();
        return;
      }
    }
  }

  /** Stops converting after a value that does not fit the guess, and ends the COPY input at once. */
  private abandon(): void {
    this.abandoned = true;
    this.firstRows = [];
    this.target.end(false);
  }
}
