/**
 * Statistical disclosure control for published aggregates: primary suppression of small counts, rounding, and
 * secondary suppression so that no suppressed cell can be worked out from the published totals.
 */

export interface DisclosureRule {
  name: string;
  /** Counts from 1 to this value are suppressed. Zero is published: an empty group names nobody. */
  suppressUpTo: number;
  /** Published counts are rounded to the nearest multiple of this. */
  roundTo: number;
}

export const DISCLOSURE_RULES: Record<string, DisclosureRule> = {
  // Counts under 10 suppressed, the rest rounded to the nearest 5.
  default: { name: 'default', suppressUpTo: 9, roundTo: 5 },
  // NHS England's small-number rule for hospital statistics: 1 to 7 suppressed, the rest rounded to the nearest 5.
  nhs: { name: 'nhs', suppressUpTo: 7, roundTo: 5 },
};

export type SuppressionReason = 'primary' | 'secondary';

/** One published figure. A suppressed figure keeps its place with a null value. */
export interface PublishedValue {
  value: number | null;
  suppressed: boolean;
  reason?: SuppressionReason;
}

/** True counts (and sums) in a grid of rows × columns; a one-dimensional table has one column. */
export interface AggregateGrid {
  counts: number[][];
  sums?: number[][];
}

export interface ProtectedTable {
  cells: PublishedValue[][];
  /** Per row, the total across columns; null for a one-dimensional table. */
  rowTotals: PublishedValue[] | null;
  /** Per column, the total down the rows; null for a one-dimensional table, whose only column total is the grand total. */
  columnTotals: PublishedValue[] | null;
  grandTotal: PublishedValue;
}

export function roundCount(count: number, roundTo: number): number {
  return Math.round(count / roundTo) * roundTo;
}

/**
 * The figures of an (R+1) × (C+1) grid whose last row and column are the totals. Every grid row and grid column is a
 * sum constraint (entries add up to the last entry), so a constraint with exactly one suppressed entry would give it
 * away. Secondary suppression adds the next smallest entry to any such constraint and repeats until none is left.
 */
export function protectTable(grid: AggregateGrid, rule: DisclosureRule): ProtectedTable {
  const rows = grid.counts.length;
  const columns = rows === 0 ? 0 : grid.counts[0]!.length;
  const twoDimensional = columns > 1;
  const full: number[][] = [];
  for (let row = 0; row < rows; row += 1) {
    const line = [...grid.counts[row]!];
    line.push(line.reduce((total, count) => total + count, 0));
    full.push(line);
  }
  const totalsLine: number[] = [];
  for (let column = 0; column <= columns; column += 1) totalsLine.push(full.reduce((total, line) => total + line[column]!, 0));
  full.push(totalsLine);

  const reasons: Array<Array<SuppressionReason | null>> = full.map((line) =>
    line.map((count) => (count >= 1 && count <= rule.suppressUpTo ? 'primary' : null)),
  );

  // Constraints: each row of cells with its row total (two dimensions only), each column with its column total, and
  // the column totals with the grand total.
  const constraints: Array<Array<[number, number]>> = [];
  for (let column = 0; column < columns; column += 1) {
    constraints.push(Array.from({ length: rows + 1 }, (_value, row) => [row, column] as [number, number]));
  }
  if (twoDimensional) {
    for (let row = 0; row <= rows; row += 1) {
      constraints.push(Array.from({ length: columns + 1 }, (_value, column) => [row, column] as [number, number]));
    }
    constraints.push(Array.from({ length: rows + 1 }, (_value, row) => [row, columns] as [number, number]));
  }

  const key = (row: number, column: number) => `${row},${column}`;
  const position = (cell: string) => cell.split(',').map(Number) as [number, number];
  const suppressed = new Set<string>();
  for (let row = 0; row <= rows; row += 1) {
    for (let column = 0; column <= columns; column += 1) {
      if (reasons[row]![column] !== null) suppressed.add(key(row, column));
    }
  }
  const secondary = addSecondarySuppression(
    constraints.map((constraint) => constraint.map(([row, column]) => key(row, column))),
    suppressed,
    {
      count: (cell) => full[position(cell)[0]]![position(cell)[1]]!,
      isTotal: (cell) => position(cell)[0] === rows || position(cell)[1] === columns,
    },
  );
  for (const cell of secondary) {
    const [row, column] = position(cell);
    reasons[row]![column] = 'secondary';
  }

  const publish = (row: number, column: number): PublishedValue => {
    const reason = reasons[row]![column];
    if (reason) return { value: null, suppressed: true, reason };
    if (grid.sums) return { value: sumAt(grid.sums, row, column, rows, columns), suppressed: false };
    return { value: roundCount(full[row]![column]!, rule.roundTo), suppressed: false };
  };

  const cells: PublishedValue[][] = [];
  for (let row = 0; row < rows; row += 1) cells.push(Array.from({ length: columns }, (_value, column) => publish(row, column)));
  return {
    cells,
    rowTotals: twoDimensional ? Array.from({ length: rows }, (_value, row) => publish(row, columns)) : null,
    columnTotals: twoDimensional ? Array.from({ length: columns }, (_value, column) => publish(rows, column)) : null,
    grandTotal: publish(rows, twoDimensional ? columns : 0),
  };
}

/**
 * Adds secondary suppression: each constraint lists cells that add up to a total (the total among them), so a
 * constraint with exactly one suppressed cell would give that cell away. The next smallest open cell of such a
 * constraint is suppressed, preferring non-zero cells over zeros and inner cells over totals, until none is left.
 * `suppressed` is updated in place; the cells added are returned in the order they were chosen.
 */
export function addSecondarySuppression(
  constraints: ReadonlyArray<readonly string[]>,
  suppressed: Set<string>,
  cells: { count(cell: string): number; isTotal(cell: string): boolean },
): string[] {
  const added: string[] = [];
  const group = (cell: string) => (cells.isTotal(cell) ? 2 : cells.count(cell) === 0 ? 1 : 0);
  let changed = true;
  while (changed) {
    changed = false;
    for (const constraint of constraints) {
      if (constraint.filter((cell) => suppressed.has(cell)).length !== 1) continue;
      const open = constraint.filter((cell) => !suppressed.has(cell));
      open.sort((a, b) => group(a) - group(b) || cells.count(a) - cells.count(b));
      const candidate = open[0];
      if (candidate === undefined) continue;
      suppressed.add(candidate);
      added.push(candidate);
      changed = true;
    }
  }
  return added;
}

function sumAt(sums: number[][], row: number, column: number, rows: number, columns: number): number {
  const inRows = row === rows ? Array.from({ length: rows }, (_value, index) => index) : [row];
  const inColumns = column === columns ? Array.from({ length: columns }, (_value, index) => index) : [column];
  let total = 0;
  for (const r of inRows) for (const c of inColumns) total += sums[r]![c]!;
  return Math.round(total * 100) / 100;
}
