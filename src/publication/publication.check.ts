import type { ImportCheck, ImportOptions } from '../catalogue/import.types.ts';
import type { Logger } from '../logger.ts';
import { PersonalDataScanner, type PersonalDataFinding } from '../privacy/scanner.ts';
import { scanOtherSheets } from './other-sheets.ts';
import { readRowsAsText } from './publication.repository.ts';
import { scanUnloadedLines } from './unloaded-lines.ts';
import { smallCountWarnings } from './publication-findings.ts';
import { SmallCountScanner, type SmallCountFinding } from './small-counts.ts';
import { findTransparencySchema } from './schemas/index.ts';
import { TransparencyValidator, type TransparencyReport } from './transparency-check.ts';

/** Import options with the Transparency Code schema the dataset declares (`civic import --transparency spending`). */
export type PublicationImportOptions = ImportOptions & { transparency?: string };

/** What the check adds to the load report. */
export interface PublicationReport {
  /** Personal-data findings, then small-count findings: everything that keeps the dataset private. */
  personal_data: Array<PersonalDataFinding | SmallCountFinding>;
  transparency?: TransparencyReport;
}

/**
 * The import check behind the publication gate. In one pass over the uncommitted rows it scans every value for
 * personal data and aggregate tables for small counts, and validates every row against the Transparency Code schema
 * that the import declares, if any. It also scans what the original file contains beyond the loaded rows: the lines
 * outside the table and the other sheets of a workbook. A dataset with findings stays private. The findings and the
 * schema problems go into the load report, and each column with small counts also gets a warning.
 */
export function publicationImportCheck(logger: Logger): ImportCheck {
  return {
    name: 'publication gate',
    async run(context) {
      const options = context.options as PublicationImportOptions;
      const transparency = options.transparency === undefined ? undefined : findTransparencySchema(options.transparency);
      const headers = context.analysis.schema.fields.map((field) => field.title);
      const scanner = new PersonalDataScanner(headers, { expected: transparency?.expectedPersonalData });
      const validator = transparency ? new TransparencyValidator(transparency, headers) : null;
      const counts = new SmallCountScanner(context.analysis.schema.fields);

      for await (const batch of readRowsAsText(context.raw, context.table, context.analysis.schema)) {
        for (const row of batch) {
          scanner.scanRow(row.id, row.values);
          counts.scanRow(row.id, row.values);
          validator?.checkRow(row.id, row.values);
        }
      }
      const smallCounts = counts.findings();
      const otherSheets = await scanOtherSheets(context.source, context.analysis.sheet);
      const unloadedLines = await scanUnloadedLines(context.source, context.analysis);
      const report: PublicationReport = { personal_data: [...scanner.findings(), ...unloadedLines.findings, ...otherSheets.findings, ...smallCounts] };
      if (validator) report.transparency = validator.report();

      const flagged = report.personal_data.length > 0;
      logger.info(
        {
          dataset: options.dataset,
          resource_id: context.resourceId,
          personal_data_columns: report.personal_data.length - smallCounts.length,
          small_count_columns: smallCounts.length,
          transparency_problems: report.transparency?.problem_count,
        },
        'publication check finished',
      );
      const warnings = [...unloadedLines.warnings, ...otherSheets.warnings, ...smallCountWarnings(smallCounts)];
      return { report: { ...report }, ...(warnings.length > 0 ? { warnings } : {}), ...(flagged ? { visibility: 'private' as const } : {}) };
    },
  };
}
