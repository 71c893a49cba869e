/**
 * Table layout detection: the header row below any title, blank and note rows, and the summary and footer rows after
 * the data that are not part of the table.
 */
import type { SourceRecord } from './csv-tokenizer.ts';
import { parseDecimal, type DecimalMark } from './numbers.ts';

export function isBlankText(text: string | undefined): boolean {
  if (text === undefined || text.length === 0) return true;
  // Most cells start with a visible character, which settles the question without trimming.
  const first = text.charCodeAt(0);
  if (first > 32 && first !== 160 && first < 0x2000) return false;
  return text.trim().length === 0;
}

export function isBlankRecord(cells: string[]): boolean {
  for (const cell of cells) if (!isBlankText(cell)) return false;
  return true;
}

/** Position after the last non-blank cell, so that Excel's trailing empty cells do not count. */
export function effectiveWidth(cells: string[]): number {
  for (let i = cells.length - 1; i >= 0; i--) if (!isBlankText(cells[i])) return i + 1;
  return 0;
}

function nonBlankCount(cells: string[]): number {
  let count = 0;
  for (const cell of cells) if (!isBlankText(cell)) count++;
  return count;
}

const HEADER_CANDIDATES = 100;

/** Returns the most common non-zero width, the larger on a tie. */
function dominantWidth(widths: number[]): number {
  const counts = new Map<number, number>();
  for (const width of widths) if (width > 0) counts.set(width, (counts.get(width) ?? 0) + 1);
  let best = 0;
  let bestCount = 0;
  for (const [width, count] of counts) {
    if (count > bestCount || (count === bestCount && width > best)) {
      best = width;
      bestCount = count;
    }
  }
  return best;
}

/**
 * Returns the index of the header record: the first row at least as wide as the table's dominant width that is mostly
 * filled, which passes over titles, units lines and key–value notes above the table. Returns -1 when every record is
 * blank.
 */
export function findHeaderIndex(records: SourceRecord[]): number {
  const widths = records.map((record) => effectiveWidth(record.cells));
  const dominant = dominantWidth(widths);
  if (dominant === 0) return -1;
  const limit = Math.min(records.length, HEADER_CANDIDATES);
  for (let i = 0; i < limit; i++) {
    const width = widths[i]!;
    if (isHeaderWithBlankLastName(records, widths, i, dominant)) return i;
    if (width < dominant) continue;
    const filled = nonBlankCount(records[i]!.cells);
    if (dominant > 1 && filled < 2) continue;
    if (filled >= width * 0.5) return i;
  }
  return widths.findIndex((width) => width > 0);
}

/**
 * Checks for a header whose last column has no name, as in `Name,Amount,Tax,` above rows of four values. Such a row
 * has a cell for every column and names all but the last. It contains no number and is right above a row of the full
 * width. Without this check the first data row would be taken for the header and lost.
 */
function isHeaderWithBlankLastName(records: SourceRecord[], widths: number[], index: number, dominant: number): boolean {
  const cells = records[index]!.cells;
  if (dominant < 3 || widths[index] !== dominant - 1 || cells.length < dominant) return false;
  if (nonBlankCount(cells) !== dominant - 1) return false;
  if (cells.some((cell) => !isBlankText(cell) && /^[\s£$€(+-]*[\d.,]+[\s)%]*$/.test(cell))) return false;
  return widths[index + 1] === dominant;
}

/** Rows under the header row that may continue it (stacked headers, units rows). */
const MAX_EXTRA_HEADER_ROWS = 4;
const ROWS_SAMPLED_FOR_NUMBERS = 50;

/**
 * Returns the index of the last row of a stacked header that starts at `headerIndex`. A row below the header
 * continues it when none of its cells is a number and at least half of its cells sit above mostly numeric columns.
 * Its other cells must name columns that the rows above left unnamed, as in `provincie / A / Groningen`, `NR. /
 * Cluster` under blank header cells, or a units row such as `£ / £`. So a first data row with text in a numeric column
 * (`Acme Ltd,TBC` under `Supplier,Amount`) stays data, and a text-only table never stacks.
 */
export function findHeaderEnd(records: SourceRecord[], headerIndex: number, decimal: DecimalMark): number {
  const numericCells = new Map<number, number>();
  const filledCells = new Map<number, number>();
  let sampled = 0;
  const isNumber = (cell: string) => parseDecimal(cell.trim(), decimal) !== null;
  for (let i = headerIndex + 1; i < records.length && sampled < ROWS_SAMPLED_FOR_NUMBERS; i++) {
    const cells = records[i]!.cells;
    if (isBlankRecord(cells) || !cells.some((cell) => !isBlankText(cell) && isNumber(cell))) continue;
    sampled++;
    cells.forEach((cell, c) => {
      if (isBlankText(cell)) return;
      filledCells.set(c, (filledCells.get(c) ?? 0) + 1);
      if (isNumber(cell)) numericCells.set(c, (numericCells.get(c) ?? 0) + 1);
    });
  }
  const numericColumn = (c: number) => (numericCells.get(c) ?? 0) * 2 > (filledCells.get(c) ?? 0) && (numericCells.get(c) ?? 0) > 0;

  const named = new Set<number>();
  records[headerIndex]!.cells.forEach((cell, c) => {
    if (!isBlankText(cell)) named.add(c);
  });

  let end = headerIndex;
  for (let i = headerIndex + 1; i < records.length && i <= headerIndex + MAX_EXTRA_HEADER_ROWS; i++) {
    const cells = records[i]!.cells;
    if (isBlankRecord(cells)) break;
    let filled = 0;
    let aboveNumbers = 0;
    let hasNumber = false;
    let fillsNamedTextColumn = false;
    cells.forEach((cell, c) => {
      if (isBlankText(cell)) return;
      filled++;
      if (isNumber(cell)) hasNumber = true;
      if (numericColumn(c)) aboveNumbers++;
      else if (named.has(c)) fillsNamedTextColumn = true;
    });
    if (hasNumber || fillsNamedTextColumn || aboveNumbers * 2 < filled) break;
    cells.forEach((cell, c) => {
      if (!isBlankText(cell)) named.add(c);
    });
    end = i;
  }
  return end;
}

/** Joins the cells of a stacked header column by column, with a line break between the rows' texts. */
export function stackHeaders(rows: string[][]): string[] {
  const width = Math.max(...rows.map((cells) => cells.length));
  const headers: string[] = [];
  for (let c = 0; c < width; c++) {
    const parts = rows.map((cells) => cells[c] ?? '').filter((cell) => !isBlankText(cell));
    headers.push(parts.length === 0 ? rows[0]![c] ?? '' : parts.join('\n'));
  }
  return headers;
}

/** Returns the text of the first non-blank row above the header, kept as the table's title. */
export function findTitle(records: SourceRecord[], headerIndex: number): string | null {
  for (let i = 0; i < headerIndex; i++) {
    const parts = records[i]!.cells.map((cell) => cell.trim()).filter((cell) => cell.length > 0);
    if (parts.length > 0) return parts.join(' ');
  }
  return null;
}

const FOOTER_NOTE = /^(?:sources?|notes?|nb|footnotes?|copyright|©|\*{2,})/i;
const SUMMARY_LABEL = /^(?:grand\s+|sub-?\s*)?totals?\b|^sum\b/i;

function firstNonBlank(cells: string[]): string | undefined {
  for (const cell of cells) if (!isBlankText(cell)) return cell.trim();
  return undefined;
}

/** Returns true for a row with at most two cells filled, in a table wide enough that such a row is not ordinary data. */
function isSparse(cells: string[], width: number): boolean {
  const filled = nonBlankCount(cells);
  return filled <= 2 && filled * 2 < width;
}

function isFooterNote(cells: string[], width: number): boolean {
  const first = firstNonBlank(cells);
  return first !== undefined && FOOTER_NOTE.test(first) && (isSparse(cells, width) || nonBlankCount(cells) === 1);
}

function isSummaryRow(cells: string[], width: number, decimal: DecimalMark): boolean {
  const first = firstNonBlank(cells);
  if (first === undefined) return false;
  if (!isBlankText(cells[0]) && SUMMARY_LABEL.test(first)) return true;
  if (SUMMARY_LABEL.test(first) && isBlankText(cells[0]) && cells.findIndex((cell) => !isBlankText(cell)) <= 1) return true;
  // A grand total written alone, with the key columns left empty.
  if (width < 3 || !isBlankText(cells[0])) return false;
  const filled = cells.filter((cell) => !isBlankText(cell));
  return filled.length <= Math.max(1, Math.floor(width / 4)) && filled.every((cell) => parseDecimal(cell.trim(), decimal) !== null);
}

export interface TailExclusion {
  line: number;
  kind: 'summary' | 'footer';
}

/**
 * Splits the last records of a table into those kept and the summary and footer rows dropped. Footer notes start at a
 * `Source:`, `Note:` or `****` row, or at a blank row, and run to the end with only sparse rows after them. A summary
 * row is a `Total` or `Grand total` row, or a lone number with the key columns empty, at the end of the data.
 */
export function splitTail(tail: SourceRecord[], width: number, decimal: DecimalMark): { kept: SourceRecord[]; excluded: TailExclusion[] } {
  let end = tail.length;
  let footerStart = end;
  for (let i = end - 1; i >= 0; i--) {
    const cells = tail[i]!.cells;
    if (isBlankRecord(cells)) {
      if (i < end - 1 && tail.slice(i + 1).some((record) => !isBlankRecord(record.cells))) footerStart = i;
      continue;
    }
    if (isFooterNote(cells, width)) {
      footerStart = i;
      continue;
    }
    if (!isSparse(cells, width)) break;
  }
  const excluded: TailExclusion[] = [];
  for (let i = footerStart; i < end; i++) {
    if (!isBlankRecord(tail[i]!.cells)) excluded.push({ line: tail[i]!.line, kind: 'footer' });
  }
  end = footerStart;

  for (;;) {
    while (end > 0 && isBlankRecord(tail[end - 1]!.cells)) end--;
    if (end === 0 || !isSummaryRow(tail[end - 1]!.cells, width, decimal)) break;
    excluded.unshift({ line: tail[end - 1]!.line, kind: 'summary' });
    end--;
  }
  return { kept: tail.slice(0, end), excluded };
}
