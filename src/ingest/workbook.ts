/**
 * Sheets of a workbook: listing them and choosing the one to load. Ingest never guesses between several visible sheets
 * that hold data, and skips hidden sheets unless the user names one.
 */
import { IngestError, type IngestSource } from './ingest.types.ts';
import { formatOf } from './records.ts';
import { listOdsSheets } from './workbook-ods.ts';
import { listXlsxSheets } from './workbook-xlsx.ts';

export interface SheetInfo {
  name: string;
  hidden: boolean;
  /** Rows that hold at least one value. */
  rows: number;
}

export async function listSheets(source: IngestSource): Promise<SheetInfo[]> {
  const format = formatOf(source);
  if (format === 'xlsx') return listXlsxSheets(source);
  if (format === 'ods') return listOdsSheets(source);
  throw new IngestError('not_a_workbook', `${source.filename} is a text file, not a workbook, so it has no sheets.`, { file: source.filename });
}

const quoteNames = (sheets: SheetInfo[]) => sheets.map((sheet) => `"${sheet.name}"`).join(', ');

/** Returns the name of the sheet to load: the one requested, or the only visible sheet with data. */
export async function chooseSheet(source: IngestSource, format: 'xlsx' | 'ods', requested: string | undefined): Promise<string> {
  const sheets = format === 'xlsx' ? await listXlsxSheets(source) : await listOdsSheets(source);
  if (requested !== undefined) {
    const found = sheets.find((sheet) => sheet.name === requested) ?? sheets.find((sheet) => sheet.name.toLowerCase() === requested.trim().toLowerCase());
    if (!found) {
      throw new IngestError('sheet_not_found', `${source.filename} has no sheet called "${requested}". Its sheets are ${quoteNames(sheets)}.`, {
        file: source.filename,
        sheet: requested,
      });
    }
    return found.name;
  }
  const visible = sheets.filter((sheet) => !sheet.hidden && sheet.rows > 0);
  if (visible.length === 1) return visible[0]!.name;
  if (visible.length > 1) {
    throw new IngestError(
      'sheet_required',
      `${source.filename} has ${visible.length} sheets with data: ${quoteNames(visible)}. Choose one with --sheet, for example --sheet "${visible[0]!.name}".`,
      { file: source.filename },
    );
  }
  const hidden = sheets.filter((sheet) => sheet.rows > 0);
  if (hidden.length > 0) {
    throw new IngestError(
      'sheet_required',
      `${source.filename} has data only in hidden sheets: ${quoteNames(hidden)}. Name the one to load with --sheet.`,
      { file: source.filename },
    );
  }
  throw new IngestError('empty_file', `${source.filename} has no data in any sheet. Check that you chose the right file.`, { file: source.filename });
}
