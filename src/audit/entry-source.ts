import fs from 'node:fs';
import readline from 'node:readline';
import type { Database } from '../db/database.ts';
import { validationError } from '../errors.ts';
import type { RawConnection } from '../db/connection.ts';
import { StoredFields, toBuffer } from './chain.ts';
import { copyRowBatches, EMPTY_COPY_BYTES, forEachRow, formatMicros, formatUuid, int32, int64 } from './copy-binary.ts';
import type { StoredEntry } from './chain-verifier.ts';

/** Entries per COPY on the embedded engine, which buffers a whole COPY output in memory. */
const EMBEDDED_PAGE = 50_000;

/** Bytes of COPY rows parsed at a time when reading entries one by one. */
const READ_BATCH_BYTES = 256 * 1024;

/** Columns of a binary COPY row, in the order `parseCopyRow` and the fast hashing path read them. */
const ENTRY_COLUMNS = 'id, occurred_at, organisation_id, actor_user_id, actor_kind, action, subject_type, subject_id, request_id, details, prev_hash, entry_hash';
const FIELD_COUNT = 12;

export interface EntryRange {
  fromId: number;
  /** Last id to read; unbounded when absent. */
  toId?: number;
}

/** Finds the fields of the row at `start`, each as its start and length (-1 for null). */
function rowFields(bytes: Uint8Array, start: number): Array<{ at: number; length: number }> {
  const count = (bytes[start]! << 8) | bytes[start + 1]!;
  if (count !== FIELD_COUNT) throw new Error(`An audit_log COPY row has ${count} fields instead of ${FIELD_COUNT}.`);
  const fields: Array<{ at: number; length: number }> = [];
  let at = start + 2;
  for (let index = 0; index < count; index += 1) {
    const length = int32(bytes, at);
    fields.push({ at: at + 4, length });
    at += 4 + Math.max(length, 0);
  }
  return fields;
}

/** Parses one row of `COPY (select ENTRY_COLUMNS …) TO STDOUT (FORMAT binary)` into a stored entry. */
export function parseCopyRow(bytes: Uint8Array, start: number): StoredEntry {
  const fields = rowFields(bytes, start);
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = (index: number): string | null => {
    const { at, length } = fields[index]!;
    return length < 0 ? null : view.toString('utf8', at, at + length);
  };
  const required = (index: number, column: string): string => {
    const value = text(index);
    if (value === null) throw new Error(`An audit_log COPY row has no ${column}.`);
    return value;
  };
  const uuid = (index: number): string | null => {
    const { at, length } = fields[index]!;
    return length < 0 ? null : formatUuid(bytes, at);
  };
  const bytesOf = (index: number): Buffer => {
    const { at, length } = fields[index]!;
    return Buffer.from(view.subarray(at, at + Math.max(length, 0)));
  };
  const stored = new StoredFields(
    formatMicros(view.readBigInt64BE(fields[1]!.at)),
    uuid(2),
    uuid(3),
    required(4, 'actor_kind'),
    required(5, 'action'),
    required(6, 'subject_type'),
    text(7),
    text(8),
    required(9, 'details'),
  );
  return { id: int64(bytes, fields[0]!.at), fields: stored, prevHash: bytesOf(10), entryHash: bytesOf(11) };
}

function rangeSql(fromId: number, toId: number | undefined): string {
  const upper = toId === undefined ? '' : ` and id <= ${toId}`;
  return `copy (select ${ENTRY_COLUMNS} from audit_log where id >= ${fromId}${upper} order by id) to stdout with (format binary)`;
}

/**
 * Runs `work` on one connection in the platform scope (the audit log is read across organisations) inside a read-only
 * transaction, so every page sees the same snapshot. It runs as the owner because the embedded engine writes COPY output
 * through a server-side file, which only the owner may do; verification and export are maintenance commands.
 */
export async function withAuditSnapshot<T>(db: Database, work: (raw: RawConnection) => Promise<T>): Promise<T> {
  return db.withConnection('owner', async (raw) => {
    await raw.query('begin isolation level repeatable read read only');
    try {
      await raw.query(`select set_config('civic.platform', 'on', true)`);
      const result = await work(raw);
      await raw.query('commit');
      return result;
    } catch (error) {
      await raw.query('rollback');
      throw error;
    }
  });
}

/**
 * Streams the entries in id order over a held connection as binary COPY output: one COPY on PostgreSQL; keyset pages
 * of COPY on the embedded engine, whose COPY output is held in memory whole. Each page is a COPY stream of its own.
 */
export async function* readEntryCopy(raw: RawConnection, engine: Database['engine'], range: EntryRange): AsyncGenerator<Buffer> {
  if (engine === 'postgres') {
    yield* raw.copyTo(rangeSql(range.fromId, range.toId));
    return;
  }
  let from = range.fromId;
  for (;;) {
    const to = range.toId === undefined ? from + EMBEDDED_PAGE - 1 : Math.min(range.toId, from + EMBEDDED_PAGE - 1);
    let bytes = 0;
    for await (const chunk of raw.copyTo(rangeSql(from, to))) {
      bytes += chunk.length;
      yield chunk;
    }
    if (range.toId !== undefined && to >= range.toId) return;
    // A page with no rows may be a gap of deleted entries; stop only when nothing lies beyond it.
    if (bytes <= EMPTY_COPY_BYTES) {
      const { rows } = await raw.query<{ next: number | null }>(`select min(id) as next from audit_log where id > ${to}`);
      const next = rows[0]?.next;
      if (next === null || next === undefined) return;
      from = Number(next);
      continue;
    }
    from = to + 1;
  }
}

/** Streams entries in id order over a held connection (see `readEntryCopy`). */
export async function* readEntries(raw: RawConnection, engine: Database['engine'], range: EntryRange): AsyncGenerator<StoredEntry> {
  for await (const batch of copyRowBatches(readEntryCopy(raw, engine, range), READ_BATCH_BYTES)) {
    const entries: StoredEntry[] = [];
    forEachRow(batch, (start) => entries.push(parseCopyRow(batch, start)));
    yield* entries;
  }
}

/** One line of a JSON Lines export: the stored columns, hashes in hex. */
export interface ExportedEntry {
  id: number;
  occurred_at: string;
  organisation_id: string | null;
  actor_user_id: string | null;
  actor_kind: string;
  action: string;
  subject_type: string;
  subject_id: string | null;
  request_id: string | null;
  details: unknown;
  prev_hash: string;
  entry_hash: string;
}

export function toExported(entry: StoredEntry): ExportedEntry {
  const { fields } = entry;
  return {
    id: entry.id,
    occurred_at: fields.occurredAt,
    organisation_id: fields.organisationId,
    actor_user_id: fields.actorUserId,
    actor_kind: fields.actorKind,
    action: fields.action,
    subject_type: fields.subjectType,
    subject_id: fields.subjectId,
    request_id: fields.requestId,
    details: fields.details,
    prev_hash: entry.prevHash.toString('hex'),
    entry_hash: entry.entryHash.toString('hex'),
  };
}

const HEX_HASH = /^[0-9a-f]{64}$/;

function fromExported(value: unknown, lineNumber: number, file: string): StoredEntry {
  const where = `${file} line ${lineNumber}`;
  if (value === null || typeof value !== 'object') throw validationError('export_file_invalid', `${where} is not a JSON object.`);
  const line = value as Partial<ExportedEntry>;
  if (!Number.isSafeInteger(line.id) || (line.id as number) < 1) throw validationError('export_file_invalid', `${where} has no valid "id" (a whole number from 1).`);
  for (const key of ['prev_hash', 'entry_hash'] as const) {
    if (typeof line[key] !== 'string' || !HEX_HASH.test(line[key])) throw validationError('export_file_invalid', `${where} has no valid "${key}" (64 hexadecimal digits).`);
  }
  for (const key of ['occurred_at', 'actor_kind', 'action', 'subject_type'] as const) {
    if (typeof line[key] !== 'string') throw validationError('export_file_invalid', `${where} has no "${key}" text.`);
  }
  return {
    id: line.id as number,
    fields: {
      occurredAt: line.occurred_at as string,
      organisationId: line.organisation_id ?? null,
      actorUserId: line.actor_user_id ?? null,
      actorKind: line.actor_kind as string,
      action: line.action as string,
      subjectType: line.subject_type as string,
      subjectId: line.subject_id ?? null,
      requestId: line.request_id ?? null,
      details: line.details ?? {},
    },
    prevHash: toBuffer(line.prev_hash as string),
    entryHash: toBuffer(line.entry_hash as string),
  };
}

/** Reads an export written by `civic audit export`, in file order, skipping blank lines. */
export async function* readExportFile(file: string, range: EntryRange): AsyncGenerator<StoredEntry> {
  const lines = readline.createInterface({ input: fs.createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let lineNumber = 0;
  for await (const text of lines) {
    lineNumber += 1;
    if (text.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw validationError('export_file_invalid', `${file} line ${lineNumber} is not valid JSON (${(error as Error).message}).`);
    }
    const entry = fromExported(parsed, lineNumber, file);
    if (entry.id < range.fromId) continue;
    if (range.toId !== undefined && entry.id > range.toId) continue;
    yield entry;
  }
}
