import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import fastifyMultipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ConfigError } from '../config.ts';
import { AppError, validationError } from '../errors.ts';
import type { Visibility } from './catalogue.types.ts';
import { baseFilename } from './original-file.ts';

export const DEFAULT_UPLOAD_MAX_MB = 512;

/** Reads CIVIC_UPLOAD_MAX_MB, the largest file the upload API and the portal's upload page accept, in mebibytes (default 512). */
export function uploadLimitBytes(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.CIVIC_UPLOAD_MAX_MB;
  if (raw === undefined || raw === '') return DEFAULT_UPLOAD_MAX_MB * 1024 * 1024;
  const megabytes = Number(raw);
  if (!Number.isInteger(megabytes) || megabytes < 1 || megabytes > 1023) {
    throw new ConfigError(`CIVIC_UPLOAD_MAX_MB is "${raw}", which is not a whole number from 1 to 1023. Set it to such a number or unset it to use ${DEFAULT_UPLOAD_MAX_MB}.`);
  }
  return megabytes * 1024 * 1024;
}

/** The maximum number of text fields an upload form may carry besides its file, and the maximum size of one, in bytes. */
const MAX_FIELDS = 16;
const MAX_FIELD_BYTES = 1024 * 1024;

/**
 * Registers the multipart parser on `app` with the upload limit, unless this plugin scope already has one. A file over
 * the limit is truncated rather than thrown at once, so receiveUpload still reads the fields sent after it.
 */
export async function registerUploadParser(app: FastifyInstance, maxBytes: number): Promise<void> {
  if (app.hasContentTypeParser('multipart/form-data')) return;
  await app.register(fastifyMultipart, { throwFileSizeLimit: false, limits: { fileSize: maxBytes, files: 1, fields: MAX_FIELDS, fieldSize: MAX_FIELD_BYTES, parts: MAX_FIELDS + 1 } });
}

/**
 * Turns the multipart plugin's limit errors (413s with messages such as "reach files limit") into 400s that tell the
 * client what to send instead. Other errors are returned unchanged.
 */
function describeFormLimit(error: unknown): unknown {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (code === 'FST_FILES_LIMIT') {
    return validationError('too_many_files', 'The form has more than one file. Send one file, in the form field "file".', [{ field: 'file', message: 'Send one file' }]);
  }
  if (code === 'FST_FIELDS_LIMIT' || code === 'FST_PARTS_LIMIT') {
    return validationError('too_many_fields', `The form has more than ${MAX_FIELDS} fields besides the file. Send each field at most once.`, []);
  }
  return error;
}

/** The file part of an upload, written to a temporary folder. */
export interface ReceivedFile {
  path: string;
  /** The file name without folders, `upload.csv` when the client sent none. */
  filename: string;
  /** The file name exactly as the client sent it: empty when a browser form was posted with no file chosen. */
  sentName: string;
  byteSize: number;
}

/** Builds the 413 for a file over the upload limit, in place of the multipart plugin's bare error. */
export function fileTooLarge(maxBytes: number): AppError {
  const megabytes = Math.round(maxBytes / 1_048_576);
  return new AppError(
    'too_large',
    'file_too_large',
    `The file is larger than the ${megabytes} MB this server accepts for an upload. Load it on the server with "civic import", ` +
      `or ask the server's operator to raise CIVIC_UPLOAD_MAX_MB (now ${megabytes}, at most 1023).`,
    { detail: `upload over ${maxBytes} bytes` },
  );
}

/**
 * Reads a multipart body: the text fields named in `allowed` into `fields`, and the one file part, in the form field
 * `file`, streamed to a file in `folder`. Returns the stored file, or null when the body had no file part. Another
 * field name or a second file is rejected with an AppError. A file over `maxBytes` is rejected with fileTooLarge
 * once the whole body is read, so `fields` then still contains every field the client sent.
 */
export async function receiveUpload<Name extends string>(
  request: FastifyRequest,
  folder: string,
  allowed: ReadonlySet<Name>,
  fields: Partial<Record<Name, string>>,
  maxBytes: number,
): Promise<ReceivedFile | null> {
  try {
    return await readParts(request, folder, allowed, fields, maxBytes);
  } catch (error) {
    throw describeFormLimit(error);
  }
}

async function readParts<Name extends string>(
  request: FastifyRequest,
  folder: string,
  allowed: ReadonlySet<Name>,
  fields: Partial<Record<Name, string>>,
  maxBytes: number,
): Promise<ReceivedFile | null> {
  let stored: ReceivedFile | null = null;
  let truncated = false;
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      if (part.fieldname !== 'file' || stored !== null) {
        part.file.resume();
        throw validationError('unexpected_file', `Send one file, in the form field "file" (got "${part.fieldname}").`, [{ field: part.fieldname, message: 'Send the file in the field "file"' }]);
      }
      const filename = baseFilename(part.filename || 'upload.csv');
      const target = path.join(folder, filename);
      await pipeline(part.file, fs.createWriteStream(target));
      stored = { path: target, filename, sentName: part.filename ?? '', byteSize: (await fs.promises.stat(target)).size };
      // At the limit the parser stops writing and marks the stream truncated, and it discards the rest of the file.
      truncated = part.file.truncated;
      continue;
    }
    const name = part.fieldname as Name;
    if (!allowed.has(name)) {
      throw validationError('unexpected_field', `The form field "${part.fieldname}" is not known. Send only file and ${[...allowed].join(', ')}.`, [{ field: part.fieldname, message: 'Unknown field' }]);
    }
    // The parser cuts a longer value at the limit without an error, so a cut value would otherwise be stored as sent.
    if (part.valueTruncated) {
      throw validationError('field_too_long', `The form field "${part.fieldname}" is longer than ${MAX_FIELD_BYTES / 1_048_576} MB. Shorten it.`, [{ field: part.fieldname, message: 'Shorten this field' }]);
    }
    fields[name] = String(part.value);
  }
  if (truncated) throw fileTooLarge(maxBytes);
  return stored;
}

/** Reads the `visibility` field: absent or empty keeps the dataset's visibility. */
export function checkVisibility(value: string | undefined): Visibility | undefined {
  if (value === undefined || value === '') return undefined;
  if (value !== 'private' && value !== 'open') {
    throw validationError('invalid_visibility', `Visibility "${value}" is not valid. Use private or open.`, [{ field: 'visibility', message: 'Use private or open' }]);
  }
  return value;
}

/**
 * Builds the 400 for an upload sent in another form than multipart/form-data, such as a bare CSV body or JSON.
 * `contentType` is the request's Content-Type header, named in the message when the client sent one.
 */
export function multipartRequired(contentType: string | undefined): AppError {
  const sent = contentType ? ` The request was sent as "${contentType.split(';')[0]!.trim()}".` : '';
  return validationError('multipart_required', `Send the file as multipart/form-data with the file in the field "file".${sent}`, [{ field: 'file', message: 'Send a file' }]);
}
