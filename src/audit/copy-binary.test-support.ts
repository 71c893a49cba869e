import { canonicalDetails, type ChainFields } from './chain.ts';

/** An audit_log row as the verifier's binary COPY query returns it. */
export interface CopyRowValues {
  id: number;
  fields: ChainFields;
  /** The stored details text; the canonical text of `fields.details` when absent. */
  detailsText?: string;
  prevHash: Uint8Array;
  entryHash: Uint8Array;
}

const PG_EPOCH_MS = Date.UTC(2000, 0, 1);

function field(value: Buffer | null): Buffer {
  const length = Buffer.alloc(4);
  length.writeInt32BE(value === null ? -1 : value.length);
  return value === null ? length : Buffer.concat([length, value]);
}

function int64(value: bigint): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigInt64BE(value);
  return bytes;
}

/** Converts a `YYYY-MM-DDTHH:MM:SS.ffffffZ` time to microseconds since 2000, as binary COPY sends a timestamptz. */
function micros(occurredAt: string): bigint {
  const match = /^(.{19})\.(\d{6})Z$/.exec(occurredAt);
  if (!match) throw new Error(`${occurredAt} is not a time with six fraction digits.`);
  return BigInt(Date.parse(`${match[1]}Z`) - PG_EPOCH_MS) * 1000n + BigInt(match[2]!);
}

function uuid(value: string | null): Buffer | null {
  return value === null ? null : Buffer.from(value.replaceAll('-', ''), 'hex');
}

function text(value: string | null): Buffer | null {
  return value === null ? null : Buffer.from(value, 'utf8');
}

/** Encodes one row: the field count, then each field's length and bytes. */
export function encodeCopyRow(row: CopyRowValues): Buffer {
  const { fields } = row;
  const count = Buffer.alloc(2);
  count.writeInt16BE(12);
  return Buffer.concat([
    count,
    field(int64(BigInt(row.id))),
    field(int64(micros(fields.occurredAt))),
    field(uuid(fields.organisationId)),
    field(uuid(fields.actorUserId)),
    field(text(fields.actorKind)),
    field(text(fields.action)),
    field(text(fields.subjectType)),
    field(text(fields.subjectId)),
    field(text(fields.requestId)),
    field(text(row.detailsText ?? canonicalDetails(fields.details))),
    field(Buffer.from(row.prevHash)),
    field(Buffer.from(row.entryHash)),
  ]);
}

const HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
const TRAILER = Buffer.from([0xff, 0xff]);

/** Wraps encoded rows in binary COPY streams of `perStream` rows each, as the embedded engine sends its pages. */
export function binaryCopy(rows: readonly Buffer[], perStream = Infinity): Buffer {
  const parts: Buffer[] = [];
  for (let start = 0; start === 0 || start < rows.length; start += perStream) {
    parts.push(HEADER, ...rows.slice(start, start + perStream), TRAILER);
  }
  return Buffer.concat(parts);
}
