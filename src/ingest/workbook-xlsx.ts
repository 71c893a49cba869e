/**
 * XLSX sheets through exceljs. Merged cells keep their value in the top-left cell only, so a title merged across the
 * width of the table still reads as one cell. Date cells become ISO dates, or ISO local date-times when they carry a
 * time of day.
 */
import fs from 'node:fs';
import ExcelJS from 'exceljs';
import type { SourceRecord } from './csv-tokenizer.ts';
import { IngestError, type IngestSource } from './ingest.types.ts';
import type { SheetInfo } from './workbook.ts';

/**
 * The last workbook read, kept briefly because one import reads it up to three times (sheet list, analysis, load).
 */
let recent: { key: string; workbook: Promise<ExcelJS.Workbook>; timer: NodeJS.Timeout } | null = null;
const KEEP_RECENT_MS = 60_000;

// NOTE: exceljs's full reader holds the whole workbook in memory; only CSV and ODS are read in constant memory.
async function loadWorkbook(source: IngestSource): Promise<ExcelJS.Workbook> {
  const stat = await fs.promises.stat(source.path);
  const key = `${source.path}:${stat.size}:${stat.mtimeMs}`;
  if (recent?.key === key) return recent.workbook;
  if (recent) clearTimeout(recent.timer);
  const workbook = readWorkbook(source);
  const timer = setTimeout(() => {
    recent = null;
  }, KEEP_RECENT_MS);
  timer.unref();
  recent = { key, workbook, timer };
  workbook.catch(() => {
    if (recent?.workbook === workbook) recent = null;
  });
  return workbook;
}

async function readWorkbook(source: IngestSource): Promise<ExcelJS.Workbook> {
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.readFile(source.path);
  } catch (error) {
    throw new IngestError(
      'invalid_workbook',
      `${source.filename} could not be read as an Excel workbook (.xlsx). Open it in a spreadsheet program, save it as .xlsx or CSV, and upload it again.`,
      { file: source.filename },
    );
  }
  return workbook;
}

export async function listXlsxSheets(source: IngestSource): Promise<SheetInfo[]> {
  const workbook = await loadWorkbook(source);
  return workbook.worksheets.map((worksheet) => ({
    name: worksheet.name,
    hidden: worksheet.state !== 'visible',
    rows: worksheet.actualRowCount,
  }));
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}

/** Formats an exceljs date, whose UTC fields hold the wall-clock time written in the sheet. */
function dateText(date: Date): string {
  const day = `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
  if (date.getUTCHours() === 0 && date.getUTCMinutes() === 0 && date.getUTCSeconds() === 0) return day;
  return `${day}T${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
}

/**
 * Turns a cell value into the text ingest infers types from. Error values such as #N/A keep their text, which
 * inference reads as a missing value in a numeric column and reports.
 */
export function cellText(value: ExcelJS.CellValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? '' : dateText(value);
  if ('richText' in value) return value.richText.map((run) => run.text).join('');
  if ('error' in value) return String((value as ExcelJS.CellErrorValue).error);
  if ('result' in value) return cellText((value as ExcelJS.CellFormulaValue).result as ExcelJS.CellValue);
  if ('text' in value) return String((value as ExcelJS.CellHyperlinkValue).text);
  if ('formula' in value || 'sharedFormula' in value) return '';
  return '';
}

export async function* readXlsxSheet(source: IngestSource, sheetName: string): AsyncGenerator<SourceRecord[]> {
  const workbook = await loadWorkbook(source);
  const worksheet = workbook.getWorksheet(sheetName);
  if (!worksheet) {
    throw new IngestError('sheet_not_found', `${source.filename} has no sheet called "${sheetName}".`, { file: source.filename, sheet: sheetName });
  }
  let batch: SourceRecord[] = [];
  const rowCount = worksheet.rowCount;
  for (let r = 1; r <= rowCount; r++) {
    const row = worksheet.getRow(r);
    const cells: string[] = [];
    row.eachCell({ includeEmpty: false }, (cell, column) => {
      if (cell.isMerged && cell.master.address !== cell.address) return;
      while (cells.length < column - 1) cells.push('');
      cells[column - 1] = cellText(cell.value);
    });
    batch.push({ cells, line: r });
    if (batch.length >= 1000) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}
