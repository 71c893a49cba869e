import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { RawConnection } from '../db/connection.ts';
import type { EngineName } from '../db/database.ts';
import { copyIntoTable } from './copy-into.ts';

export interface FileFacts {
  byteSize: number;
  sha256: string;
}

/** Reads a file once to measure it and hash it with SHA-256 (hex). */
export async function describeFile(filePath: string): Promise<FileFacts> {
  const hash = createHash('sha256');
  let byteSize = 0;
  for await (const chunk of fs.createReadStream(filePath)) {
    hash.update(chunk as Buffer);
    byteSize += (chunk as Buffer).length;
  }
  return { byteSize, sha256: hash.digest('hex') };
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

/** One binary COPY tuple (resource id, organisation id, file content), streamed from disk. */
async function* binaryCopyOfFile(resourceId: string, organisationId: string, filePath: string, byteSize: number): AsyncGenerator<Buffer> {
  const fieldCount = Buffer.alloc(2);
  fieldCount.writeInt16BE(3, 0);
  const contentLength = Buffer.alloc(4);
  contentLength.writeInt32BE(byteSize, 0);
  yield Buffer.concat([BINARY_COPY_HEADER, fieldCount, binaryUuid(resourceId), binaryUuid(organisationId), contentLength]);
  for await (const chunk of fs.createReadStream(filePath, { highWaterMark: 1024 * 1024 })) yield chunk as Buffer;
  yield BINARY_COPY_TRAILER;
}

async function* oneChunk(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  yield Buffer.concat(parts);
}

/**
 * Stores the original bytes of a loaded file in `resource_files`, inside the caller's transaction, through a binary
 * COPY into a temporary table.
 *
 * On PostgreSQL the file streams from disk, so this process never keeps the whole file in memory. PGlite runs
 * inside this process and loads each COPY statement whole, so there the file goes in as one chunk (one statement).
 * A query parameter is no way round that: PGlite 0.5 failed to encode a 160 MB bytea parameter (RangeError).
 * The temporary table copies the column's compression, so the insert moves the compressed value without compressing
 * it again. COPY cannot write to `resource_files` itself, because row-level security forbids COPY FROM on such tables.
 */
export async function storeOriginalFile(
  engine: EngineName,
  raw: RawConnection,
  values: { resourceId: string; organisationId: string; filePath: string; byteSize: number },
): Promise<void> {
  await raw.query('create temporary table civic_original_file (like resource_files including compression) on commit drop');
  const tuple = binaryCopyOfFile(values.resourceId, values.organisationId, values.filePath, values.byteSize);
  await copyIntoTable(
    engine,
    raw,
    'copy civic_original_file (resource_id, organisation_id, content) from stdin with (format binary)',
    engine === 'pglite' ? oneChunk(tuple) : tuple,
  );
  await raw.query('insert into resource_files (resource_id, organisation_id, content) select resource_id, organisation_id, content from civic_original_file');
  await raw.query('drop table civic_original_file');
}
