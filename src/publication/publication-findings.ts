/**
 * The findings that keep a dataset private, and the messages about them. The load report stores personal-data
 * findings and small-count findings in one list, `personal_data`, because the database gate on `datasets` and the
 * policy that withholds flagged versions from public readers both read that list.
 */
import type { LoadReport } from '../catalogue/catalogue.types.ts';
import type { IngestWarning } from '../ingest/ingest.types.ts';
import type { PersonalDataFinding } from '../privacy/scanner.ts';
import { COUNT_ROUNDING_BASE } from './count-fixes.ts';
import { describeSmallCountFinding, SMALL_COUNT_THRESHOLD, type SmallCountFinding } from './small-counts.ts';
import { countOf } from '../text.ts';

export type PublicationFinding = PersonalDataFinding | SmallCountFinding;

export function isSmallCountFinding(finding: PublicationFinding): finding is SmallCountFinding {
  return finding.kind === 'small_count';
}

const PERSONAL_DATA_FIXES =
  'redact the cells (--redact COLUMN[:KIND]), drop the column (--drop COLUMN), generalise postcodes to sectors (--generalise-postcode COLUMN) ' +
  'or dates of birth to years (--generalise-dob COLUMN)';

const SMALL_COUNT_FIXES = `suppress counts from 1 to ${SMALL_COUNT_THRESHOLD - 1} (--suppress-small-counts COLUMN) or round counts to the nearest ${COUNT_ROUNDING_BASE} (--round-counts COLUMN)`;

/** Every fix the gate offers, for messages that do not know the findings. */
export const AVAILABLE_FIXES = `${PERSONAL_DATA_FIXES}, ${SMALL_COUNT_FIXES}, or record a justification (--justify "reason")`;

/** Lists the fixes that suit these findings, as a clause that follows "To publish it, ". */
export function availableFixes(findings: readonly PublicationFinding[]): string {
  const small = findings.some(isSmallCountFinding);
  const personal = findings.some((finding) => !isSmallCountFinding(finding));
  if (small && !personal) return `${SMALL_COUNT_FIXES}, or, if the counts are not about people, record a justification (--justify "reason")`;
  if (personal && !small) return `${PERSONAL_DATA_FIXES}, or record a justification (--justify "reason")`;
  return AVAILABLE_FIXES;
}

/** Names what the findings are ("personal data", "small counts" or both), for "because it holds …". */
export function findingsSubject(findings: readonly PublicationFinding[]): string {
  const small = findings.some(isSmallCountFinding);
  const personal = findings.some((finding) => !isSmallCountFinding(finding));
  if (small && personal) return 'personal data and small counts';
  return small ? 'small counts' : 'personal data';
}



const cells = (count: number) => countOf(count, 'cell');

/** Describes each finding: "Supplier Name (individual_name, 205 cells)" or "Children (3 cells with counts from 1 to 9; threshold 10)". */
export function describeFindings(findings: readonly PublicationFinding[]): string {
  return findings.map((finding) => (isSmallCountFinding(finding) ? describeSmallCountFinding(finding) : `${finding.column} (${finding.kind}, ${cells(finding.count)})`)).join('; ');
}

/** Describes one finding for the API's field list: "Contains email address in 1 cell". */
export function describeFindingOfField(finding: PublicationFinding): string {
  if (isSmallCountFinding(finding)) return `Contains counts from 1 to ${finding.threshold - 1} in ${cells(finding.count)}`;
  return `Contains ${finding.kind.replaceAll('_', ' ')} in ${cells(finding.count)}`;
}

/** Reads the findings stored in a load report, or none for a report written before the scans existed. */
export function findingsOf(loadReport: unknown): PublicationFinding[] {
  const findings = (loadReport as LoadReport | null)?.personal_data;
  return Array.isArray(findings) ? (findings as PublicationFinding[]) : [];
}

/** Builds an import warning for each column with small counts, naming the column, the cells and the threshold. */
export function smallCountWarnings(findings: readonly PublicationFinding[]): IngestWarning[] {
  return findings.filter(isSmallCountFinding).map((finding) => ({
    code: 'small_counts',
    column: finding.column,
    message:
      `Column "${finding.column}" has ${cells(finding.count)} with counts from 1 to ${finding.threshold - 1}, under the threshold of ${finding.threshold}. ` +
      'Counts that small can identify people, so the dataset stays private until they are suppressed or rounded, or a data steward records why they are not about people.',
  }));
}
