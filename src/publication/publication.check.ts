import type { ImportCheck, ImportOptions } from '../catalogue/import.types.ts';
import type { Logger } from '../logger.ts';
import { PersonalDataScanner, type PersonalDataFinding } from '../privacy/scanner.ts';
import { readRowsAsText } from './publication.repository.ts';
import { findTransparencySchema } from './schemas/index.ts';
import { TransparencyValidator, type TransparencyReport } from './transparency-check.ts';

/** Import options with the Transparency Code schema the dataset declares (`civic import --transparency spending`). */
export type PublicationImportOptions = ImportOptions & { transparency?: string };

/** What the check adds to the load report. */
export interface PublicationReport {
  personal_data: PersonalDataFinding[];
  transparency?: TransparencyReport;
}

/**
 * The import check behind the publication gate: scans every loaded value for personal data and, when the import
 * declares a Transparency Code schema, validates every row against it, in one pass over the uncommitted rows. A
 * dataset with findings stays private; the findings and the schema problems go into the load report.
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

      for await (const batch of readRowsAsText(context.raw, context.table, context.analysis.schema)) {
        for (const row of batch) {
          scanner.scanRow(row.id, row.values);
          validator?.checkRow(row.id, row.values);
        }
      }
      const report: PublicationReport = { personal_data: scanner.findings() };
      if (validator) report.transparency = validator.report();

      const flagged = report.personal_data.length > 0;
      logger.info(
        {
          dataset: options.dataset,
          resource_id: context.resourceId,
          personal_data_columns: report.personal_data.length,
          transparency_problems: report.transparency?.problem_count,
        },
        'publication check finished',
      );
      return { report: { ...report }, ...(flagged ? { visibility: 'private' as const } : {}) };
    },
  };
}
