/**
 * Opens a file as batches of source records, the same way in both passes: decoded and tokenized CSV, or the rows of
 * one workbook sheet with cells as text.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CsvTokenizer, type SourceRecord } from './csv-tokenizer.ts';
import { sniffDelimiter } from './dialect.ts';
import { decodeFile, type TextEncoding } from './encoding.ts';
import { IngestError, type IngestSource } from './ingest.types.ts';
import { readOdsSheet } from './workbook-ods.ts';
import { readXlsxSheet } from './workbook-xlsx.ts';

export type FileFormat = 'csv' | 'xlsx' | 'ods';

const TEXT_EXTENSIONS = new Set(['.csv', '.tsv', '.txt', '.tab', '.psv']);

/** Returns the format a file name's extension declares, or rejects names ingest cannot read. */
export function formatOf(source: IngestSource): FileFormat {
  const extension = path.extname(source.filename).toLowerCase();
  if (TEXT_EXTENSIONS.has(extension)) return 'csv';
  if (extension === '.xlsx' || extension === '.xlsm') return 'xlsx';
  if (extension === '.ods') return 'ods';
  throw new IngestError(
    'unknown_extension',
    `${source.filename} has ${extension ? `the extension ${extension}` : 'no extension'}, which cannot be imported. Upload a .csv, .tsv, .txt, .xlsx or .ods file.`,
    { file: source.filename },
  );
}

/** Returns the size of the file in bytes, for progress, or rejects a missing or empty file. */
export async function fileSize(source: IngestSource): Promise<number> {
  let size: number;
  try {
    size = (await fs.promises.stat(source.path)).size;
  } catch (error) {
    throw new IngestError('file_not_found', `${source.filename} could not be read. Upload the file again.`, { file: source.filename });
  }
  if (size === 0) {
    throw new IngestError('empty_file', `${source.filename} is empty. Check that you chose the right file, then upload it again.`, {
      file: source.filename,
    });
  }
  return size;
}

/** Decoded characters read before the delimiter is sniffed. */
const SNIFF_CHARS = 64 * 1024;

export interface OpenedCsv {
  delimiter: string;
  batches: AsyncGenerator<SourceRecord[]>;
}

/** Opens a delimited text file. The delimiter is sniffed from the start of the file unless given. */
export async function openCsv(
  source: IngestSource,
  encoding: TextEncoding,
  delimiter: string | null,
  onBytes?: (bytesRead: number) => void,
): Promise<OpenedCsv> {
  const texts = decodeFile(source.path, encoding, onBytes);
  let sample = '';
  let done = false;
  while (sample.length < SNIFF_CHARS) {
    const next = await texts.next();
    if (next.done) {
      done = true;
      break;
    }
    sample += next.value;
  }
  const chosen = delimiter ?? sniffDelimiter(sample, done);
  const tokenizer = new CsvTokenizer(chosen, source.filename);

  async function* batches(): AsyncGenerator<SourceRecord[]> {
    let records: SourceRecord[] = [];
    tokenizer.push(sample, records);
    if (records.length > 0) yield records;
    if (!done) {
      for await (const text of texts) {
        records = [];
        tokenizer.push(text, records);
        if (records.length > 0) yield records;
      }
    }
    records = [];
    tokenizer.end(records);
    if (records.length > 0) yield records;
  }
  return { delimiter: chosen, batches: batches() };
}

/** Opens one sheet of a workbook as batches of rows. */
export function openSheet(source: IngestSource, format: 'xlsx' | 'ods', sheet: string): AsyncGenerator<SourceRecord[]> {
  return format === 'xlsx' ? readXlsxSheet(source, sheet) : readOdsSheet(source, sheet);
}
