import { hash } from 'node:crypto';
import { ENCODING_PREFIX, HASH_BYTES } from './chain.ts';
import { int32, int64, PG_EPOCH_MICROS } from './copy-binary.ts';

/**
 * Hashes one binary COPY row of the verifier's query straight from its bytes, making no strings at all. This works for
 * the common entry, whose text fields are printable ASCII without a quote or a backslash, so each JSON string is the
 * field's bytes between quotes. The details are the stored JSON text as it is. Any other row goes to the string path
 * (`parseCopyRow` and `rehashStored`), which gives the same hash.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const FIELD_COUNT = 12;
const PREFIX = Buffer.from(ENCODING_PREFIX, 'utf8');
const NULL_TEXT = Buffer.from('null', 'utf8');
const HEX = Buffer.from('0123456789abcdef', 'latin1');
const UUID_BYTES = 16;
const PG_EPOCH = Number(PG_EPOCH_MICROS);
const MICROS_PER_DAY = 86_400_000_000;

/** A row's id and its recomputed hash; the two stored hashes are copied into the caller's buffer. */
export interface RowHashes {
  id: number;
  computedHash: Buffer;
}

// Reused for every row: the previous hash, then the encoded entry.
let scratch = Buffer.allocUnsafe(8192);

// Reused for every row: where each field's bytes start, and their length (-1 for null).
const starts = new Int32Array(FIELD_COUNT);
const lengths = new Int32Array(FIELD_COUNT);

// The date part of the last time formatted: times in a log run in order, so most rows share the previous row's day.
let cachedDay = Number.NaN;
const cachedDate = Buffer.alloc(10);

/** Writes two decimal digits of `value` at `at`. */
function twoDigits(target: Buffer, at: number, value: number): void {
  target[at] = 0x30 + Math.floor(value / 10);
  target[at + 1] = 0x30 + (value % 10);
}

/**
 * Writes a binary time as `"YYYY-MM-DDTHH:MM:SS.ffffffZ"` at `at` and returns the new length, or -1 for a time before
 * 1970 or too far ahead for a number to hold its microseconds exactly (past the year 2255).
 */
function writeTime(micros: number, at: number): number {
  const sinceUnix = micros + PG_EPOCH;
  if (!(sinceUnix >= 0 && Number.isSafeInteger(sinceUnix) && Number.isSafeInteger(micros))) return -1;
  const day = Math.floor(sinceUnix / MICROS_PER_DAY);
  if (day !== cachedDay) {
    cachedDate.write(new Date(day * 86_400_000).toISOString().slice(0, 10), 'latin1');
    cachedDay = day;
  }
  let rest = sinceUnix - day * MICROS_PER_DAY;
  const hours = Math.floor(rest / 3_600_000_000);
  rest -= hours * 3_600_000_000;
  const minutes = Math.floor(rest / 60_000_000);
  rest -= minutes * 60_000_000;
  const seconds = Math.floor(rest / 1_000_000);
  let fraction = rest - seconds * 1_000_000;

  scratch[at++] = QUOTE;
  for (let index = 0; index < 10; index += 1) scratch[at++] = cachedDate[index]!;
  scratch[at++] = 0x54; // T
  twoDigits(scratch, at, hours);
  scratch[at + 2] = 0x3a;
  twoDigits(scratch, at + 3, minutes);
  scratch[at + 5] = 0x3a;
  twoDigits(scratch, at + 6, seconds);
  scratch[at + 8] = 0x2e;
  for (let index = 14; index > 8; index -= 1) {
    scratch[at + index] = 0x30 + (fraction % 10);
    fraction = Math.floor(fraction / 10);
  }
  at += 15;
  scratch[at++] = 0x5a; // Z
  scratch[at++] = QUOTE;
  return at;
}

/** Writes a 16-byte UUID field as a quoted lower-case UUID, or null, at `at` and returns the new length (-1 if malformed). */
function writeUuid(row: Uint8Array, field: number, at: number): number {
  const length = lengths[field]!;
  if (length < 0) return writeNull(at);
  if (length !== UUID_BYTES) return -1;
  const from = starts[field]!;
  scratch[at++] = QUOTE;
  for (let index = 0; index < UUID_BYTES; index += 1) {
    if (index === 4 || index === 6 || index === 8 || index === 10) scratch[at++] = 0x2d;
    const byte = row[from + index]!;
    scratch[at++] = HEX[byte >> 4]!;
    scratch[at++] = HEX[byte & 15]!;
  }
  scratch[at++] = QUOTE;
  return at;
}

function writeNull(at: number): number {
  for (let index = 0; index < NULL_TEXT.length; index += 1) scratch[at++] = NULL_TEXT[index]!;
  return at;
}

/**
 * Writes a text field as a JSON string (or null) at `at` and returns the new length, or -1 when the field needs
 * escaping in JSON or is not plain ASCII.
 */
function writeText(row: Uint8Array, field: number, at: number): number {
  const length = lengths[field]!;
  if (length < 0) return writeNull(at);
  const from = starts[field]!;
  scratch[at++] = QUOTE;
  for (let index = from; index < from + length; index += 1) {
    const byte = row[index]!;
    if (byte < 0x20 || byte > 0x7e || byte === QUOTE || byte === BACKSLASH) return -1;
    scratch[at++] = byte;
  }
  scratch[at++] = QUOTE;
  return at;
}

/**
 * Hashes the binary COPY row from `start` to `end` if it is a common entry, or returns null for the string path. It
 * copies the row's previous and stored hashes into `target` at `offset` and `offset + 32`, and returns its id and
 * recomputed hash.
 */
export function hashPlainRow(row: Uint8Array, start: number, end: number, target: Uint8Array, offset: number): RowHashes | null {
  if (((row[start]! << 8) | row[start + 1]!) !== FIELD_COUNT) return null;
  let at = start + 2;
  for (let field = 0; field < FIELD_COUNT; field += 1) {
    const length = int32(row, at);
    starts[field] = at + 4;
    lengths[field] = length;
    at += 4 + (length > 0 ? length : 0);
  }
  if (at !== end || lengths[0] !== 8 || lengths[1] !== 8 || lengths[9]! < 0 || lengths[10] !== HASH_BYTES || lengths[11] !== HASH_BYTES) return null;
  const id = int64(row, starts[0]!);
  if (!Number.isSafeInteger(id) || id < 1) return null;
  target.set(row.subarray(starts[10]!, starts[10]! + HASH_BYTES), offset);
  target.set(row.subarray(starts[11]!, starts[11]! + HASH_BYTES), offset + HASH_BYTES);

  const capacity = HASH_BYTES + PREFIX.length + 2 * (end - start) + 64;
  if (scratch.length < capacity) scratch = Buffer.allocUnsafe(capacity);
  scratch.set(row.subarray(starts[10]!, starts[10]! + HASH_BYTES), 0);
  let length = HASH_BYTES;
  for (let index = 0; index < PREFIX.length; index += 1) scratch[length++] = PREFIX[index]!;
  length = writeTime(int64(row, starts[1]!), length);
  if (length < 0) return null;
  scratch[length++] = COMMA;
  // Fields 2 to 8: organisation, actor, actor kind, action, subject type, subject id, request id.
  for (let field = 2; field <= 8; field += 1) {
    length = field === 2 || field === 3 ? writeUuid(row, field, length) : writeText(row, field, length);
    if (length < 0) return null;
    scratch[length++] = COMMA;
  }
  scratch.set(row.subarray(starts[9]!, starts[9]! + lengths[9]!), length);
  length += lengths[9]!;
  scratch[length++] = 0x5d;
  return { id, computedHash: hash('sha256', scratch.subarray(0, length), 'buffer') };
}
