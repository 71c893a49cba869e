import type { LoadReport, Visibility } from '../catalogue/catalogue.types.ts';
import { availableFixes, describeFindings, findingsOf, findingsSubject, isSmallCountFinding } from './publication-findings.ts';
import type { TransparencyReport } from './transparency-check.ts';
import { countOf } from '../text.ts';

/** Exit status of `civic import --visibility open` and `civic publish --open` when the publication gate refuses. */
export const GATE_EXIT_STATUS = 3;

/** Most Transparency Code problems printed in the text report; `--json` gives all that the report holds. */
const PRINTED_PROBLEMS = 50;

/**
 * Builds the lines `civic import` prints after its report about the publication gate and the Transparency Code check, and
 * its exit status: GATE_EXIT_STATUS when open was requested but personal data or small counts kept the dataset
 * private. Small counts are not repeated here because the report's warnings name them.
 */
export function publicationOutcome(report: LoadReport, requested: Visibility | undefined): { lines: string[]; exitCode: number } {
  const lines: string[] = [];
  const transparency = report.transparency as TransparencyReport | undefined;
  if (transparency) {
    if (transparency.valid) {
      lines.push(`Transparency Code schema "${transparency.schema}": no problems.`);
    } else {
      lines.push(`Transparency Code schema "${transparency.schema}": ${countOf(transparency.problem_count, 'problem')}.`);
      for (const problem of transparency.problems.slice(0, PRINTED_PROBLEMS)) lines.push(`  ${problem.message}`);
      if (transparency.problem_count > PRINTED_PROBLEMS) lines.push(`  … and ${transparency.problem_count - PRINTED_PROBLEMS} more; --json lists up to ${transparency.problems.length}.`);
    }
  }
  const findings = findingsOf(report);
  const personal = findings.filter((finding) => !isSmallCountFinding(finding));
  if (personal.length > 0) {
    lines.push(`Personal data found: ${describeFindings(personal)}.`);
    for (const finding of personal) lines.push(`  ${finding.column}: ${finding.kind}, example rows ${finding.rows.join(', ')}`);
  }
  if (requested === 'open' && report.visibility !== 'open') {
    lines.push(
      `The dataset was loaded as private because it holds ${findingsSubject(findings)}. To publish it with "civic publish ${report.dataset}", ${availableFixes(findings)}, then add --open.`,
    );
    return { lines, exitCode: GATE_EXIT_STATUS };
  }
  return { lines, exitCode: 0 };
}
