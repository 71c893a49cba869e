import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CsvTokenizer, type SourceRecord } from './csv-tokenizer.ts';
import { IngestError } from './ingest.types.ts';

type Outcome = { records: SourceRecord[] } | { error: string };

const FILENAME = 'generated.csv';

function unterminatedMessage(line: number): string {
  return `${FILENAME} has a quoted cell starting on line ${line} that never closes. Add the missing closing quote (") and upload the file again.`;
}

/**
 * Tokenizes a whole text one character at a time, as the expected output. CR, LF and CRLF each end a record once. A
 * quote opens a quoted cell only at the start of a cell, and a doubled quote inside one is a quote. Text after the
 * closing quote joins the cell, and a delimiter at the very end adds an empty cell.
 */
function referenceTokenize(text: string, delimiter: string): Outcome {
  const records: SourceRecord[] = [];
  const n = text.length;
  let i = 0;
  let line = 1;
  while (i < n) {
    const recordLine = line;
    const cells: string[] = [];
    for (;;) {
      let cell = '';
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= n) return { error: unterminatedMessage(recordLine) };
          const char = text[i]!;
          if (char === '"') {
            if (text[i + 1] === '"') {
              cell += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (char === '\r' || char === '\n') line++;
          if (char === '\r' && text[i + 1] === '\n') {
            cell += '\r\n';
            i += 2;
            continue;
          }
          cell += char;
          i++;
        }
      }
      while (i < n && text[i] !== delimiter && text[i] !== '\r' && text[i] !== '\n') {
        cell += text[i];
        i++;
      }
      cells.push(cell);

      if (i >= n) {
        records.push({ cells, line: recordLine });
        return { records };
      }
      if (text[i] === delimiter) {
        i++;
        if (i >= n) {
          cells.push('');
          records.push({ cells, line: recordLine });
          return { records };
        }
        continue;
      }
      i += text[i] === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
      records.push({ cells, line: recordLine });
      break;
    }
  }
  return { records };
}

/** Tokenizes the pieces in order, as a stream delivers them, and returns the records or the error message. */
function tokenizePieces(pieces: string[], delimiter: string): Outcome {
  const tokenizer = new CsvTokenizer(delimiter, FILENAME);
  const records: SourceRecord[] = [];
  try {
    for (const piece of pieces) tokenizer.push(piece, records);
    tokenizer.end(records);
  } catch (error) {
    assert.ok(error instanceof IngestError, `expected an IngestError, got ${String(error)}`);
    assert.equal(error.code, 'unterminated_quote');
    return { error: error.message };
  }
  return { records };
}

/** A 32-bit linear congruential generator, so every run tests the same inputs. */
function makeRandom(seed: number): (limit: number) => number {
  let state = seed >>> 0;
  return (limit) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state >>> 8) % limit;
  };
}

const TOKENS = ['a', 'bc', ' ', '"', '""', '\r', '\n', '\r\n', ',', ';', '\t', '|', '£', '😀', '\\', 'x"y'];
const DELIMITERS = [',', ';', '\t', '|'];

function generateInputs(count: number, maxTokens: number, seed: number): Array<{ text: string; delimiter: string }> {
  const random = makeRandom(seed);
  const inputs: Array<{ text: string; delimiter: string }> = [];
  for (let k = 0; k < count; k++) {
    let text = '';
    const length = random(maxTokens + 1);
    for (let t = 0; t < length; t++) text += TOKENS[random(TOKENS.length)];
    inputs.push({ text, delimiter: DELIMITERS[random(DELIMITERS.length)]! });
  }
  return inputs;
}

describe('tokenizer against reference', () => {
  it('matches on whole generated inputs', () => {
    for (const { text, delimiter } of generateInputs(5000, 40, 1)) {
      assert.deepEqual(tokenizePieces([text], delimiter), referenceTokenize(text, delimiter), JSON.stringify(text));
    }
  });

  it('matches when split at every index', () => {
    for (const { text, delimiter } of generateInputs(1500, 14, 2)) {
      const expected = referenceTokenize(text, delimiter);
      for (let at = 0; at <= text.length; at++) {
        const pieces = [text.slice(0, at), text.slice(at)];
        assert.deepEqual(tokenizePieces(pieces, delimiter), expected, JSON.stringify(pieces));
      }
    }
  });

  it('matches when split into many pieces', () => {
    const random = makeRandom(3);
    for (const { text, delimiter } of generateInputs(2000, 60, 4)) {
      const pieces: string[] = [];
      for (let start = 0; start < text.length; ) {
        const end = start + 1 + random(6);
        pieces.push(text.slice(start, end));
        start = end;
      }
      assert.deepEqual(tokenizePieces(pieces, delimiter), referenceTokenize(text, delimiter), JSON.stringify(pieces));
    }
  });

  it('matches on a spending-shaped text', () => {
    // Rows end in CRLF, LF and CR in turn, so the text also has mixed line ends.
    let text = 'Date,Amount,Supplier,Type\r\n';
    for (let row = 1; row <= 300; row++) {
      const lineEnd = ['\r\n', '\n', '\r'][row % 3]!;
      text += `0${(row % 9) + 1}/04/2025,"£${row},${String(row * 7).padStart(3, '0')}.50",Supplier ${row},"Ltd, Sole Trade"${lineEnd}`;
    }
    const expected = referenceTokenize(text, ',');
    assert.ok('records' in expected);
    assert.equal(expected.records.length, 301);
    for (const size of [1, 7, 64, 1000, text.length]) {
      const pieces: string[] = [];
      for (let start = 0; start < text.length; start += size) pieces.push(text.slice(start, start + size));
      assert.deepEqual(tokenizePieces(pieces, ','), expected, `pieces of ${size}`);
    }
  });
});

describe('tokenizer at piece ends', () => {
  const cases: Array<[string, string[], Array<[string[], number]>]> = [
    ['CR then LF', ['a,b\r', '\nc,d\n'], [[['a', 'b'], 1], [['c', 'd'], 2]]],
    ['CR then text', ['a,b\r', 'c,d'], [[['a', 'b'], 1], [['c', 'd'], 2]]],
    ['LF then CR', ['a\n', '\rb'], [[['a'], 1], [[''], 2], [['b'], 3]]],
    ['CR at the end', ['a\r'], [[['a'], 1]]],
    ['CR inside quotes', ['"x\r', '\ny",z\n'], [[['x\r\ny', 'z'], 1]]],
    ['lone CR inside quotes', ['"x\r', 'y"\r', 'z'], [[['x\ry'], 1], [['z'], 3]]],
    ['doubled quote at the end', ['"a""', 'b",c'], [[['a"b', 'c'], 1]]],
    ['closing quote at the end', ['"a"', 'b,c'], [[['ab', 'c'], 1]]],
    ['delimiter at the end', ['a,b,'], [[['a', 'b', ''], 1]]],
    ['delimiter before the end', ['a,', 'b'], [[['a', 'b'], 1]]],
  ];
  for (const [name, pieces, expected] of cases) {
    it(`reads ${name}`, () => {
      const outcome = tokenizePieces(pieces, ',');
      assert.deepEqual(outcome, { records: expected.map(([cells, line]) => ({ cells, line })) });
    });
  }
});

describe('tokenizer errors', () => {
  it('names the line of an unclosed quote', () => {
    const outcome = tokenizePieces(['a,b\n1,"x\r\n', 'y"\n2,"open\n3,4\n'], ',');
    assert.deepEqual(outcome, { error: unterminatedMessage(4) });
  });

  it('rejects a lone quote at the end', () => {
    assert.deepEqual(tokenizePieces(['a\r\n', '"'], ','), { error: unterminatedMessage(2) });
  });
});
