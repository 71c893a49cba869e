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

/**
 * Encodes an entry as UTF-8 JSON: a fixed-order array of the fields with the details' keys sorted. JSON strings are
 * unambiguous, so no two different entries share an encoding.
 */
export function encodeEntry(fields: ChainFields): Buffer {
  const array = [
    ENCODING_VERSION,
    fields.occurredAt,
    fields.organisationId,
    fields.actorUserId,
    fields.actorKind,
    fields.action,
    fields.subjectType,
    fields.subjectId,
    fields.requestId,
    sortKeys(fields.details),
  ];
  return Buffer.from(JSON.stringify(array), 'utf8');
}

/** Computes an entry's hash: SHA-256 over the previous entry's hash followed by the entry's encoding. */
export function entryHash(previousHash: Uint8Array, fields: ChainFields): Buffer {
  // One-shot hashing of one buffer costs about half of a Hash object per entry, which matters over a million entries.
  const encoded = encodeEntry(fields);
  const input = Buffer.allocUnsafe(previousHash.length + encoded.length);
  input.set(previousHash, 0);
  encoded.copy(input, previousHash.length);
  return hash('sha256', input, 'buffer');
}

/** Converts a bytea value from either engine (Buffer on PostgreSQL, Uint8Array on PGlite) to a Buffer. */
export function toBuffer(value: Uint8Array | Buffer | string): Buffer {
  if (typeof value === 'string') {
    // A `\x…` hex literal, which is how bytea reaches a text column or an export.
    return Buffer.from(value.startsWith('\\x') ? value.slice(2) : value, 'hex');
  }
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}
