/**
 * PostgreSQL binary COPY (`FORMAT binary`) for typed rows, `_id` first. The server reads binary values without parsing
 * text. In one measurement with psql, 1,000,000 spending rows loaded in about 25% less time than the same rows as COPY
 * text. Values go through the same converters as the text format, so both formats store the same values.
 */
import type { DecimalMark } from './numbers.ts';
import { RowValues } from './row-values.ts';
import type { FieldType, TableSchema } from './table-schema.ts';

/** Signature, flags and header-extension length that open a binary COPY stream. */
export const BINARY_COPY_HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
/** The field count of -1 that ends a binary COPY stream. */
export const BINARY_COPY_TRAILER = Buffer.from([0xff, 0xff]);

/** Field types this writer encodes. A schema with another type (datetime) loads through COPY text instead. */
const BINARY_TYPES = new Set<FieldType>(['string', 'integer', 'number', 'boolean', 'date']);

/** Returns true when every field of `schema` has a type the binary writer encodes. */
export function supportsBinaryCopy(schema: TableSchema): boolean {
  return schema.fields.every((field) => BINARY_TYPES.has(field.type));
}

/** Days from 1970-01-01 to 2000-01-01, the epoch of PostgreSQL's binary dates. */
const PG_EPOCH_DAYS = 10_957;
const TWO_TO_32 = 4_294_967_296;
const NUMERIC_NEGATIVE = 0x4000;

/** Returns the days since 1970-01-01 of a proleptic Gregorian date, for any year, counting in 400-year eras. */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** A growing byte buffer that binary COPY tuples are written into. */
class ByteSink {
  buffer = Buffer.allocUnsafe(1 << 20);
  length = 0;

  reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }

  int16(value: number): void {
    this.buffer.writeInt16BE(value, this.length);
    this.length += 2;
  }

  int32(value: number): void {
    this.buffer.writeInt32BE(value, this.length);
    this.length += 4;
  }

  uint32(value: number): void {
    this.buffer.writeUInt32BE(value, this.length);
    this.length += 4;
  }

  take(): Buffer {
    const chunk = Buffer.from(this.buffer.subarray(0, this.length));
    this.length = 0;
    return chunk;
  }
}

/** Writes a signed 64-bit integer given as a safe JavaScript integer. */
function writeInt64(sink: ByteSink, value: number): void {
  const magnitude = Math.abs(value);
  let high = Math.floor(magnitude / TWO_TO_32);
  let low = magnitude - high * TWO_TO_32;
  if (value < 0) {
    // Two's complement of the 64-bit magnitude, computed on its two 32-bit halves.
    low = (~low + 1) >>> 0;
    high = (~high + (low === 0 ? 1 : 0)) >>> 0;
  }
  sink.uint32(high);
  sink.uint32(low);
}

/** Writes `bigint` text (at most 18 digits, from the integer converter) as an 8-byte field. */
function writeBigint(sink: ByteSink, text: string): void {
  sink.reserve(12);
  sink.int32(8);
  const digits = text.charCodeAt(0) === 45 ? text.length - 1 : text.length;
  if (digits <= 15) {
    writeInt64(sink, Number(text));
    return;
  }
  sink.buffer.writeBigInt64BE(BigInt(text), sink.length);
  sink.length += 8;
}

/**
 * Writes decimal text without an exponent, such as `-1234.50`, straight from its characters: the common case of
 * money amounts, which needs no intermediate strings.
 */
function writePlainNumeric(sink: ByteSink, text: string, start: number, point: number): void {
  const end = text.length;
  const integerLength = point - start;
  const scale = point === end ? 0 : end - point - 1;
  // Digit positions run from the most significant; digit k sits in group floor((k + leftPad) / 4).
  const leftPad = (4 - (integerLength % 4)) % 4;
  const totalDigits = integerLength + scale;
  const groupCount = Math.ceil((totalDigits + leftPad) / 4);
  sink.reserve(4 + 8 + 2 * groupCount);
  const lengthAt = sink.length;
  sink.length += 12;

  let weight = (integerLength + leftPad) / 4 - 1;
  let written = 0;
  let pendingZeros = 0;
  let leading = true;
  for (let group = 0; group < groupCount; group++) {
    let value = 0;
    for (let slot = 0; slot < 4; slot++) {
      const k = group * 4 + slot - leftPad;
      let digit = 0;
      if (k >= 0 && k < totalDigits) digit = text.charCodeAt(k < integerLength ? start + k : point + 1 + (k - integerLength)) - 48;
      value = value * 10 + digit;
    }
    if (leading) {
      if (value === 0) {
        weight--;
        continue;
      }
      leading = false;
    }
    if (value === 0) {
      pendingZeros++;
      continue;
    }
    for (; pendingZeros > 0; pendingZeros--) {
      sink.int16(0);
      written++;
    }
    sink.int16(value);
    written++;
  }

  const negative = text.charCodeAt(0) === 45 && written > 0;
  sink.buffer.writeInt32BE(8 + 2 * written, lengthAt);
  sink.buffer.writeInt16BE(written, lengthAt + 4);
  sink.buffer.writeInt16BE(written === 0 ? 0 : weight, lengthAt + 6);
  sink.buffer.writeUInt16BE(negative ? NUMERIC_NEGATIVE : 0, lengthAt + 8);
  sink.buffer.writeInt16BE(scale, lengthAt + 10);
}

/**
 * Writes decimal text such as `-1234.50` or `1.5e3` in PostgreSQL's binary numeric form: base-10000 digits with a
 * weight, sign and display scale. The display scale follows PostgreSQL's own reading of the text: the digits after
 * the point, less the exponent, and never below 0.
 */
function writeNumeric(sink: ByteSink, text: string): void {
  const start = text.charCodeAt(0) === 45 ? 1 : 0;
  const e = text.indexOf('e', start);
  if (e < 0) {
    const point = text.indexOf('.', start);
    writePlainNumeric(sink, text, start, point < 0 ? text.length : point);
    return;
  }
  // Text with an exponent: shift the point, then write the plain form with PostgreSQL's scale.
  const exponent = Number(text.slice(e + 1));
  const point = text.indexOf('.', start);
  const integerDigits = point >= 0 && point < e ? text.slice(start, point) : text.slice(start, e);
  const fractionDigits = point >= 0 && point < e ? text.slice(point + 1, e) : '';
  let digits = integerDigits + fractionDigits;
  let pointAt = integerDigits.length + exponent;
  if (pointAt < 0) {
    digits = '0'.repeat(-pointAt) + digits;
    pointAt = 0;
  } else if (pointAt > digits.length) {
    digits += '0'.repeat(pointAt - digits.length);
  }
  const scale = Math.max(0, fractionDigits.length - exponent);
  const fraction = digits.slice(pointAt).padEnd(scale, '0').slice(0, Math.max(scale, 0));
  const plain = `${start === 1 ? '-' : ''}${digits.slice(0, pointAt) || '0'}${scale > 0 ? `.${fraction}` : ''}`;
  const plainPoint = plain.indexOf('.');
  writePlainNumeric(sink, plain, start, plainPoint < 0 ? plain.length : plainPoint);
}

/** Reads the decimal number in `text` from `from` up to `to`. */
function digitsValue(text: string, from: number, to: number): number {
  let value = 0;
  for (let i = from; i < to; i++) value = value * 10 + text.charCodeAt(i) - 48;
  return value;
}

/** Writes `YYYY-MM-DD` text (from the date converter; the year may be longer) as days since 2000-01-01. */
function writeDate(sink: ByteSink, text: string): void {
  const dash = text.length - 6;
  const days = daysFromCivil(digitsValue(text, 0, dash), digitsValue(text, dash + 1, dash + 3), digitsValue(text, dash + 4, dash + 6));
  sink.reserve(8);
  sink.int32(4);
  sink.int32(days - PG_EPOCH_DAYS);
}

function writeBoolean(sink: ByteSink, text: string): void {
  sink.reserve(5);
  sink.int32(1);
  sink.buffer[sink.length++] = text === 't' ? 1 : 0;
}

/** Texts up to this length are copied byte by byte when ASCII, which is cheaper than a call into the encoder. */
const SHORT_TEXT = 64;

function writeText(sink: ByteSink, text: string): void {
  // A UTF-16 unit takes at most 3 bytes in UTF-8 (a surrogate pair takes 4 for two units).
  const n = text.length;
  sink.reserve(4 + n * 3);
  const buffer = sink.buffer;
  const start = sink.length + 4;
  if (n <= SHORT_TEXT) {
    let i = 0;
    for (; i < n; i++) {
      const code = text.charCodeAt(i);
      if (code >= 0x80) break;
      buffer[start + i] = code;
    }
    if (i === n) {
      buffer.writeInt32BE(n, sink.length);
      sink.length = start + n;
      return;
    }
  }
  const written = buffer.write(text, start, 'utf8');
  buffer.writeInt32BE(written, sink.length);
  sink.length = start + written;
}

type ValueWriter = (sink: ByteSink, converted: string) => void;

const WRITERS: Record<string, ValueWriter> = {
  string: writeText,
  integer: writeBigint,
  number: writeNumeric,
  boolean: writeBoolean,
  date: writeDate,
};

/**
 * Converts records to binary COPY tuples for one schema and numbers them from 1 in the order written. The stream
 * header and trailer are not included: send BINARY_COPY_HEADER first and BINARY_COPY_TRAILER last.
 */
export class CopyBinaryWriter {
  private readonly fields: RowValues;
  private readonly writers: ValueWriter[];
  private readonly sink = new ByteSink();
  /** Chunks of tuples taken from the sink or from the native lane, in order, before the sink's own. */
  private encoded: Buffer[] = [];
  private id = 0;
  private pending = 0;

  constructor(schema: TableSchema, decimal: DecimalMark) {
    if (!supportsBinaryCopy(schema)) throw new Error('The schema has a field type that binary COPY does not encode; load it as COPY text.');
    this.fields = new RowValues(schema, decimal);
    this.writers = schema.fields.map((field) => WRITERS[field.type]!);
  }

  /** Rows written so far, which is also the `_id` of the last one. */
  get rows(): number {
    return this.id;
  }

  /** Rows written since the last `take`. */
  get pendingRows(): number {
    return this.pending;
  }

  /**
   * Appends one non-blank record as the next row. Returns false, and appends nothing, when a value does not fit its
   * field's type.
   */
  write(cells: string[], parsedNumbers?: ReadonlyArray<string | null | undefined>): boolean {
    const { fields, sink } = this;
    const rowStart = sink.length;
    sink.reserve(14);
    sink.int16(fields.width + 1);
    sink.int32(8);
    writeInt64(sink, this.id + 1);
    for (let c = 0; c < fields.width; c++) {
      const value = fields.value(cells, c, parsedNumbers);
      if (value === null) {
        sink.length = rowStart;
        return false;
      }
      if (value === undefined) {
        sink.reserve(4);
        sink.int32(-1);
      } else {
        this.writers[c]!(sink, value);
      }
    }
    this.id++;
    this.pending++;
    return true;
  }

  /**
   * Appends tuples encoded elsewhere (the native lane), numbered from `rows + 1` on, and counts their rows. The buffer
   * is kept as it is, not copied, so the caller must not change it.
   */
  appendEncoded(tuples: Buffer, rows: number): void {
    if (this.sink.length > 0) this.encoded.push(this.sink.take());
    this.encoded.push(tuples);
    this.id += rows;
    this.pending += rows;
  }

  /** Returns the tuples written since the last call as one chunk. */
  take(): Buffer {
    this.pending = 0;
    if (this.encoded.length === 0) return this.sink.take();
    if (this.sink.length > 0) this.encoded.push(this.sink.take());
    const chunk = this.encoded.length === 1 ? this.encoded[0]! : Buffer.concat(this.encoded);
    this.encoded = [];
    return chunk;
  }
}
