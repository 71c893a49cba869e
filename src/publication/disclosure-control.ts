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

  let changed = true;
  while (changed) {
    changed = false;
    for (const constraint of constraints) {
      const suppressed = constraint.filter(([row, column]) => reasons[row]![column] !== null);
      if (suppressed.length !== 1) continue;
      const candidate = nextSmallest(constraint, reasons, full);
      if (!candidate) continue;
      reasons[candidate[0]]![candidate[1]] = 'secondary';
      changed = true;
    }
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

/** The unsuppressed entry with the smallest count, preferring non-zero cells over zeros and inner cells over totals. */
function nextSmallest(constraint: Array<[number, number]>, reasons: Array<Array<SuppressionReason | null>>, full: number[][]): [number, number] | null {
  const open = constraint.filter(([row, column]) => reasons[row]![column] === null);
  const group = ([row, column]: [number, number]) => {
    const isTotal = row === full.length - 1 || column === full[0]!.length - 1;
    return isTotal ? 2 : full[row]![column] === 0 ? 1 : 0;
  };
  open.sort((a, b) => group(a) - group(b) || full[a[0]]![a[1]]! - full[b[0]]![b[1]]!);
  return open[0] ?? null;
}

function sumAt(sums: number[][], row: number, column: number, rows: number, columns: number): number {
  const inRows = row === rows ? Array.from({ length: rows }, (_value, index) => index) : [row];
  const inColumns = column === columns ? Array.from({ length: columns }, (_value, index) => index) : [column];
  let total = 0;
  for (const r of inRows) for (const c of inColumns) total += sums[r]![c]!;
  return Math.round(total * 100) / 100;
}
