import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CopyTextWriter } from './copy-text.ts';
import type { TableSchema } from './table-schema.ts';

/** A 32-bit linear congruential generator, so every run tests the same rows. */
function makeRandom(seed: number): (limit: number) => number {
  let state = seed >>> 0;
  return (limit) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state >>> 8) % limit;
  };
}

/** Escapes one character at a time, as the expected COPY text. */
function referenceEscape(text: string): string {
  let escaped = '';
  for (const char of text) {
    if (char === '\\') escaped += '\\\\';
    else if (char === '\t') escaped += '\\t';
    else if (char === '\n') escaped += '\\n';
    else if (char === '\r') escaped += '\\r';
    else escaped += char;
  }
  return escaped;
}

const TEXT_PIECES = ['a', 'Bc', ' ', '\t', '\\', '\n', '\r', '\u00a0', 'NA', '£', '😀', '"', ','];

/** Number cells with the COPY text expected for a file whose decimal mark is a point; null marks a value that does not fit. */
const NUMBER_CELLS: Array<[string, string | null]> = [
  ['12', '12'],
  [' 7 ', '7'],
  ['1234.56', '1234.56'],
  ['-1234.56', '-1234.56'],
  ['£1,234.50', '1234.50'],
  ['-£25', '-25'],
  ['(300.00)', '-300.00'],
  ['0.5', '0.5'],
  ['.5', '0.5'],
  ['007', null],
  ['12,34', null],
  ['abc', null],
];

const SCHEMA: TableSchema = {
  fields: [
    { name: 'label', title: 'Label', type: 'string' },
    { name: 'amount', title: 'Amount', type: 'number', missingValues: ['-'] },
    { name: 'code', title: 'Code', type: 'string', missingValues: ['NA'] },
  ],
};

interface GeneratedRow {
  cells: string[];
  /** The expected line without `_id`, or null when the row does not fit. */
  expected: string | null;
}

function generateText(random: (limit: number) => number): string {
  let text = '';
  const length = random(5);
  for (let k = 0; k < length; k++) text += TEXT_PIECES[random(TEXT_PIECES.length)];
  return text;
}

function expectedText(text: string, missing: string[]): string {
  if (text.trim().length === 0 || missing.includes(text.trim())) return '\\N';
  return referenceEscape(text);
}

function generateRow(random: (limit: number) => number): GeneratedRow {
  const label = generateText(random);
  const code = generateText(random);
  const choice = random(NUMBER_CELLS.length + 2);
  let amount: string;
  let amountText: string | null;
  if (choice === NUMBER_CELLS.length) {
    amount = ' - ';
    amountText = '\\N';
  } else if (choice === NUMBER_CELLS.length + 1) {
    amount = '  ';
    amountText = '\\N';
  } else {
    [amount, amountText] = NUMBER_CELLS[choice]!;
  }
  // Short rows leave the last cells out, which COPY receives as null.
  const width = 1 + random(3);
  const cells = [label, amount, code].slice(0, width);
  const expectedAmount = width < 2 ? '\\N' : amountText;
  if (expectedAmount === null) return { cells, expected: null };
  const expectedCode = width < 3 ? '\\N' : expectedText(code, ['NA']);
  return { cells, expected: [expectedText(label, []), expectedAmount, expectedCode].join('\t') };
}

describe('COPY text writer against reference', () => {
  it('matches on generated rows', () => {
    const random = makeRandom(11);
    const writer = new CopyTextWriter(SCHEMA, '.');
    let expectedChunk = '';
    let id = 0;
    for (let row = 0; row < 20_000; row++) {
      const generated = generateRow(random);
      const written = writer.write(generated.cells);
      assert.equal(written, generated.expected !== null, JSON.stringify(generated.cells));
      if (generated.expected !== null) {
        id++;
        expectedChunk += `${id}\t${generated.expected}\n`;
      }
      assert.equal(writer.rows, id);
      if (random(50) === 0 && writer.pendingRows > 0) {
        assert.equal(writer.take(), expectedChunk);
        expectedChunk = '';
        assert.equal(writer.pendingRows, 0);
      }
    }
    assert.ok(writer.pendingRows > 0);
    assert.equal(writer.take(), expectedChunk);
  });

  it('counts pending rows until taken', () => {
    const writer = new CopyTextWriter(SCHEMA, '.');
    assert.equal(writer.write(['a', '1', 'b']), true);
    assert.equal(writer.write(['c', 'x', 'd']), false);
    assert.equal(writer.write(['e']), true);
    assert.equal(writer.pendingRows, 2);
    assert.equal(writer.take(), '1\ta\t1\tb\n2\te\t\\N\t\\N\n');
    assert.equal(writer.pendingRows, 0);
    assert.equal(writer.write(['f', '2,5', 'g']), false);
    assert.equal(writer.write(['h', '£2,500', '\\']), true);
    assert.equal(writer.take(), '3\th\t2500\t\\\\\n');
  });

  it('reads decimal commas', () => {
    const writer = new CopyTextWriter(SCHEMA, ',');
    assert.equal(writer.write(['a', '1.234,56', '']), true);
    assert.equal(writer.write(['b', '-0,5', '']), true);
    assert.equal(writer.write(['c', '€1.000', '']), true);
    assert.equal(writer.take(), '1\ta\t1234.56\t\\N\n2\tb\t-0.5\t\\N\n3\tc\t1000\t\\N\n');
  });
});
