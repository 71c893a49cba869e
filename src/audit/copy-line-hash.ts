import { hash } from 'node:crypto';
import { ENCODING_PREFIX, HASH_BYTES } from './chain.ts';

/**
 * Hashes one line of the verifier's COPY text straight from its bytes, making no strings at all. This works for the
 * common entry. Its text fields are plain (no byte below 0x20, no quote, no backslash), so each JSON string is the
 * bytes between quotes. Its details have no backslash, so the stored JSON text is the bytes as they are. Any other
 * line goes to the string path (`parseCopyLine` and `rehashStored`), which gives the same hash.
 */

const TAB = 0x09;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const FIELD_COUNT = 12;
const PREFIX = Buffer.from(ENCODING_PREFIX, 'utf8');
const NULL_TEXT = Buffer.from('null', 'utf8');

/** A line's id and its two stored hashes, decoded into the caller's buffer, and the recomputed hash. */
export interface LineHashes {
  id: number;
  computedHash: Buffer;
}

// Reused for every line: the previous hash, then the encoded entry.
let scratch = Buffer.allocUnsafe(8192);

// Reused for every line: where each field ends (the tab after it, or the line's end for the last).
const tabs = new Int32Array(FIELD_COUNT);

/** Returns where field `field` of the current line starts. */
function fieldStart(field: number): number {
  return field === 0 ? 0 : tabs[field - 1]! + 1;
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57;
  return -1;
}

/** Decodes 64 lowercase hexadecimal digits into `target` at `offset`; false when they are not exactly that. */
function decodeHash(line: Uint8Array, start: number, end: number, target: Uint8Array, offset: number): boolean {
  if (end - start !== 2 * HASH_BYTES) return false;
  for (let index = 0; index < HASH_BYTES; index += 1) {
    const high = hexValue(line[start + 2 * index]!);
    const low = hexValue(line[start + 2 * index + 1]!);
    if (high < 0 || low < 0) return false;
    target[offset + index] = high * 16 + low;
  }
  return true;
}

/** Checks whether the bytes are a COPY null (`\N`). */
function isNull(line: Uint8Array, start: number, end: number): boolean {
  return end - start === 2 && line[start] === BACKSLASH && line[start + 1] === 0x4e;
}

/**
 * Copies a text field into `scratch` at `length` as a JSON string and returns the new length, or -1 when the field
 * needs escaping in JSON or carries a COPY escape (a byte below 0x20, a quote or a backslash).
 */
function copyPlainString(line: Uint8Array, start: number, end: number, length: number): number {
  let at = length;
  scratch[at++] = QUOTE;
  for (let index = start; index < end; index += 1) {
    const byte = line[index]!;
    if (byte < 0x20 || byte === QUOTE || byte === BACKSLASH) return -1;
    scratch[at++] = byte;
  }
  scratch[at++] = QUOTE;
  return at;
}

// Plain loops over the bytes throughout: Buffer's indexOf and copy cost more in argument checks than their work
// on fields this short.

/**
 * Hashes one COPY line (without its line feed) if it is a common entry: writes its previous and stored hashes into
 * `target` at `offset` and `offset + 32` and returns its id and recomputed hash, or returns null for the string path.
 */
export function hashPlainLine(line: Uint8Array, target: Uint8Array, offset: number): LineHashes | null {
  const end = line.length;
  let count = 0;
  for (let index = 0; index < end; index += 1) {
    if (line[index] !== TAB) continue;
    if (count === FIELD_COUNT - 1) return null;
    tabs[count++] = index;
  }
  if (count !== FIELD_COUNT - 1) return null;
  tabs[FIELD_COUNT - 1] = end;

  let id = 0;
  for (let index = 0; index < tabs[0]!; index += 1) {
    const digit = line[index]! - 0x30;
    if (digit < 0 || digit > 9) return null;
    id = id * 10 + digit;
  }
  if (tabs[0] === 0 || !Number.isSafeInteger(id)) return null;
  if (!decodeHash(line, fieldStart(10), tabs[10]!, target, offset)) return null;
  if (!decodeHash(line, fieldStart(11), tabs[11]!, target, offset + HASH_BYTES)) return null;

  const capacity = HASH_BYTES + PREFIX.length + end + 64;
  if (scratch.length < capacity) scratch = Buffer.allocUnsafe(capacity);
  for (let index = 0; index < HASH_BYTES; index += 1) scratch[index] = target[offset + index]!;
  let length = HASH_BYTES;
  for (let index = 0; index < PREFIX.length; index += 1) scratch[length++] = PREFIX[index]!;
  // Fields 1 to 8: occurred_at, organisation, actor, actor kind, action, subject type, subject id, request id.
  for (let field = 1; field <= 8; field += 1) {
    const from = fieldStart(field);
    const to = tabs[field]!;
    if (isNull(line, from, to)) {
      for (let index = 0; index < NULL_TEXT.length; index += 1) scratch[length++] = NULL_TEXT[index]!;
    } else {
      length = copyPlainString(line, from, to, length);
      if (length < 0) return null;
    }
    scratch[length++] = COMMA;
  }
  for (let index = fieldStart(9); index < tabs[9]!; index += 1) {
    const byte = line[index]!;
    if (byte === BACKSLASH) return null;
    scratch[length++] = byte;
  }
  scratch[length++] = 0x5d;
  return { id, computedHash: hash('sha256', scratch.subarray(0, length), 'buffer') };
}
