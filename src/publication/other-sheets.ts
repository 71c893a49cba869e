/**
 * The personal-data scan of the sheets of a workbook that an import does not load. The original file is published
 * with the dataset, so personal data in another sheet, hidden or not, would reach the public with it.
 */
import type { IngestSource, IngestWarning } from '../ingest/ingest.types.ts';
import { formatOf, openSheet } from '../ingest/records.ts';
import { listSheets } from '../ingest/workbook.ts';
import { PersonalDataScanner, type PersonalDataFinding } from '../privacy/scanner.ts';

export interface OtherSheetsScan {
  /** Findings whose column names the sheet too, such as `Sheet "Raw": NHS number`. */
  findings: PersonalDataFinding[];
  warnings: IngestWarning[];
}

/** Scans every sheet other than `loadedSheet` that contains data, taking its first row with a value as the header. */
export async function scanOtherSheets(source: IngestSource, loadedSheet: string | null): Promise<OtherSheetsScan> {
  const format = formatOf(source);
  if (format === 'csv' || loadedSheet === null) return { findings: [], warnings: [] };

  const findings: PersonalDataFinding[] = [];
  const warnings: IngestWarning[] = [];
  const sheets = await listSheets(source);
  for (const sheet of sheets.filter((candidate) => candidate.name !== loadedSheet && candidate.rows > 0)) {
    let scanner: PersonalDataScanner | null = null;
    for await (const batch of openSheet(source, format, sheet.name)) {
      for (const record of batch) {
        if (scanner) scanner.scanRow(record.line, record.cells);
        else if (record.cells.some((cell) => cell.trim() !== '')) scanner = new PersonalDataScanner(record.cells);
      }
    }
    const found = scanner?.findings() ?? [];
    if (found.length === 0) continue;
    findings.push(...found.map((finding) => ({ ...finding, column: `Sheet "${sheet.name}": ${finding.column}` })));
    const columns = [...new Set(found.map((finding) => `"${finding.column}"`))].join(', ');
    warnings.push({
      code: 'personal_data_in_other_sheet',
      message:
        `Sheet "${sheet.name}"${sheet.hidden ? ' (hidden)' : ''} of ${source.filename} was not loaded, but its columns ${columns} contain personal data, ` +
        'and the original file published with the dataset contains that sheet. The dataset stays private. Delete the sheet from the workbook, ' +
        'or save the loaded sheet as a file of its own, and import that as a new version.',
    });
  }
  return { findings, warnings };
}
