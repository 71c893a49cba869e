/**
 * PostgreSQL COPY text format (`FORMAT text`) for typed rows: one line per row, `_id` first, tab-separated, `\N` for
 * null, and backslash, tab, newline and carriage return escaped.
 */
import type { DecimalMark } from './numbers.ts';
import { RowValues } from './row-values.ts';
import type { TableSchema } from './table-schema.ts';

/** Rows per chunk of COPY text; about 700 kB for a spending file, so the COPY stream writes few, large pieces. */
export const ROWS_PER_CHUNK = 4000;

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

const COPY_NULL = '\\N';

/**
 * Characters that COPY text format escapes. With Node.js 20 on a spending-shaped file, this test measured faster than
 * a loop over the characters. Most cells contain none, so the replacement rarely runs.
 */
const NEEDS_COPY_ESCAPE = /[\\\t\n\r]/;

/** Escapes text for a COPY text-format field. */
export function escapeCopyText(text: string): string {
  return NEEDS_COPY_ESCAPE.test(text) ? text.replace(/[\\\t\n\r]/g, (char) => COPY_ESCAPES[char]!) : text;
}

/**
 * Converts records to COPY text lines for one schema and numbers them from 1 in the order written. Both the load pass
 * and the early load of the analysis write through it, so the two produce the same text for the same rows.
 */
export class CopyTextWriter {
  private readonly fields: RowValues;
  private readonly values: string[];
  private lines: string[] = [];
  private id = 0;

  constructor(schema: TableSchema, decimal: DecimalMark) {
    this.fields = new RowValues(schema, decimal);
    this.values = new Array<string>(this.fields.width + 1);
  }

  /** Rows written so far, which is also the `_id` of the last one. */
  get rows(): number {
    return this.id;
  }

  /** Rows written since the last `take`. */
  get pendingRows(): number {
    return this.lines.length;
  }

  /**
   * Appends one non-blank record as the next row. Returns false, and appends nothing, when a value does not fit its
   * field's type.
   */
  write(cells: string[], parsedNumbers?: ReadonlyArray<string | null | undefined>): boolean {
    const { fields, values } = this;
    values[0] = String(this.id + 1);
    for (let c = 0; c < fields.width; c++) {
      const value = fields.value(cells, c, parsedNumbers);
      if (value === null) return false;
      if (value === undefined) values[c + 1] = COPY_NULL;
      else values[c + 1] = fields.isString[c] ? escapeCopyText(value) : value;
    }
    this.id++;
    this.lines.push(values.join('\t'));
    return true;
  }

  /** Returns the lines written since the last call as one chunk, each ending in a newline. */
  take(): string {
    const lines = this.lines;
    this.lines = [];
    if (lines.length === 0) return '\n';
    // The empty last element adds the final newline within the join, so the chunk is one flat string that V8 need
    // not copy again to flatten it when the COPY stream encodes it.
    lines.push('');
    return lines.join('\n');
  }
}
