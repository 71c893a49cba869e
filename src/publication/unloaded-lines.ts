/**
 * The personal-data scan of the lines of a file that are not rows of data: titles and notes above the header, the
 * header, and summary rows and footnotes after the table. The original file is published with the dataset, the header
 * gives the column titles and a title above the header becomes the dataset's title, so personal data there would reach
 * the public.
 */
import type { TextEncoding } from '../ingest/encoding.ts';
import type { FileAnalysis, IngestSource, IngestWarning } from '../ingest/ingest.types.ts';
import { openCsv, openSheet } from '../ingest/records.ts';
import type { SourceRecord } from '../ingest/csv-tokenizer.ts';
import { PersonalDataScanner, type PersonalDataFinding } from '../privacy/scanner.ts';

/** The column name that findings in lines outside the rows of data get, since those lines have no header. */
export const UNLOADED_LINES_COLUMN = 'Lines that are not rows of data';

export interface UnloadedLinesScan {
  findings: PersonalDataFinding[];
  warnings: IngestWarning[];
}

/**
 * Scans each line above and of the header and each line after it that the analysis excluded, one value per cell. The
 * file is read only as far as the last such line.
 *
 * NOTE: a file with a footer or a summary row at its end is therefore read to the end once more than the load needs.
 */
export async function scanUnloadedLines(source: IngestSource, analysis: FileAnalysis): Promise<UnloadedLinesScan> {
  const excluded = new Set(analysis.excluded_lines);
  const lastLine = Math.max(analysis.header_end_row, ...analysis.excluded_lines);

  let batches: AsyncGenerator<SourceRecord[]>;
  if (analysis.format === 'csv') batches = (await openCsv(source, analysis.encoding as TextEncoding, analysis.delimiter)).batches;
  else batches = openSheet(source, analysis.format, analysis.sheet!);

  const scanner = new PersonalDataScanner([UNLOADED_LINES_COLUMN]);
  reading: for await (const batch of batches) {
    for (const record of batch) {
      if (record.line > lastLine) break reading;
      if (record.line > analysis.header_end_row && !excluded.has(record.line)) continue;
      for (const cell of record.cells) if (cell.trim() !== '') scanner.scanRow(record.line, [cell]);
    }
  }
  // Ending the read early leaves the generator suspended, so it is closed to release the file.
  await batches.return(undefined);

  const findings = scanner.findings();
  if (findings.length === 0) return { findings, warnings: [] };
  const kinds = [...new Set(findings.map((finding) => finding.kind.replaceAll('_', ' ')))].join(', ');
  const lines = [...new Set(findings.flatMap((finding) => finding.rows))].sort((a, b) => a - b);
  const where = lines.length === 1 ? `Line ${lines[0]} of ${source.filename}, which is not a row` : `Lines ${lines.join(', ')} of ${source.filename}, which are not rows`;
  const inTitle = analysis.title !== null && lines.some((line) => line < analysis.header_row);
  const message =
    `${where} of data, contain${lines.length === 1 ? 's' : ''} personal data (${kinds}). The original file published with the dataset ` +
    'contains every line, so the dataset stays private. Remove the personal data from the file and import it as a new version' +
    (inTitle ? ', and give the dataset a title without it, because its title was taken from the lines above the header.' : '.');
  return { findings, warnings: [{ code: 'personal_data_outside_table', message }] };
}
