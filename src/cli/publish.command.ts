import os from 'node:os';
import { parseArgs } from 'node:util';
import { AppError } from '../errors.ts';
import { parseRedactOption, REDACTED_TEXT } from '../privacy/redaction.ts';
import { PERSONAL_DATA_KINDS } from '../privacy/scanner.ts';
import { COUNT_ROUNDING_BASE } from '../publication/count-fixes.ts';
import type { PublicationFix } from '../publication/fixed-version.ts';
import { GATE_EXIT_STATUS } from '../publication/import-outcome.ts';
import { isSmallCountFinding } from '../publication/publication-findings.ts';
import { countOf } from '../text.ts';
import { describeSmallCountFinding, SMALL_COUNT_THRESHOLD } from '../publication/small-counts.ts';
import type { PublishResult } from '../publication/publication.service.ts';
import { UsageError, type Command } from './command.ts';
import { openServices } from './runtime.ts';

const USAGE =
  'civic publish DATASET [--redact COLUMN[:KIND]]... [--drop COLUMN]... [--generalise-postcode COLUMN]... ' +
  '[--generalise-dob COLUMN]... [--suppress-small-counts COLUMN]... [--round-counts COLUMN]... [--justify "REASON"] [--open] [--json]';

const HELP = `Fixes personal data or small counts in the current version of DATASET, records a justification, or opens the
dataset. Each run with fixes writes a new version. The fixes, the justification and opening happen together or not at
all. Earlier versions are kept for the organisation and withheld from the public while they have findings.

Options:
  --redact COLUMN[:KIND]          Replace each cell of COLUMN that contains personal data with "${REDACTED_TEXT}".
                                  With :KIND, only cells of that kind. Repeat the option for more columns.
  --drop COLUMN                   Leave COLUMN out of the new version.
  --generalise-postcode COLUMN    Cut full postcodes in COLUMN to postcode sectors (RM17 6LH becomes RM17 6).
  --generalise-dob COLUMN         Replace dates of birth in COLUMN with the year of birth.
  --suppress-small-counts COLUMN  Leave counts from 1 to ${SMALL_COUNT_THRESHOLD - 1} in the whole-number COLUMN empty, and other counts
                                  too where a total row or total column would reveal them. Zeros are kept.
  --round-counts COLUMN           Round every count in the whole-number COLUMN to the nearest ${COUNT_ROUNDING_BASE} (1 to 4 become 0,
                                  5 to 14 become 10), and the counts that add up with them to a total row or total
                                  column, with the totals, so that an exact total cannot reveal a rounded count.
  --justify "REASON"              Record why the current version may be published with its findings, such as counts
                                  that are not about people (10 to 2,000 characters). The reason is audited.
  --open                          Make the dataset open. This is refused while a finding is neither fixed nor justified.
  --json                          Print the result as one JSON object instead of text.

COLUMN is a header as in the file ("Supplier name") or a column id ("supplier_name"). Give at least one fix,
--justify or --open. Each fix option may be repeated.

Kinds for --redact COLUMN:KIND:
  ${PERSONAL_DATA_KINDS.join(', ')}

The command opens the database itself, so stop a server that uses the embedded database first (with DATABASE_URL
it can run alongside).

Exit status: 0 when done, 2 for wrong arguments (including an unknown kind), 3 when --open is refused because
personal data or small counts remain, 1 for any other failure (such as an unknown dataset or column).

Examples:
  civic publish care-packages --drop nhs_number --drop name --generalise-dob date_of_birth \\
    --generalise-postcode postcode --redact social_worker_notes --open
  civic publish children-in-care-by-ward --suppress-small-counts "Children in care" --open`;

/** Parses one --redact value, turning an unknown kind into a usage error (exit status 2). */
function redactFix(option: string): PublicationFix {
  try {
    return parseRedactOption(option);
  } catch (error) {
    if (error instanceof AppError && error.code === 'unknown_kind') throw new UsageError(error.message);
    throw error;
  }
}

function parsePublishArguments(argv: string[]): { dataset: string; fixes: PublicationFix[]; justification?: string; open: boolean; json: boolean } {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      redact: { type: 'string', multiple: true },
      drop: { type: 'string', multiple: true },
      'generalise-postcode': { type: 'string', multiple: true },
      'generalise-dob': { type: 'string', multiple: true },
      'suppress-small-counts': { type: 'string', multiple: true },
      'round-counts': { type: 'string', multiple: true },
      justify: { type: 'string' },
      open: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'Give the DATASET slug to publish.' : `Give one DATASET slug, not ${positionals.length}.`);
  const fixes: PublicationFix[] = [
    ...(values.redact ?? []).map(redactFix),
    ...(values.drop ?? []).map((column): PublicationFix => ({ type: 'drop', column })),
    ...(values['generalise-postcode'] ?? []).map((column): PublicationFix => ({ type: 'generalise_postcode', column })),
    ...(values['generalise-dob'] ?? []).map((column): PublicationFix => ({ type: 'generalise_dob', column })),
    ...(values['suppress-small-counts'] ?? []).map((column): PublicationFix => ({ type: 'suppress_small_counts', column })),
    ...(values['round-counts'] ?? []).map((column): PublicationFix => ({ type: 'round_counts', column })),
  ];
  if (fixes.some((fix) => fix.column.trim() === '')) throw new UsageError('A fix needs a COLUMN name.');
  if (fixes.length === 0 && values.justify === undefined && !values.open) throw new UsageError('Give at least one fix, --justify "REASON" or --open.');
  return { dataset: positionals[0]!, fixes, justification: values.justify, open: values.open, json: values.json };
}

function printResult(result: PublishResult, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const lines: string[] = [];
  if (result.fixes.length > 0) lines.push(`Made version ${result.version} of ${result.dataset}: ${result.fixes.join('; ')}.`);
  if (result.personal_data.length === 0) lines.push('No personal data or small counts found in the current version.');
  for (const finding of result.personal_data) {
    if (isSmallCountFinding(finding)) lines.push(`Small counts remain: ${describeSmallCountFinding(finding)}, example rows ${finding.rows.join(', ')}.`);
    else lines.push(`Personal data remains: ${finding.column}: ${finding.kind} in ${countOf(finding.count, 'cell')}, example rows ${finding.rows.join(', ')}.`);
  }
  if (result.justified) lines.push('A justification is recorded for the remaining findings.');
  lines.push(`Dataset ${result.dataset} is ${result.visibility}.`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

export const publishCommand: Command = {
  name: 'publish',
  usage: USAGE,
  help: HELP,
  async run(argv) {
    const args = parsePublishArguments(argv);
    const services = await openServices({ logLevel: process.env.LOG_LEVEL || 'warn' });
    try {
      const result = await services.publication.publish({ kind: 'operator', name: os.userInfo().username }, args.dataset, {
        fixes: args.fixes,
        justification: args.justification,
        open: args.open,
      });
      printResult(result, args.json);
      return 0;
    } catch (error) {
      if (error instanceof AppError && error.code === 'personal_data_found') {
        process.stderr.write(`civic publish: ${error.message}\n`);
        return GATE_EXIT_STATUS;
      }
      throw error;
    } finally {
      await services.db.close();
    }
  },
};
