import fs from 'node:fs';
import path from 'node:path';
import { AppError, type ErrorKind } from '../errors.ts';
import type { LoadReport, Visibility } from './catalogue.types.ts';
import { METADATA_FIELD_NAMES, type MetadataFields } from './metadata-fields.ts';

export interface UploadRequest {
  /** Base URL of a running Civic Exchange server, such as `http://127.0.0.1:3000`. */
  server: string;
  token: string;
  filePath: string;
  organisation: string;
  dataset: string;
  title?: string;
  /** Dataset details, sent as the form fields of the same names. */
  metadata?: MetadataFields;
  /** Table Schema as JSON text, sent as it was read. */
  schema?: string;
  sheet?: string;
  visibility?: Visibility;
}

const KIND_BY_STATUS: Record<number, ErrorKind> = { 400: 'validation', 401: 'unauthenticated', 403: 'forbidden', 404: 'not_found', 409: 'conflict', 413: 'too_large', 429: 'rate_limited' };

/** The upload API address of a dataset on `server`. */
export function uploadUrl(server: string, organisation: string, dataset: string): URL {
  let base: URL;
  try {
    base = new URL(server);
  } catch {
    throw new AppError('validation', 'invalid_server_url', `--server "${server}" is not a URL. Give the server's base URL, such as http://127.0.0.1:3000.`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new AppError('validation', 'invalid_server_url', `--server "${server}" must start with http:// or https://.`);
  }
  const prefix = base.pathname.replace(/\/+$/, '');
  return new URL(`${prefix}/api/v1/organisations/${encodeURIComponent(organisation)}/datasets/${encodeURIComponent(dataset)}/resources`, base);
}

/**
 * Sends a file to a running server's upload API (multipart, streamed from disk) and returns the server's load report.
 * A rejected upload becomes an AppError carrying the server's message and the kind matching its status.
 */
export async function uploadFile(request: UploadRequest): Promise<LoadReport> {
  const url = uploadUrl(request.server, request.organisation, request.dataset);
  const form = new FormData();
  if (request.title !== undefined) form.append('title', request.title);
  for (const name of METADATA_FIELD_NAMES) {
    const value = request.metadata?.[name];
    if (value !== undefined) form.append(name, value);
  }
  if (request.schema !== undefined) form.append('schema', request.schema);
  if (request.sheet !== undefined) form.append('sheet', request.sheet);
  if (request.visibility !== undefined) form.append('visibility', request.visibility);
  // The file goes last, so the server has every field before it starts reading the file.
  form.append('file', await fs.openAsBlob(request.filePath), path.basename(request.filePath));

  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${request.token}` }, body: form });
  } catch (error) {
    const reason = (error as Error & { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new AppError('unavailable', 'server_unreachable', `Could not reach ${url.origin} (${reason}). Check --server and that the server is running.`);
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (response.ok && typeof body === 'object' && body !== null && 'resource_id' in body) return body as LoadReport;
  const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
  const kind = KIND_BY_STATUS[response.status] ?? 'unavailable';
  const message = error?.message ?? `The server at ${url.origin} returned status ${response.status} without a load report.`;
  throw new AppError(kind, error?.code ?? 'upload_failed', `${message} (HTTP ${response.status})`);
}
