import { AppError, type FieldError } from '../errors.ts';
import { IngestError, listSheets, type IngestSource } from '../ingest/index.ts';

/** Ingest error codes about the sheet the user named, or should have named; the rest are about the file. */
const SHEET_CODES = new Set(['sheet_required', 'sheet_not_found', 'sheet_not_applicable', 'not_a_workbook']);

const CHOOSE_AGAIN = 'Choose the file again, because a browser does not keep it when the form comes back.';

/**
 * Words the "sheet required" error for the upload page, which has a sheet field in place of the command's --sheet
 * option, and lists the sheets that hold data.
 */
async function sheetRequired(source: IngestSource): Promise<string> {
  const sheets = await listSheets(source);
  const visible = sheets.filter((sheet) => !sheet.hidden && sheet.rows > 0);
  const named = (visible.length > 0 ? visible : sheets.filter((sheet) => sheet.rows > 0)).map((sheet) => `"${sheet.name}"`).join(', ');
  const contents = visible.length > 0 ? `has ${visible.length} sheets with data: ${named}` : `has data only in hidden sheets: ${named}`;
  return `${source.filename} ${contents}. Enter the name of the sheet to load. ${CHOOSE_AGAIN}`;
}

/**
 * Turns an error from loading an upload into errors on the upload form's fields. Sheet errors go on `sheet`, the plan's
 * limit on private datasets on `visibility`, a conflict that names a field on that field, and every other rejection of
 * the file on `file`. Returns null for an error that is not about the user's input, which the caller rethrows.
 */
export async function uploadFieldErrors(error: unknown, source: IngestSource | null, maxBytes: number): Promise<FieldError[] | null> {
  if (!(error instanceof AppError)) return null;
  if (error.code === 'file_too_large') {
    const megabytes = Math.round(maxBytes / 1_048_576);
    return [{ field: 'file', message: `The selected file must be smaller than ${megabytes} MB. To load a larger file, ask the service's operator to load it on the server with civic import.` }];
  }
  if (error instanceof IngestError) {
    if (error.code === 'sheet_required' && source !== null) return [{ field: 'sheet', message: await sheetRequired(source) }];
    if (SHEET_CODES.has(error.code)) return [{ field: 'sheet', message: `${error.message} ${CHOOSE_AGAIN}` }];
    return [{ field: 'file', message: error.message }];
  }
  if (error.code === 'plan_limit_reached') return [{ field: 'visibility', message: error.message }];
  // A conflict that names its field, such as a dataset slug already in use.
  if (error.kind === 'conflict' && error.fields.length > 0) return error.fields;
  if (error.kind === 'validation') {
    // The catalogue names the dataset details it rejects, such as a title that is too long.
    if (error.fields.length > 0) return error.fields;
    return [{ field: 'file', message: error.message }];
  }
  return null;
}
