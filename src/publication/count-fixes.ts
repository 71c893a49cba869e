/**
 * The fixes for small counts that `civic publish` applies to a new version of a dataset: suppression of counts from 1
 * to 9 with secondary suppression where totals in the table would reveal them, or rounding of every count.
 */
import { validationError } from '../errors.ts';
import type { TableSchema, TableSchemaField } from '../ingest/table-schema.ts';
import { addSecondarySuppression } from './disclosure-control.ts';
import { isDimensionField, isSmallCount, SMALL_COUNT_THRESHOLD } from './small-counts.ts';

/** A fix for small counts in one whole-number column. */
export type CountFix = { type: 'suppress_small_counts'; column: string } | { type: 'round_counts'; column: string };

/** Rounded counts are multiples of this, so that no count from 1 to 9 is left. */
export const COUNT_ROUNDING_BASE = SMALL_COUNT_THRESHOLD;

export function isCountFix(fix: { type: string }): fix is CountFix {
  return fix.type === 'suppress_small_counts' || fix.type === 'round_counts';
}

/** Rounds a whole number to the nearest multiple of `base`, halves upwards, exactly at any size. */
export function roundToBase(text: string, base: number): string {
  const value = BigInt(text);
  const step = BigInt(base);
  const negative = value < 0n;
  const magnitude = negative ? -value : value;
  const rounded = ((magnitude + step / 2n) / step) * step;
  return String(negative && rounded !== 0n ? -rounded : rounded);
}

// "Total", "All", "All ages", "Grand total", "Ward total": a row or column that adds up the others.
const TOTAL_LABEL = /^(?:(?:grand |sub ?)?totals?|all(?: .*)?|.* total)$/i;

function isTotalLabel(value: string | null): boolean {
  return value !== null && TOTAL_LABEL.test(value.trim());
}

function isTotalHeader(header: string): boolean {
  return /\b(?:total|all)\b/i.test(header.replace(/_/g, ' '));
}

type Row = { id: number; values: ReadonlyArray<string | null> };

const cellKey = (rowId: number, column: number) => `${rowId}:${column}`;

/** Parses a cell as a whole number, or returns null for an empty cell or other text. */
function wholeNumber(text: string | null | undefined): number | null {
  return text !== null && text !== undefined && /^-?\d+$/.test(text) ? Number(text) : null;
}

/**
 * Constraints of the table: lists of cells that add up to a total cell in the same list. Two shapes are found.
 * A total row, whose label in one key column is "Total" or "All …", adds up the rows that match it on every other key
 * column. A total column ("Total", "All …") adds up the other count columns of its row when it does so in every row.
 *
 * NOTE: a total column that adds up only some of the other count columns, and totals published in another table,
 * are not found, so secondary suppression does not protect against them.
 */
function findConstraints(fields: readonly TableSchemaField[], rows: readonly Row[], measures: readonly number[]): { constraints: string[][]; totals: Set<string> } {
  const constraints: string[][] = [];
  const totals = new Set<string>();
  const isKey = (field: TableSchemaField, index: number) =>
    !measures.includes(index) && (field.type === 'string' || field.type === 'date' || field.type === 'datetime' || field.type === 'boolean' || isDimensionField(field));
  const keys = fields.flatMap((field, index) => (isKey(field, index) ? [index] : []));

  for (const key of keys) {
    const groups = new Map<string, { totals: Row[]; parts: Row[] }>();
    for (const row of rows) {
      const signature = JSON.stringify(keys.filter((other) => other !== key).map((other) => row.values[other] ?? null));
      const group = groups.get(signature) ?? { totals: [], parts: [] };
      (isTotalLabel(row.values[key] ?? null) ? group.totals : group.parts).push(row);
      groups.set(signature, group);
    }
    for (const group of groups.values()) {
      if (group.totals.length !== 1 || group.parts.length === 0) continue;
      const total = group.totals[0]!;
      for (const measure of measures) {
        const parts = group.parts.map((row) => wholeNumber(row.values[measure]));
        const sum = wholeNumber(total.values[measure]);
        if (sum === null || parts.some((part) => part === null)) continue;
        if (parts.reduce((accumulated, part) => accumulated! + part!, 0) !== sum) continue;
        const totalCell = cellKey(total.id, measure);
        totals.add(totalCell);
        constraints.push([...group.parts.map((row) => cellKey(row.id, measure)), totalCell]);
      }
    }
  }

  for (const totalColumn of measures.filter((index) => isTotalHeader(fields[index]!.title))) {
    const parts = measures.filter((index) => index !== totalColumn && !isTotalHeader(fields[index]!.title));
    if (parts.length < 2) continue;
    const adds = rows.length > 0 && rows.every((row) => {
      const values = parts.map((index) => wholeNumber(row.values[index]));
      const sum = wholeNumber(row.values[totalColumn]);
      return sum !== null && values.every((value) => value !== null) && values.reduce((accumulated, value) => accumulated! + value!, 0) === sum;
    });
    if (!adds) continue;
    for (const row of rows) {
      totals.add(cellKey(row.id, totalColumn));
      constraints.push([...parts.map((index) => cellKey(row.id, index)), cellKey(row.id, totalColumn)]);
    }
  }
  return { constraints, totals };
}

/**
 * Returns the cells outside the columns to round that must be rounded too: every cell of a constraint that contains a
 * rounded cell. A cell rounded this way may belong to another constraint, so the spread repeats until no constraint
 * mixes rounded and exact cells.
 */
function roundWithTotals(constraints: readonly string[][], toRound: ReadonlySet<number>): Set<string> {
  const cells = new Set<string>();
  const isRounded = (cell: string) => toRound.has(Number(cell.slice(cell.indexOf(':') + 1))) || cells.has(cell);
  let changed = true;
  while (changed) {
    changed = false;
    for (const constraint of constraints) {
      if (!constraint.some(isRounded)) continue;
      for (const cell of constraint) {
        if (isRounded(cell)) continue;
        cells.add(cell);
        changed = true;
      }
    }
  }
  return cells;
}

/**
 * Applies count fixes to rows. Build it with `CountFixer.plan`, which reads every row once to choose the cells to
 * suppress; `fix` then rewrites each row.
 */
export class CountFixer {
  private constructor(
    private readonly fields: readonly TableSchemaField[],
    private readonly fixes: readonly CountFix[],
    private readonly suppressed: Set<string>,
    private readonly primary: Map<number, number>,
    private readonly secondary: Map<number, number>,
    private readonly rounded: Map<number, number>,
    private readonly roundedWithTotals: Set<string>,
    private readonly alsoRounded: Map<number, number>,
  ) {}

  /** Checks the fixes against the schema: each names a whole-number column, and no column is both suppressed and rounded. */
  static check(schema: TableSchema, fixes: readonly CountFix[]): void {
    for (const fix of fixes) {
      const field = schema.fields.find((candidate) => candidate.title === fix.column);
      if (!field) continue;
      if (field.type !== 'integer') {
        throw validationError('not_a_count_column', `Column "${fix.column}" contains ${field.type} values, not whole-number counts. Suppress or round a column of counts.`, [{ field: fix.column, message: 'Not a count column' }]);
      }
    }
    const suppressed = new Set(fixes.filter((fix) => fix.type === 'suppress_small_counts').map((fix) => fix.column));
    const both = fixes.filter((fix) => fix.type === 'round_counts' && suppressed.has(fix.column)).map((fix) => `"${fix.column}"`);
    if (both.length > 0) {
      throw validationError('conflicting_count_fixes', `Column ${[...new Set(both)].join(', ')} cannot be both suppressed and rounded. Choose one fix for each column.`, both.map((column) => ({ field: column, message: 'Choose one fix' })));
    }
  }

  /**
   * Chooses the cells to suppress: counts from 1 to `threshold - 1` in each column to suppress, then secondary
   * suppression wherever a total in the table would give one of them away. Zeros are kept unless secondary
   * suppression has no other cell to take. Also chooses the cells to round beyond the columns to round: every cell
   * that adds up with a rounded cell to a total, and the total itself, because an exact total less exact parts would
   * give the rounded count back.
   */
  static async plan(schema: TableSchema, fixes: readonly CountFix[], readRows: () => AsyncIterable<Row[]>, threshold = SMALL_COUNT_THRESHOLD): Promise<CountFixer> {
    CountFixer.check(schema, fixes);
    const index = (column: string) => schema.fields.findIndex((field) => field.title === column);
    const toSuppress = new Set(fixes.filter((fix) => fix.type === 'suppress_small_counts').map((fix) => index(fix.column)));
    const toRound = new Set(fixes.filter((fix) => fix.type === 'round_counts').map((fix) => index(fix.column)));
    const suppressed = new Set<string>();
    const primary = new Map<number, number>();
    const secondary = new Map<number, number>();
    const rounded = new Map<number, number>();
    const roundedWithTotals = new Set<string>();
    const fixer = () => new CountFixer(schema.fields, fixes, suppressed, primary, secondary, rounded, roundedWithTotals, new Map());
    if (toSuppress.size === 0 && toRound.size === 0) return fixer();

    // NOTE: every row is held in memory while the cells are chosen, which suits aggregate tables (thousands of rows).
    const rows: Row[] = [];
    for await (const batch of readRows()) rows.push(...batch);
    // Every whole-number column that is not a dimension may take part in a total, whatever its header.
    const measures = schema.fields.flatMap((field, column) =>
      (field.type === 'integer' && !isDimensionField(field)) || toSuppress.has(column) || toRound.has(column) ? [column] : [],
    );
    const { constraints, totals } = findConstraints(schema.fields, rows, measures);
    for (const cell of roundWithTotals(constraints, toRound)) roundedWithTotals.add(cell);
    if (toSuppress.size === 0) return fixer();

    const values = new Map<string, number>();
    for (const row of rows) {
      for (const column of measures) {
        const value = wholeNumber(row.values[column]);
        if (value !== null) values.set(cellKey(row.id, column), value);
        if (toSuppress.has(column) && isSmallCount(row.values[column] ?? null, threshold)) {
          suppressed.add(cellKey(row.id, column));
          primary.set(column, (primary.get(column) ?? 0) + 1);
        }
      }
    }
    const added = addSecondarySuppression(constraints, suppressed, { count: (cell) => values.get(cell) ?? 0, isTotal: (cell) => totals.has(cell) });
    for (const cell of added) {
      const column = Number(cell.slice(cell.indexOf(':') + 1));
      secondary.set(column, (secondary.get(column) ?? 0) + 1);
    }
    return fixer();
  }

  /** Returns the row with its chosen cells suppressed (null) and the counts of rounded columns rounded. */
  fix(rowId: number, values: ReadonlyArray<string | null>): Array<string | null> {
    const fixed = [...values];
    const roundColumns = this.roundColumns();
    for (let column = 0; column < fixed.length; column += 1) {
      const requested = roundColumns.has(column);
      if (!requested && !this.roundedWithTotals.has(cellKey(rowId, column))) continue;
      if (this.suppressed.has(cellKey(rowId, column))) continue;
      const value = fixed[column] ?? null;
      if (value === null || !/^-?\d+$/.test(value)) continue;
      const result = roundToBase(value, COUNT_ROUNDING_BASE);
      if (result === value) continue;
      const changed = requested ? this.rounded : this.alsoRounded;
      changed.set(column, (changed.get(column) ?? 0) + 1);
      fixed[column] = result;
    }
    for (let column = 0; column < fixed.length; column += 1) {
      if (this.suppressed.has(cellKey(rowId, column))) fixed[column] = null;
    }
    return fixed;
  }

  /** Returns the schema fields, each column that a fix changed with a description of the fix. */
  fixedFields(): TableSchemaField[] {
    return this.fields.map((field, column) => {
      const notes: string[] = [];
      if (this.primary.has(column) || this.fixes.some((fix) => fix.type === 'suppress_small_counts' && fix.column === field.title)) {
        notes.push(`Counts from 1 to ${SMALL_COUNT_THRESHOLD - 1} are suppressed and left empty.`);
      }
      if (this.secondary.has(column)) notes.push('Some other counts are left empty so that totals cannot reveal a suppressed count.');
      if (this.fixes.some((fix) => fix.type === 'round_counts' && fix.column === field.title)) notes.push(`Counts are rounded to the nearest ${COUNT_ROUNDING_BASE}.`);
      else if (this.roundsWithTotals(column)) notes.push(`Some counts are rounded to the nearest ${COUNT_ROUNDING_BASE} so that totals cannot reveal a rounded count.`);
      if (notes.length === 0) return field;
      return { ...field, description: [field.description, ...notes].filter((text) => text !== undefined && text !== '').join(' ') };
    });
  }

  /** Describes what was done to each column, with cell counts, for the load report. Call it after every row is fixed. */
  descriptions(): string[] {
    const cells = (count: number) => `${count} ${count === 1 ? 'cell' : 'cells'}`;
    const lines: string[] = [];
    for (const fix of this.fixes) {
      const column = this.fields.findIndex((field) => field.title === fix.column);
      if (fix.type === 'round_counts') {
        lines.push(`round counts in "${fix.column}" to the nearest ${COUNT_ROUNDING_BASE} (${cells(this.rounded.get(column) ?? 0)} changed)`);
        continue;
      }
      const extra = this.secondary.get(column) ?? 0;
      lines.push(`suppress counts from 1 to ${SMALL_COUNT_THRESHOLD - 1} in "${fix.column}" (${cells(this.primary.get(column) ?? 0)}${extra > 0 ? `, and ${cells(extra)} more so that totals cannot reveal them` : ''})`);
    }
    for (const [column, count] of this.secondary) {
      if (this.fixes.some((fix) => fix.type === 'suppress_small_counts' && fix.column === this.fields[column]!.title)) continue;
      lines.push(`suppress ${cells(count)} in "${this.fields[column]!.title}" so that totals cannot reveal a suppressed count`);
    }
    for (const [column, count] of [...this.alsoRounded].sort(([a], [b]) => a - b)) {
      lines.push(`round ${cells(count)} in "${this.fields[column]!.title}" to the nearest ${COUNT_ROUNDING_BASE} so that totals cannot reveal a rounded count`);
    }
    return lines;
  }

  private roundColumns(): Set<number> {
    return new Set(this.fixes.filter((fix) => fix.type === 'round_counts').map((fix) => this.fields.findIndex((field) => field.title === fix.column)));
  }

  private roundsWithTotals(column: number): boolean {
    const suffix = `:${column}`;
    for (const cell of this.roundedWithTotals) if (cell.endsWith(suffix)) return true;
    return false;
  }
}
