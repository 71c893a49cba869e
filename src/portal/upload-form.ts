import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyRequest } from 'fastify';
import type { LoadReport, Visibility } from '../catalogue/catalogue.types.ts';
import { receiveUpload, type ReceivedFile } from '../catalogue/upload-body.ts';
import type { FieldError } from '../errors.ts';
import { requireApplication, requireMember } from '../http/auth.ts';
import { uploadFieldErrors } from './upload-errors.ts';

/** The extensions the importer reads, offered to the browser's file picker. */
export const ACCEPTED_EXTENSIONS = '.csv,.tsv,.txt,.tab,.psv,.xlsx,.xlsm,.ods';

/** The roles that may load a file, as on the upload API; administrators hold every role. */
export const UPLOADER_ROLES = ['data_steward'] as const;

/**
 * Builds the guards of the portal's upload pages, which admit a data steward or administrator whose organisation has
 * the Data workspace application. A token also needs the write scope, as on the upload API.
 */
export function uploaderGuards() {
  return [requireMember({ roles: [...UPLOADER_ROLES], scope: 'write' }), requireApplication('data_workspace')];
}

export const NO_FILE_MESSAGE = 'Select a CSV, XLSX or ODS file to upload';

export function readVisibility(value: string): Visibility | null {
  return value === 'private' || value === 'open' ? value : null;
}

/** Sorts errors into the order of the form's fields, so the error summary follows the page. */
export function inFormOrder(errors: FieldError[], order: readonly string[]): FieldError[] {
  return [...errors].sort((a, b) => order.indexOf(a.field) - order.indexOf(b.field));
}

/** The result of a posted upload form: the load report, or the errors to show with the form and its status. */
export type UploadFormResult = { report: LoadReport } | { errors: FieldError[]; status: number };

export interface UploadFormSteps<Name extends string> {
  /** The text fields the form may send besides `file`. */
  allowed: ReadonlySet<Name>;
  /** Receives the text fields as they are read, so the caller can show them again. */
  fields: Partial<Record<Name, string>>;
  maxBytes: number;
  /** Checks the text fields once the body is read, returning their errors; an error means the file is not loaded. */
  check: () => FieldError[] | Promise<FieldError[]>;
  /** Loads the received file through the import service. */
  load: (file: ReceivedFile) => Promise<LoadReport>;
  /** Ids logged with a rejection, such as the dataset slug. */
  logContext: Record<string, string>;
}

/**
 * Reads a posted upload form into a temporary folder, checks it and loads its file, then removes the folder. Errors
 * about the user's input (a missing, empty, unreadable or too large file, a sheet, the plan's limits, the catalogue's
 * rules for the text fields) come back as field errors. Any other error is thrown.
 */
export async function receiveUploadForm<Name extends string>(request: FastifyRequest, steps: UploadFormSteps<Name>): Promise<UploadFormResult> {
  if (!request.isMultipart()) return { errors: [{ field: 'file', message: NO_FILE_MESSAGE }, ...(await steps.check())], status: 400 };

  const folder = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'civic-upload-'));
  try {
    let stored: ReceivedFile | null;
    try {
      stored = await receiveUpload(request, folder, steps.allowed, steps.fields, steps.maxBytes);
    } catch (error) {
      const errors = await uploadFieldErrors(error, null, steps.maxBytes);
      if (errors === null) throw error;
      const code = (error as { code?: string }).code;
      request.log.info({ ...steps.logContext, code }, 'upload form rejected');
      return { errors: [...errors, ...(await steps.check())], status: code === 'file_too_large' ? 413 : 400 };
    }

    const errors = await steps.check();
    // A browser sends a file part with no name and no bytes when the user chose no file.
    if (stored === null || (stored.sentName === '' && stored.byteSize === 0)) errors.unshift({ field: 'file', message: NO_FILE_MESSAGE });
    if (errors.length > 0 || stored === null) return { errors, status: 400 };

    try {
      return { report: await steps.load(stored) };
    } catch (error) {
      const fieldErrors = await uploadFieldErrors(error, stored, steps.maxBytes);
      if (fieldErrors === null) throw error;
      request.log.info({ ...steps.logContext, code: (error as { code?: string }).code }, 'upload rejected by the importer');
      return { errors: fieldErrors, status: (error as { kind?: string }).kind === 'conflict' ? 409 : 400 };
    }
  } finally {
    await fs.promises.rm(folder, { recursive: true, force: true }).catch((error: unknown) => request.log.error({ err: error, folder }, 'upload folder not removed'));
  }
}
