import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { RawConnection } from '../db/connection.ts';
import type { Database, EngineName } from '../db/database.ts';
import { copyIntoTable } from './copy-into.ts';

/** Size in bytes and SHA-256 (hex) of a stored original file. */
export interface FileFacts {
  byteSize: number;
  sha256: string;
}

const MEDIA_TYPES: Record<string, string> = {
  csv: 'text/csv',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  ods: 'application/vnd.oasis.opendocument.spreadsheet',
};

export function mediaTypeOf(format: string): string {
  return MEDIA_TYPES[format] ?? 'application/octet-stream';
}

/** The file name without folders, for display and download. */
export function baseFilename(filename: string): string {
  return path.basename(filename.replaceAll('\\', '/')) || 'upload';
}

// PostgreSQL's binary COPY format: signature, flags and header-extension length, then tuples, then a -1 trailer.
const BINARY_COPY_HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
const BINARY_COPY_TRAILER = Buffer.from([0xff, 0xff]);

function binaryUuid(uuid: string): Buffer {
  const field = Buffer.alloc(4 + 16);
  field.writeInt32BE(16, 0);
  Buffer.from(uuid.replaceAll('-', ''), 'hex').copy(field, 4);
  return field;
}

/**
 * Yields one binary COPY tuple (resource id, organisation id, file content), streamed from disk. Once the stream
 * ends, `facts` receives the size and SHA-256 of the bytes sent.
 */
async function* binaryCopyOfFile(resourceId: string, organisationId: string, filePath: string, byteSize: number, facts: FileFacts): AsyncGenerator<Buffer> {
  const fieldCount = Buffer.alloc(2);
  fieldCount.writeInt16BE(3, 0);
  const contentLength = Buffer.alloc(4);
  contentLength.writeInt32BE(byteSize, 0);
  yield Buffer.concat([BINARY_COPY_HEADER, fieldCount, binaryUuid(resourceId), binaryUuid(organisationId), contentLength]);
  const hash = createHash('sha256');
  let sent = 0;
  for await (const chunk of fs.createReadStream(filePath, { highWaterMark: 1024 * 1024 })) {
    hash.update(chunk as Buffer);
    sent += (chunk as Buffer).length;
    if (sent > byteSize) break;
    yield chunk as Buffer;
  }
  if (sent !== byteSize) throw new Error(`${filePath} changed size while it was stored (${byteSize} bytes expected); the load was rolled back.`);
  facts.byteSize = sent;
  facts.sha256 = hash.digest('hex');
  yield BINARY_COPY_TRAILER;
}

async function* oneChunk(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  yield Buffer.concat(parts);
}

/**
 * Stages the original bytes of a loaded file in a temporary table, inside the caller's transaction, through a binary
 * COPY, and returns their size and SHA-256. `saveStagedOriginalFile` later moves them into `resource_files`, once the resource row exists. Staging needs
 * no analysis of the file, so on PostgreSQL the import runs it while the analysis reads the same file: the server
 * compresses and writes the bytes while this process tokenizes.
 *
 * On PostgreSQL the file streams from disk, so this process never keeps the whole file in memory. PGlite runs
 * inside this process and loads each COPY statement whole, so there the file goes in as one chunk (one statement).
 * A query parameter is no way round that: PGlite 0.5 failed to encode a 160 MB bytea parameter (RangeError).
 * The temporary table copies the column's compression, so the later insert moves the compressed value without
 * compressing it again. COPY cannot write to `resource_files` itself, because row-level security forbids COPY FROM on
 * such tables.
 */
async function stageOriginalFile(
  engine: EngineName,
  raw: RawConnection,
  values: { resourceId: string; organisationId: string; filePath: string; byteSize: number },
): Promise<FileFacts> {
  await raw.query('create temporary table civic_original_file (like resource_files including compression) on commit drop');
  const facts: FileFacts = { byteSize: 0, sha256: '' };
  const tuple = binaryCopyOfFile(values.resourceId, values.organisationId, values.filePath, values.byteSize, facts);
  await copyIntoTable(
    engine,
    raw,
    'copy civic_original_file (resource_id, organisation_id, content) from stdin with (format binary)',
    engine === 'pglite' ? oneChunk(tuple) : tuple,
  );
  return facts;
}

/** Moves the file staged by `stageOriginalFile` into `resource_files`. The resource row must exist by then. */
async function saveStagedOriginalFile(raw: RawConnection): Promise<void> {
  await raw.query('insert into resource_files (resource_id, organisation_id, content) select resource_id, organisation_id, content from civic_original_file');
  await raw.query('drop table civic_original_file');
}

/**
 * The original file of an import, stored while the analysis reads it: either uploaded on a connection of its own
 * (PostgreSQL) or staged in a temporary table on the import's connection (PGlite, or a pool of one connection).
 */
export interface OriginalFile {
  /** Resolves with the file's size and SHA-256 once it is stored. */
  readonly stored: Promise<FileFacts>;
  /** Resolves when the import's connection is free for other statements. */
  readonly connectionFree: Promise<unknown>;
  /** Moves the file into `resource_files`, inside the import's transaction, once the resource row exists. */
  attach(raw: RawConnection, resourceId: string): Promise<void>;
  /** Removes an uploaded file after the import failed; the rollback removes a staged one. */
  discard(): Promise<void>;
}

interface OriginalFileValues {
  resourceId: string;
  organisationId: string;
  filePath: string;
  byteSize: number;
}

/**
 * Starts storing the original file: into `file_uploads` on another pooled connection when PostgreSQL has one to spare,
 * otherwise staged on the import's own connection. `scope` sets the tenant on the upload's connection.
 */
export function storeOriginalFile(db: Database, raw: RawConnection, values: OriginalFileValues, scope: (raw: RawConnection) => Promise<void>): OriginalFile {
  if (db.engine === 'pglite' || db.connectionLimit < 2) {
    const stored = stageOriginalFile(db.engine, raw, values);
    return { stored, connectionFree: stored, attach: saveStagedOriginalFile, discard: async () => {} };
  }
  const uploadId = randomUUID();
  const stored = db.withConnection('app', async (upload) => {
    await upload.query('begin');
    try {
      await scope(upload);
      const facts: FileFacts = { byteSize: 0, sha256: '' };
      const tuple = binaryCopyOfFile(uploadId, values.organisationId, values.filePath, values.byteSize, facts);
      await upload.copyFrom('copy file_uploads (id, organisation_id, content) from stdin with (format binary)', tuple);
      await upload.query('commit');
      return facts;
    } catch (error) {
      await upload.query('rollback').catch(() => undefined);
      throw error;
    }
  });
  return {
    stored,
    connectionFree: Promise.resolve(),
    attach: async (importRaw, resourceId) => {
      await importRaw.query('select civic_attach_upload($1, $2)', [uploadId, resourceId]);
    },
    discard: async () => {
      const uploaded = await stored.then(
        () => true,
        () => false,
      );
      if (!uploaded) return;
      await db.withConnection('app', async (cleanup) => {
        await cleanup.query('begin');
        await scope(cleanup);
        await cleanup.query('select civic_discard_upload($1)', [uploadId]);
        await cleanup.query('commit');
      });
    },
  };
}
