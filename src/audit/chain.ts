import { hash } from 'node:crypto';

/** Length in bytes of every hash in the chain and the Merkle tree (SHA-256). */
export const HASH_BYTES = 32;

/** The `prev_hash` of entry 1: 32 zero bytes, since nothing comes before it. */
export const GENESIS_HASH = Buffer.alloc(HASH_BYTES);

/** Tag at the start of every encoded entry, so a later change of encoding can be told apart. */
const ENCODING_VERSION = 'civic-audit-v1';

/** The fields of one audit entry that its hash covers, as text exactly as they are stored. */
export interface ChainFields {
  /** UTC time with microseconds, `YYYY-MM-DDTHH:MM:SS.ffffffZ` (see `formatOccurredAt`). */
  occurredAt: string;
  organisationId: string | null;
  actorUserId: string | null;
  actorKind: string;
  action: string;
  subjectType: string;
  subjectId: string | null;
  requestId: string | null;
  /** The details object; key order does not matter because the encoding sorts keys. */
  details: unknown;
  /** The details as the log stores them, when the entry was read back; `rehashStored` hashes this text first. */
  readonly detailsText?: string;
}

/**
 * Formats a timestamp the way the hash covers it: UTC with six fraction digits, matching PostgreSQL's
 * `to_char(t at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`, so a value read back from the database encodes
 * exactly as it did when appended.
 */
export function formatOccurredAt(date: Date): string {
  const iso = date.toISOString();
  return `${iso.slice(0, 23)}000Z`;
}

/** SQL that renders `occurred_at` in the form `formatOccurredAt` produces. */
export const OCCURRED_AT_SQL = `to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Returns a copy of a JSON value with every object's keys sorted, so equal values encode to equal text. */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) sorted[key] = sortKeys((value as Record<string, unknown>)[key]);
    return sorted;
  }
  return value;
}

/** Encodes the details as the hash covers them, which is also the text the appender stores. */
export function canonicalDetails(details: unknown): string {
  return JSON.stringify(sortKeys(details));
}

export const ENCODING_PREFIX = `[${JSON.stringify(ENCODING_VERSION)},`;

/** Printable ASCII other than the quote and the backslash: the strings JSON writes between quotes as they are. */
const PLAIN_JSON_STRING = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** Encodes a string or null as `JSON.stringify` does, in about half its time for the plain ASCII most fields are. */
function jsonString(value: string | null): string {
  if (value === null) return 'null';
  return PLAIN_JSON_STRING.test(value) ? `"${value}"` : JSON.stringify(value);
}

/**
 * Encodes an entry as JSON text: a fixed-order array of the fields, ending with the details already encoded. JSON
 * strings are unambiguous, so no two different entries share an encoding. The text equals `JSON.stringify` of the
 * array, so entries hashed before this function was split out still verify.
 */
function encodeText(fields: ChainFields, detailsJson: string): string {
  const strings = [fields.occurredAt, fields.organisationId, fields.actorUserId, fields.actorKind, fields.action, fields.subjectType, fields.subjectId, fields.requestId];
  let text = ENCODING_PREFIX;
  for (const value of strings) text += `${jsonString(value)},`;
  return `${text}${detailsJson}]`;
}

/** Encodes an entry as UTF-8: the fields in a fixed order with the details' keys sorted. */
export function encodeEntry(fields: ChainFields): Buffer {
  return Buffer.from(encodeText(fields, canonicalDetails(fields.details)), 'utf8');
}

// One buffer reused for every hash input: verifying a million entries otherwise allocates a million of them.
let scratch = Buffer.allocUnsafe(4096);

/** Hashes the previous hash followed by the UTF-8 of `text` with SHA-256, as one buffer in one call. */
function hashLinked(previousHash: Uint8Array, text: string): Buffer {
  // UTF-8 takes at most three bytes for each UTF-16 code unit.
  const capacity = previousHash.length + text.length * 3;
  if (scratch.length < capacity) scratch = Buffer.allocUnsafe(capacity);
  scratch.set(previousHash, 0);
  const written = scratch.write(text, previousHash.length, 'utf8');
  return hash('sha256', scratch.subarray(0, previousHash.length + written), 'buffer');
}

/** Computes an entry's hash: SHA-256 over the previous entry's hash followed by the entry's encoding. */
export function entryHash(previousHash: Uint8Array, fields: ChainFields): Buffer {
  return hashLinked(previousHash, encodeText(fields, canonicalDetails(fields.details)));
}

/**
 * Recomputes the hash of an entry read back from the log. The stored details text is hashed as it is first: it
 * matches for every entry the appender wrote, and parsing and re-encoding a million details objects was most of the
 * cost of a verification. Only when that hash differs from the stored one (an entry written before the details column
 * kept its text, or an altered entry) are the details parsed and re-encoded with sorted keys.
 */
export function rehashStored(previousHash: Uint8Array, fields: ChainFields, storedHash: Uint8Array): Buffer {
  if (fields.detailsText !== undefined) {
    const asStored = hashLinked(previousHash, encodeText(fields, fields.detailsText));
    if (asStored.equals(storedHash)) return asStored;
  }
  return entryHash(previousHash, fields);
}

/** Fields read back from the log. The details text is parsed only on first use of `details`. */
export class StoredFields implements ChainFields {
  #details: unknown;
  #parsed = false;

  constructor(
    readonly occurredAt: string,
    readonly organisationId: string | null,
    readonly actorUserId: string | null,
    readonly actorKind: string,
    readonly action: string,
    readonly subjectType: string,
    readonly subjectId: string | null,
    readonly requestId: string | null,
    readonly detailsText: string,
  ) {}

  get details(): unknown {
    if (!this.#parsed) {
      this.#details = JSON.parse(this.detailsText);
      this.#parsed = true;
    }
    return this.#details;
  }
}

/** Converts a bytea value from either engine (Buffer on PostgreSQL, Uint8Array on PGlite) to a Buffer. */
export function toBuffer(value: Uint8Array | Buffer | string): Buffer {
  if (typeof value === 'string') {
    // A `\x…` hex literal, which is how bytea reaches a text column or an export.
    return Buffer.from(value.startsWith('\\x') ? value.slice(2) : value, 'hex');
  }
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}
