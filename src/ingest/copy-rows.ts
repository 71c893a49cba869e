/**
 * Pass 2: replays the file with the analysis's decisions and yields PostgreSQL COPY rows, `_id` first. The default is
 * COPY text (`FORMAT text`): one line per row, tab-separated, `\N` for null, and backslash, tab, newline and carriage
 * return escaped. With `copyFormat: 'binary'` it yields binary COPY, from the header to the trailer.
 */
import { BINARY_COPY_HEADER, BINARY_COPY_TRAILER } from './copy-binary-writer.ts';
import { ROWS_PER_CHUNK } from './copy-text.ts';
import { createCopyWriter } from './copy-writer.ts';
import type { SourceRecord } from './csv-tokenizer.ts';
import type { TextEncoding } from './encoding.ts';
import { IngestError, type FileAnalysis, type IngestOptions, type IngestSource } from './ingest.types.ts';
import { isBlankRecord } from './layout.ts';
import type { DecimalMark } from './numbers.ts';
import { openCsv, openSheet } from './records.ts';

export { escapeCopyText } from './copy-text.ts';

/** The COPY column list that matches the rows copyRows yields, with identifiers quoted. */
export function copyColumnList(analysis: FileAnalysis): string {
  return ['_id', ...analysis.schema.fields.map((field) => field.name)].map((name) => `"${name}"`).join(', ');
}

export async function* copyRows(source: IngestSource, analysis: FileAnalysis, options: IngestOptions = {}): AsyncGenerator<string | Buffer> {
  const binary = options.copyFormat === 'binary';
  const writer = createCopyWriter(analysis.schema, analysis.decimal_mark as DecimalMark, binary ? 'binary' : 'text');
  const excluded = new Set(analysis.excluded_lines);
  const report = (bytes: number) => options.onProgress?.(bytes, analysis.byte_size);

  let batches: AsyncGenerator<SourceRecord[]>;
  if (analysis.format === 'csv') {
    batches = (await openCsv(source, analysis.encoding as TextEncoding, analysis.delimiter, report)).batches;
  } else {
    batches = openSheet(source, analysis.format, analysis.sheet!);
  }

  if (binary) yield BINARY_COPY_HEADER;
  for await (const batch of batches) {
    for (const record of batch) {
      if (record.line <= analysis.header_end_row || (excluded.size > 0 && excluded.has(record.line))) continue;
      if (isBlankRecord(record.cells)) continue;
      if (!writer.write(record.cells)) throw changedSince(source, analysis, record.line);
      if (writer.pendingRows >= ROWS_PER_CHUNK) yield writer.take();
    }
  }
  if (writer.pendingRows > 0) yield writer.take();
  if (writer.rows !== analysis.rows) throw changedSince(source, analysis, undefined);
  if (binary) yield BINARY_COPY_TRAILER;
}

function changedSince(source: IngestSource, analysis: FileAnalysis, line: number | undefined): IngestError {
  return new IngestError(
    'file_changed',
    `${source.filename} changed after it was analysed${line ? ` (line ${line} no longer fits its column type)` : ` (it now has a different number of rows from the ${analysis.rows} analysed)`}. Import the file again.`,
    { file: source.filename, line },
  );
}
