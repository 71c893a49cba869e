import { validationError } from '../errors.ts';
import { generalisePostcodes, yearOfDate } from './identifiers.ts';
import { ColumnRoles, inspectRow, PERSONAL_DATA_KINDS, type PersonalDataKind } from './scanner.ts';

/** The text that replaces a redacted cell (with an en dash). */
export const REDACTED_TEXT = 'REDACTED – personal data';

/** One built-in fix for personal data, applied to every row of a dataset version. */
export type PersonalDataFix =
  | { type: 'redact'; column: string; kind?: PersonalDataKind }
  | { type: 'drop'; column: string }
  | { type: 'generalise_postcode'; column: string }
  | { type: 'generalise_dob'; column: string };

export function describeFix(fix: PersonalDataFix): string {
  switch (fix.type) {
    case 'redact':
      return fix.kind ? `redact ${fix.kind} in "${fix.column}"` : `redact personal data in "${fix.column}"`;
    case 'drop':
      return `drop column "${fix.column}"`;
    case 'generalise_postcode':
      return `generalise postcodes in "${fix.column}" to sectors`;
    case 'generalise_dob':
      return `generalise dates of birth in "${fix.column}" to years`;
  }
}

/**
 * Parses `COLUMN` or `COLUMN:KIND` as given to `civic publish --redact`. Text after the last colon that is written
 * like a kind (lower case, digits and underscores) must be one of PERSONAL_DATA_KINDS, or an `unknown_kind`
 * validation error lists them.
 *
 * NOTE: a header that itself ends in a colon and a lower-case word ("Notes:internal") reads as a column and a kind,
 * so name such a column by its column id instead.
 */
export function parseRedactOption(option: string): PersonalDataFix {
  const separator = option.lastIndexOf(':');
  const maybeKind = separator > 0 ? option.slice(separator + 1) : '';
  if ((PERSONAL_DATA_KINDS as readonly string[]).includes(maybeKind)) {
    return { type: 'redact', column: option.slice(0, separator), kind: maybeKind as PersonalDataKind };
  }
  if (/^[a-z][a-z0-9_]*$/.test(maybeKind)) {
    throw validationError(
      'unknown_kind',
      `Kind "${maybeKind}" in --redact "${option}" is not a kind of personal data. Use one of ${PERSONAL_DATA_KINDS.join(', ')}, or give the column alone to redact every kind in it.`,
      [{ field: 'redact', message: 'Unknown kind' }],
    );
  }
  return { type: 'redact', column: option };
}

/** Rejects fixes that name a column the dataset does not have, listing the columns it has. */
export function checkFixColumns(headers: readonly string[], fixes: ReadonlyArray<{ column: string }>): void {
  const problems = fixes.filter((fix) => !headers.includes(fix.column));
  if (problems.length === 0) return;
  const names = problems.map((fix) => `"${fix.column}"`).join(', ');
  throw validationError('unknown_column', `Column ${names} is not in the dataset. The columns are: ${headers.map((header) => `"${header}"`).join(', ')}.`, problems.map((fix) => ({ field: fix.column, message: 'Column not found' })));
}

/**
 * Applies fixes row by row. Personal data is found on the original row, so row-level rules (a SOLE creditor type, a
 * sort code beside an account number) still apply when the column that gave the context is dropped. A redaction also
 * removes each value shaped like a person's name in a bare "Name" column, even where the scan found too few of them
 * to report the column.
 */
export class RowFixer {
  readonly outputHeaders: string[];
  private readonly roles: ColumnRoles;
  private readonly keep: number[];
  private readonly byColumn = new Map<number, PersonalDataFix[]>();

  constructor(readonly headers: readonly string[], fixes: readonly PersonalDataFix[]) {
    if (fixes.length === 0) throw validationError('no_fixes', 'Choose at least one fix: redact, drop, or generalise a column.');
    this.roles = new ColumnRoles(headers);
    checkFixColumns(headers, fixes);
    for (const fix of fixes) {
      const index = headers.indexOf(fix.column);
      this.byColumn.set(index, [...(this.byColumn.get(index) ?? []), fix]);
    }
    const dropped = new Set(fixes.filter((fix) => fix.type === 'drop').map((fix) => headers.indexOf(fix.column)));
    this.keep = headers.map((_header, index) => index).filter((index) => !dropped.has(index));
    this.outputHeaders = this.keep.map((index) => headers[index]!);
  }

  /** The row after the fixes, with dropped columns left out. */
  fix(values: ReadonlyArray<string | null>): Array<string | null> {
    const hits = inspectRow(this.roles, values);
    const fixed = [...values];
    for (const [column, fixes] of this.byColumn) {
      for (const fix of fixes) {
        const value = fixed[column];
        if (value === null || value === undefined) continue;
        if (fix.type === 'redact') {
          const matches = hits.some((hit) => hit.column === column && (fix.kind === undefined || hit.kind === fix.kind));
          if (matches) fixed[column] = REDACTED_TEXT;
        } else if (fix.type === 'generalise_postcode') {
          fixed[column] = generalisePostcodes(value);
        } else if (fix.type === 'generalise_dob') {
          const year = yearOfDate(value);
          fixed[column] = year === null ? value : String(year);
        }
      }
    }
    return this.keep.map((index) => fixed[index] ?? null);
  }
}
