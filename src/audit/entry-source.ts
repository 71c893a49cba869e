import fs from 'node:fs';
import readline from 'node:readline';
import { StringDecoder } from 'node:string_decoder';
import type { Database } from '../db/database.ts';
import type { RawConnection } from '../db/connection.ts';
import { OCCURRED_AT_SQL, StoredFields, toBuffer } from './chain.ts';
import type { StoredEntry } from './chain-verifier.ts';

/** Entries per COPY on the embedded engine, which buffers a whole COPY output in memory. */
const EMBEDDED_PAGE = 50_000;

/** Columns in the order both the COPY reader and the JSON Lines export use. */
const ENTRY_COLUMNS = `id, ${OCCURRED_AT_SQL}, organisation_id, actor_user_id, actor_kind, action, subject_type, subject_id, request_id, details, encode(prev_hash, 'hex'), encode(entry_hash, 'hex')`;

export interface EntryRange {
  fromId: number;
  /** Last id to read; unbounded when absent. */
  toId?: number;
}

/** Undoes the escapes of PostgreSQL's COPY text format in one field; `\N` (null) is handled by the caller. */
function unescapeCopyText(field: string): string {
  if (!field.includes('\\')) return field;
  return field.replace(/\\(.)/g, (_match, char: string) => {
    switch (char) {
      case 'b': return '\b';
      case 'f': return '\f';
      case 'n': return '\n';
      case 'r': return '\r';
      case 't': return '\t';
      case 'v': return '\v';
      default: return char;
    }
  });
}

function nullable(field: string): string | null {
  return field === '\\N' ? null : unescapeCopyText(field);
}

/** Parses one line of `COPY (select ENTRY_COLUMNS …) TO STDOUT`. */
export function parseCopyLine(line: string): StoredEntry {
  const parts = line.split('\t');
  if (parts.length !== 12) throw new Error(`An audit_log COPY line has ${parts.length} fields instead of 12.`);
  const fields = new StoredFields(
    parts[1]!,
    nullable(parts[2]!),
    nullable(parts[3]!),
    unescapeCopyText(parts[4]!),
    unescapeCopyText(parts[5]!),
    unescapeCopyText(parts[6]!),
    nullable(parts[7]!),
    nullable(parts[8]!),
    unescapeCopyText(parts[9]!),
  );
  return { id: Number(parts[0]), fields, prevHash: Buffer.from(parts[10]!, 'hex'), entryHash: Buffer.from(parts[11]!, 'hex') };
}

function rangeSql(fromId: number, toId: number | undefined): string {
  const upper = toId === undefined ? '' : ` and id <= ${toId}`;
  return `copy (select ${ENTRY_COLUMNS} from audit_log where id >= ${fromId}${upper} order by id) to stdout`;
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
 * Streams the COPY text of the entries in id order over a held connection, one entry a line: one COPY on PostgreSQL;
 * keyset pages of COPY on the embedded engine, whose COPY output is held in memory whole.
 */
export async function* readEntryText(raw: RawConnection, engine: Database['engine'], range: EntryRange): AsyncGenerator<Buffer> {
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
    if (bytes === 0) {
      const { rows } = await raw.query<{ next: number | null }>(`select min(id) as next from audit_log where id > ${to}`);
      const next = rows[0]?.next;
      if (next === null || next === undefined) return;
      from = Number(next);
      continue;
    }
    from = to + 1;
  }
}

/** Splits a stream of UTF-8 bytes into lines without their line feeds. */
export async function* splitLines(chunks: AsyncIterable<Buffer>): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of chunks) {
    const text = rest + decoder.write(chunk);
    const lines = text.split('\n');
    rest = lines.pop()!;
    yield* lines;
  }
  rest += decoder.end();
  if (rest !== '') yield rest;
}

/** Streams entries in id order over a held connection (see `readEntryText`). */
export async function* readEntries(raw: RawConnection, engine: Database['engine'], range: EntryRange): AsyncGenerator<StoredEntry> {
  for await (const line of splitLines(readEntryText(raw, engine, range))) yield parseCopyLine(line);
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
  if (value === null || typeof value !== 'object') throw new Error(`${where} is not a JSON object.`);
  const line = value as Partial<ExportedEntry>;
  if (!Number.isSafeInteger(line.id) || (line.id as number) < 1) throw new Error(`${where} has no valid "id" (a whole number from 1).`);
  for (const key of ['prev_hash', 'entry_hash'] as const) {
    if (typeof line[key] !== 'string' || !HEX_HASH.test(line[key])) throw new Error(`${where} has no valid "${key}" (64 hexadecimal digits).`);
  }
  for (const key of ['occurred_at', 'actor_kind', 'action', 'subject_type'] as const) {
    if (typeof line[key] !== 'string') throw new Error(`${where} has no "${key}" text.`);
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
      throw new Error(`${file} line ${lineNumber} is not valid JSON (${(error as Error).message}).`);
    }
    const entry = fromExported(parsed, lineNumber, file);
    if (entry.id < range.fromId) continue;
    if (range.toId !== undefined && entry.id > range.toId) continue;
    yield entry;
  }
}
