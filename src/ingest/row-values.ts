/**
 * The values of one row as COPY writes them, for either format: the shared step between a file's cells and the bytes
 * of a COPY row. Missing-value markers become nulls, and each typed cell goes through its field's converter.
 */
import { makeConverter, type Converter } from './converters.ts';
import { isBlankText } from './layout.ts';
import { isIntegerText, type DecimalMark } from './numbers.ts';
import type { TableSchema } from './table-schema.ts';

const NOT_A_NUMBER = 0;
const INTEGER = 1;
const NUMBER = 2;

/**
 * Returns, per field, whether a decimal parsed during the analysis can replace the converter's parse. It can for
 * integer and number fields that use the file's decimal mark. A field's own `decimalChar`, or numbers with per cent
 * signs (`bareNumber` false), need their own parse.
 */
function numberKinds(schema: TableSchema): Uint8Array {
  return Uint8Array.from(schema.fields, (field) => {
    if (field.decimalChar !== undefined || field.bareNumber === false) return NOT_A_NUMBER;
    if (field.type === 'integer') return INTEGER;
    if (field.type === 'number') return NUMBER;
    return NOT_A_NUMBER;
  });
}

/** Converts cells to the text PostgreSQL reads for their fields, with the same rules for every COPY format. */
export class RowValues {
  readonly width: number;
  readonly isString: boolean[];
  private readonly converters: Converter[];
  private readonly missing: Array<Set<string> | null>;
  private readonly numberKinds: Uint8Array;

  constructor(schema: TableSchema, decimal: DecimalMark) {
    const fields = schema.fields;
    const schemaMissing = schema.missingValues ?? [];
    this.width = fields.length;
    this.converters = fields.map((field) => makeConverter(field, decimal));
    this.isString = fields.map((field) => field.type === 'string');
    this.missing = fields.map((field) => {
      const values = [...(field.missingValues ?? []), ...schemaMissing];
      return values.length > 0 ? new Set(values) : null;
    });
    this.numberKinds = numberKinds(schema);
  }

  /**
   * Returns the value of cell `c`: its text for a string field (untrimmed) or its converted text, undefined for a
   * null, and null when the cell does not fit its field. `parsedNumbers[c]`, when defined, is what parseDecimal
   * returned for the cell with the file's decimal mark, and replaces that parse.
   */
  value(cells: string[], c: number, parsedNumbers?: ReadonlyArray<string | null | undefined>): string | null | undefined {
    const raw = cells[c];
    if (raw === undefined || isBlankText(raw)) return undefined;
    const missing = this.missing[c];
    if (this.isString[c]) return missing?.has(raw.trim()) ? undefined : raw;

    const parsed = parsedNumbers?.[c];
    const kind = this.numberKinds[c]!;
    if (parsed !== undefined && kind !== NOT_A_NUMBER && missing === null) {
      if (parsed === null) return null;
      return kind === NUMBER || isIntegerText(parsed) ? parsed : null;
    }
    const trimmed = raw.trim();
    if (missing?.has(trimmed)) return undefined;
    return this.converters[c]!(trimmed);
  }
}
