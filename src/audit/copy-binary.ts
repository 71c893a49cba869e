/**
 * PostgreSQL's binary COPY format, as the audit log reader receives it: a header, then rows of length-prefixed fields,
 * then a trailer. The embedded engine sends one such stream per page, so a header may follow a trailer. Binary rows
 * need no unescaping, hashes arrive as their 32 bytes and times as integers, which makes them quicker to produce and
 * to read than COPY text.
 */

/** The 11 bytes every binary COPY stream starts with. */
const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** Signature, flags and the length of the header extension. */
const HEADER_BYTES = SIGNATURE.length + 8;
/** A row's field count is -1 in the trailer. */
const TRAILER = -1;
/** Length of the COPY output of no rows: a header without extension, and the trailer. */
export const EMPTY_COPY_BYTES = HEADER_BYTES + 2;

/** Reads a big-endian signed 32-bit integer. */
export function int32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
}

/** Reads a big-endian signed 16-bit integer. */
function int16(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16)) >> 16;
}

/** Reads a big-endian signed 64-bit integer as a number (exact up to 2^53). */
export function int64(bytes: Uint8Array, at: number): number {
  return int32(bytes, at) * 0x1_0000_0000 + (int32(bytes, at + 4) >>> 0);
}

/** Checks whether a COPY header (its signature) starts at `start`. A row cannot start so, as it would have 20,551 fields. */
function isHeader(bytes: Uint8Array, start: number): boolean {
  for (let index = 0; index < SIGNATURE.length; index += 1) if (bytes[start + index] !== SIGNATURE[index]) return false;
  return true;
}

function notBinaryCopy(): Error {
  return new Error('The audit log reader expected binary COPY output but received something else.');
}

/**
 * Returns where the unit (a header, a row or a trailer) starting at `start` ends, or -1 when `end` comes first. A
 * stream starts with a header, and a header may follow a trailer, when the embedded engine sends pages.
 */
function unitEnd(bytes: Uint8Array, start: number, end: number): number {
  if (start + 2 > end) return -1;
  if (bytes[start] === SIGNATURE[0]) {
    if (start + HEADER_BYTES > end) return -1;
    if (!isHeader(bytes, start)) throw notBinaryCopy();
    const headerEnd = start + HEADER_BYTES + int32(bytes, start + SIGNATURE.length + 4);
    return headerEnd > end ? -1 : headerEnd;
  }
  const count = int16(bytes, start);
  if (count === TRAILER) return start + 2;
  let at = start + 2;
  for (let field = 0; field < count; field += 1) {
    if (at + 4 > end) return -1;
    const length = int32(bytes, at);
    at += 4 + (length > 0 ? length : 0);
  }
  return at > end ? -1 : at;
}

/** Returns the end of the last whole unit found walking from `start` (itself the end of a whole unit) up to `end`. */
function wholeUnits(bytes: Uint8Array, start: number, end: number): number {
  let at = start;
  for (let next = unitEnd(bytes, at, end); next !== -1; next = unitEnd(bytes, at, end)) at = next;
  return at;
}

/**
 * Cuts binary COPY streams into batches of whole units (rows, and the headers and trailers between streams) of about
 * `batchBytes` each. Each batch is a view over a buffer of its own, which can be transferred to a worker thread; the
 * bytes are copied once. Throws when the output ends part-way through a row or a header.
 */
export async function* copyRowBatches(chunks: AsyncIterable<Buffer>, batchBytes: number): AsyncGenerator<Uint8Array<ArrayBuffer>> {
  let batch = new Uint8Array(2 * batchBytes);
  let length = 0;
  let whole = 0;
  let started = false;
  for await (const chunk of chunks) {
    for (let offset = 0; offset < chunk.length; ) {
      const copied = Math.min(batch.length - length, chunk.length - offset);
      batch.set(chunk.subarray(offset, offset + copied), length);
      length += copied;
      offset += copied;
      if (!started && length >= SIGNATURE.length) {
        if (!isHeader(batch, 0)) throw notBinaryCopy();
        started = true;
      }
      whole = wholeUnits(batch, whole, length);
      if (whole < batchBytes && length < batch.length) continue;
      // A full buffer without one whole unit contains a single row longer than the buffer, so make room for it.
      const next = new Uint8Array(whole === 0 ? 2 * batch.length : Math.max(2 * batchBytes, 2 * (length - whole)));
      next.set(batch.subarray(whole, length));
      if (whole > 0) yield batch.subarray(0, whole);
      batch = next;
      length -= whole;
      whole = wholeUnits(batch, 0, length);
    }
  }
  if (whole !== length) throw new Error('The audit log COPY output ended part-way through an entry; run the command again.');
  if (length > 0) yield batch.subarray(0, length);
}

/** Calls `visit` with the start and end of every row in a batch of whole units, skipping headers and trailers. */
export function forEachRow(batch: Uint8Array, visit: (start: number, end: number) => void): void {
  for (let start = 0; start < batch.length; ) {
    const end = unitEnd(batch, start, batch.length);
    if (end === -1) throw new Error('A batch of audit log COPY rows ends part-way through a row.');
    if (!isHeader(batch, start) && int16(batch, start) !== TRAILER) visit(start, end);
    start = end;
  }
}

/** Microseconds from 1970 to 2000, the epoch of PostgreSQL's binary times. */
export const PG_EPOCH_MICROS = 946_684_800_000_000n;
const INFINITY_MICROS = 2n ** 63n - 1n;

/**
 * Formats a binary `timestamptz` (microseconds since 2000-01-01 UTC) as `formatOccurredAt` would: UTC with six
 * fraction digits. The infinities come out as PostgreSQL writes them.
 */
export function formatMicros(micros: bigint): string {
  if (micros === INFINITY_MICROS) return 'infinity';
  if (micros === -INFINITY_MICROS - 1n) return '-infinity';
  const sinceUnix = micros + PG_EPOCH_MICROS;
  let seconds = sinceUnix / 1_000_000n;
  if (seconds * 1_000_000n > sinceUnix) seconds -= 1n;
  const fraction = sinceUnix - seconds * 1_000_000n;
  const date = new Date(Number(seconds) * 1000);
  // Beyond the range of a JavaScript date; such an entry cannot match its hash, and the report names it.
  if (Number.isNaN(date.getTime())) return `${micros} microseconds after 2000`;
  // toISOString ends in ".000Z" here, since the milliseconds are zero.
  return `${date.toISOString().slice(0, -5)}.${String(fraction).padStart(6, '0')}Z`;
}

const HEX_DIGITS = '0123456789abcdef';

/** Formats 16 bytes as a lower-case UUID, as PostgreSQL writes one. */
export function formatUuid(bytes: Uint8Array, at: number): string {
  let text = '';
  for (let index = 0; index < 16; index += 1) {
    if (index === 4 || index === 6 || index === 8 || index === 10) text += '-';
    const byte = bytes[at + index]!;
    text += HEX_DIGITS[byte >> 4]! + HEX_DIGITS[byte & 15]!;
  }
  return text;
}
