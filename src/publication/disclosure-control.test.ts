import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DISCLOSURE_RULES, protectTable, type ProtectedTable, type PublishedValue } from './disclosure-control.ts';

/** Deterministic pseudo-random numbers (mulberry32), so every run checks the same tables. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Plays the attacker: every published margin is a sum constraint, and a constraint with exactly one unknown entry gives
 * that entry away. Recovered entries become known and the solver repeats until it learns nothing more. Returns the
 * suppressed positions it recovered, which must be none.
 */
function recoverSuppressed(table: ProtectedTable): string[] {
  const rows = table.cells.length;
  const columns = rows === 0 ? 0 : table.cells[0]!.length;
  const grid: PublishedValue[][] = table.cells.map((line, row) => (table.rowTotals ? [...line, table.rowTotals[row]!] : [...line]));
  const totalsLine = table.columnTotals ? [...table.columnTotals, table.grandTotal] : [table.grandTotal];
  grid.push(totalsLine);
  const width = table.rowTotals ? columns + 1 : columns;
  const known = grid.map((line) => line.map((entry) => !entry.suppressed));

  const constraints: Array<Array<[number, number]>> = [];
  for (let column = 0; column < width; column += 1) constraints.push(Array.from({ length: rows + 1 }, (_v, row) => [row, column] as [number, number]));
  if (table.rowTotals) for (let row = 0; row <= rows; row += 1) constraints.push(Array.from({ length: width }, (_v, column) => [row, column] as [number, number]));

  const recovered: string[] = [];
  let progress = true;
  while (progress) {
    progress = false;
    for (const constraint of constraints) {
      const unknown = constraint.filter(([row, column]) => !known[row]![column]);
      if (unknown.length !== 1) continue;
      const [row, column] = unknown[0]!;
      known[row]![column] = true;
      recovered.push(`${row},${column}`);
      progress = true;
    }
  }
  return recovered;
}

function randomCounts(next: () => number, rows: number, columns: number): number[][] {
  return Array.from({ length: rows }, () =>
    Array.from({ length: columns }, () => {
      const draw = next();
      if (draw < 0.15) return 0;
      if (draw < 0.55) return 1 + Math.floor(next() * 9);
      return 10 + Math.floor(next() * 200);
    }),
  );
}

describe('disclosure control', () => {
  it('suppresses small counts and rounds the rest', () => {
    const table = protectTable({ counts: [[3], [12], [48], [0]] }, DISCLOSURE_RULES.default!);
    assert.deepEqual(table.cells[0]![0], { value: null, suppressed: true, reason: 'primary' });
    assert.equal(table.cells[2]![0]!.value, 50, '48 rounds to the nearest 5');
    assert.deepEqual(table.cells[3]![0], { value: 0, suppressed: false }, 'an empty group is published');
    // One suppressed cell and a published grand total would give it away, so the next smallest goes too.
    assert.deepEqual(table.cells[1]![0], { value: null, suppressed: true, reason: 'secondary' });
    assert.equal(table.grandTotal.value, 65);
  });

  it('applies the NHS rule of 1 to 7', () => {
    const table = protectTable({ counts: [[8], [7], [30], [25]] }, DISCLOSURE_RULES.nhs!);
    assert.equal(table.cells[0]![0]!.reason, 'secondary');
    assert.equal(table.cells[1]![0]!.reason, 'primary');
    assert.equal(table.cells[2]![0]!.value, 30);
  });

  it('suppresses a small grand total', () => {
    const table = protectTable({ counts: [[4], [0]] }, DISCLOSURE_RULES.default!);
    assert.equal(table.grandTotal.suppressed, true);
    assert.equal(table.grandTotal.reason, 'primary');
  });

  it('suppresses sums where counts are suppressed', () => {
    const table = protectTable({ counts: [[2, 40], [30, 50]], sums: [[900.5, 4000], [3000, 5000.25]] }, DISCLOSURE_RULES.default!);
    assert.equal(table.cells[0]![0]!.reason, 'primary');
    assert.equal(table.cells[0]![0]!.value, null);
    const suppressed = table.cells.flat().filter((cell) => cell.suppressed).length;
    assert.equal(suppressed, 4, 'a 2 × 2 table with one small cell loses all four cells');
    assert.equal(table.grandTotal.value, 12900.75);
  });

  it('leaves no suppressed cell recoverable in one dimension', () => {
    const next = random(7);
    for (let trial = 0; trial < 300; trial += 1) {
      const counts = randomCounts(next, 1 + Math.floor(next() * 8), 1);
      for (const rule of Object.values(DISCLOSURE_RULES)) {
        const table = protectTable({ counts }, rule);
        assert.deepEqual(recoverSuppressed(table), [], JSON.stringify({ counts, rule: rule.name }));
      }
    }
  });

  it('leaves no suppressed cell recoverable in two dimensions', () => {
    const next = random(11);
    let suppressedSeen = 0;
    for (let trial = 0; trial < 300; trial += 1) {
      const counts = randomCounts(next, 1 + Math.floor(next() * 6), 2 + Math.floor(next() * 5));
      for (const rule of Object.values(DISCLOSURE_RULES)) {
        const table = protectTable({ counts }, rule);
        suppressedSeen += table.cells.flat().filter((cell) => cell.suppressed).length;
        assert.deepEqual(recoverSuppressed(table), [], JSON.stringify({ counts, rule: rule.name }));
      }
    }
    assert.ok(suppressedSeen > 1000, 'the random tables exercise suppression');
  });

  it('marks every small count as suppressed', () => {
    const next = random(3);
    for (let trial = 0; trial < 100; trial += 1) {
      const counts = randomCounts(next, 4, 3);
      const table = protectTable({ counts }, DISCLOSURE_RULES.default!);
      counts.forEach((line, row) =>
        line.forEach((count, column) => {
          if (count >= 1 && count <= 9) assert.equal(table.cells[row]![column]!.suppressed, true);
        }),
      );
    }
  });
});
