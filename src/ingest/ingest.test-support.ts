/** Helpers for the ingest tests: fixture paths, and a full analyse-then-copy run read back into rows. */
import path from 'node:path';
import { analyseFile } from './analyse.ts';
import { copyRows } from './copy-rows.ts';
import type { FileAnalysis, IngestOptions, IngestSource } from './ingest.types.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../../test/fixtures');

export function fixture(folder: string, filename: string): IngestSource {
  return { path: path.join(FIXTURES, folder, filename), filename };
}

/** Reverses the COPY text escapes, so tests compare the values PostgreSQL would store. */
function unescapeCopy(field: string): string | null {
  if (field === '\\N') return null;
  return field.replace(/\\(.)/g, (_, char: string) => ({ n: '\n', r: '\r', t: '\t', '\\': '\\' })[char] ?? char);
}

export interface LoadedFile {
  analysis: FileAnalysis;
  /** Rows as PostgreSQL would receive them, `_id` first. */
  rows: Array<Array<string | null>>;
  /** The raw COPY chunks. */
  chunks: string[];
}

export async function load(source: IngestSource, options: IngestOptions = {}): Promise<LoadedFile> {
  const analysis = await analyseFile(source, options);
  const chunks: string[] = [];
  for await (const chunk of copyRows(source, analysis, { ...options, copyFormat: 'text' })) chunks.push(chunk.toString());
  const rows = chunks
    .join('')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => line.split('\t').map(unescapeCopy));
  return { analysis, rows, chunks };
}

/** Returns the values of one column by its id. */
export function column(loaded: LoadedFile, name: string): Array<string | null> {
  const index = loaded.analysis.schema.fields.findIndex((field) => field.name === name);
  if (index === -1) throw new Error(`No column ${name}; the columns are ${loaded.analysis.schema.fields.map((f) => f.name).join(', ')}`);
  return loaded.rows.map((row) => row[index + 1] ?? null);
}

export function fieldTypes(analysis: FileAnalysis): Record<string, string> {
  return Object.fromEntries(analysis.schema.fields.map((field) => [field.name, field.format ? `${field.type} ${field.format}` : field.type]));
}
