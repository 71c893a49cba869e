/**
 * Pass 2: replays the file with the analysis's decisions and yields PostgreSQL COPY text (`FORMAT text`): one line per
 * row, `_id` first, tab-separated, `\N` for null, and backslash, tab, newline and carriage return escaped.
 */
import { makeConverter, type Converter } from './converters.ts';
import type { SourceRecord } from './csv-tokenizer.ts';
import type { TextEncoding } from './encoding.ts';
import { IngestError, type FileAnalysis, type IngestOptions, type IngestSource } from './ingest.types.ts';
import { isBlankRecord, isBlankText } from './layout.ts';
import type { DecimalMark } from './numbers.ts';
import { openCsv, openSheet } from './records.ts';

/** Rows per yielded chunk; about 700 kB of COPY text for a spending file, so the COPY stream writes few, large pieces. */
const ROWS_PER_CHUNK = 4000;

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** Returns true when text contains a backslash, tab, newline or carriage return, which COPY text format escapes. */
function needsCopyEscape(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x5c || (code <= 0x0d && (code === 0x09 || code === 0x0a || code === 0x0d))) return true;
  }
  return false;
}

/** Escapes text for a COPY text-format field. */
export function escapeCopyText(text: string): string {
  return needsCopyEscape(text) ? text.replace(/[\\\t\n\r]/g, (char) => COPY_ESCAPES[char]!) : text;
}

const COPY_NULL = '\\N';

/** The COPY column list that matches the rows copyRows yields, with identifiers quoted. */
export function copyColumnList(analysis: FileAnalysis): string {
  return ['_id', ...analysis.schema.fields.map((field) => field.name)].map((name) => `"${name}"`).join(', ');
}

export async function* copyRows(source: IngestSource, analysis: FileAnalysis, options: IngestOptions = {}): AsyncGenerator<string> {
  const fields = analysis.schema.fields;
  const width = fields.length;
  const decimal = analysis.decimal_mark as DecimalMark;
  const converters: Converter[] = fields.map((field) => makeConverter(field, decimal));
  const isString = fields.map((field) => field.type === 'string');
  const schemaMissing = analysis.schema.missingValues ?? [];
  const missing = fields.map((field) => {
    const values = [...(field.missingValues ?? []), ...schemaMissing];
    return values.length > 0 ? new Set(values) : null;
  });
  const excluded = new Set(analysis.excluded_lines);
  const report = (bytes: number) => options.onProgress?.(bytes, analysis.byte_size);

  let batches: AsyncGenerator<SourceRecord[]>;
  if (analysis.format === 'csv') {
    batches = (await openCsv(source, analysis.encoding as TextEncoding, analysis.delimiter, report)).batches;
  } else {
    batches = openSheet(source, analysis.format, analysis.sheet!);
  }

  let id = 0;
  let lines: string[] = [];
  const values: string[] = new Array<string>(width + 1);
  for await (const batch of batches) {
    for (const record of batch) {
      if (record.line <= analysis.header_end_row || (excluded.size > 0 && excluded.has(record.line))) continue;
      const cells = record.cells;
      if (isBlankRecord(cells)) continue;
      id++;
      values[0] = String(id);
      for (let c = 0; c < width; c++) {
        const raw = cells[c];
        if (raw === undefined || isBlankText(raw)) {
          values[c + 1] = COPY_NULL;
          continue;
        }
        if (isString[c]) {
          values[c + 1] = missing[c]?.has(raw.trim()) ? COPY_NULL : escapeCopyText(raw);
          continue;
        }
        const trimmed = raw.trim();
        if (missing[c]?.has(trimmed)) {
          values[c + 1] = COPY_NULL;
          continue;
        }
        const converted = converters[c]!(trimmed);
        if (converted === null) throw changedSince(source, analysis, record.line);
        values[c + 1] = converted;
      }
      lines.push(values.join('\t'));
      if (lines.length >= ROWS_PER_CHUNK) {
        yield lines.join('\n') + '\n';
        lines = [];
      }
    }
  }
  if (lines.length > 0) yield lines.join('\n') + '\n';
  if (id !== analysis.rows) throw changedSince(source, analysis, undefined);
}

function changedSince(source: IngestSource, analysis: FileAnalysis, line: number | undefined): IngestError {
  return new IngestError(
    'file_changed',
    `${source.filename} changed after it was analysed${line ? ` (line ${line} no longer fits its column type)` : ` (it now has a different number of rows from the ${analysis.rows} analysed)`}. Import the file again.`,
    { file: source.filename, line },
  );
}
