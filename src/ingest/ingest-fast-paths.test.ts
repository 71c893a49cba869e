import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { analyseFile } from './analyse.ts';
import { escapeCopyText } from './copy-rows.ts';
import { CsvTokenizer, type SourceRecord } from './csv-tokenizer.ts';
import { decodeFile } from './encoding.ts';
import { parseDecimal } from './numbers.ts';

/** Tokenizes `text` split into pieces of `pieceLength` characters, as a stream delivers it. */
function tokenize(text: string, delimiter: string, pieceLength: number): SourceRecord[] {
  const tokenizer = new CsvTokenizer(delimiter, 'test.csv');
  const records: SourceRecord[] = [];
  for (let i = 0; i < text.length; i += pieceLength) tokenizer.push(text.slice(i, i + pieceLength), records);
  tokenizer.end(records);
  return records;
}

describe('tokenizer fast path', () => {
  const text = 'a,b;c,"x, ""y"""\r\n1,2\n"multi\r\nline",3\r4,\t5\\\r\n';

  for (const pieceLength of [1, 2, 3, 7, 1000]) {
    it(`splits records in pieces of ${pieceLength}`, () => {
      const records = tokenize(text, ',', pieceLength);
      assert.deepEqual(records.map((record) => record.cells), [['a', 'b;c', 'x, "y"'], ['1', '2'], ['multi\r\nline', '3'], ['4', '\t5\\']]);
      assert.deepEqual(records.map((record) => record.line), [1, 2, 3, 5]);
    });
  }

  it('stops at delimiters below CR', () => {
    const records = tokenize('a\tb,c\t\td\n', '\t', 2);
    assert.deepEqual(records.map((record) => record.cells), [['a', 'b,c', '', 'd']]);
  });

  it('stops at delimiters above CR', () => {
    const records = tokenize('a|b c|"d|e"\r\nf||\n', '|', 3);
    assert.deepEqual(records.map((record) => record.cells), [['a', 'b c', 'd|e'], ['f', '', '']]);
  });

  it('names the line of an unterminated quote', () => {
    assert.throws(() => tokenize('a,b\n1,2\n3,"open\n4,5\n', ',', 4), /line 3/);
  });
});

describe('plain integer fast path', () => {
  const cases: Array<[string, string | null]> = [
    ['0', '0'], ['-0', '-0'], ['42', '42'], ['-42', '-42'], ['007', null], ['-', null], ['12a', null], ['£12', '12'], ['1,234', '1234'],
  ];
  for (const [text, expected] of cases) {
    it(`parses ${JSON.stringify(text)}`, () => {
      assert.equal(parseDecimal(text, '.'), expected);
    });
  }
});

describe('common decimal fast path', () => {
  const cases: Array<[string, '.' | ',', string | null]> = [
    ['1234.56', '.', '1234.56'],
    ['-1234.56', '.', '-1234.56'],
    ['-0.5', '.', '-0.5'],
    ['£1,234.50', '.', '1234.50'],
    ['-£1,234,567.89', '.', '-1234567.89'],
    ['€0.50', '.', '0.50'],
    ['$12', '.', '12'],
    ['5.', '.', '5'],
    ['0,123', '.', null],
    ['1,2345', '.', null],
    ['1234,567', '.', null],
    ['£ 12', '.', '12'],
    ['1234,56', ',', '1234.56'],
    ['1.234', ',', '1234'],
    ['£1.234,5', ',', '1234.5'],
  ];
  for (const [text, mark, expected] of cases) {
    it(`parses ${JSON.stringify(text)} with mark ${mark}`, () => {
      assert.equal(parseDecimal(text, mark), expected);
    });
  }
});

describe('text lengths of text columns', () => {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'civic-lengths-'));
  after(() => fs.rmSync(folder, { recursive: true, force: true }));
  const file = path.join(folder, 'notes.csv');
  // The note column is text from its first value, so later values only have their length measured.
  fs.writeFileSync(file, 'n,note,amount\n1,abc,5\n2,x\u{1F600}y,-\n3, ,7\n4,longer text,8\n5,a\u{1F600}\u{1F600}\u{1F600}\u{1F600}\u{1F600}\u{1F600}\u{1F600}\u{1F600}\u{1F600}b,9\n6,a long marker text,10\n');
  const source = { path: file, filename: 'notes.csv' };

  it('counts code points', async () => {
    const analysis = await analyseFile(source);
    assert.deepEqual(analysis.text_lengths, [1, 18, 2]);
  });

  it('is the same with a value hook', async () => {
    let values = 0;
    const analysis = await analyseFile(source, { onValue: () => values++ });
    assert.deepEqual(analysis.text_lengths, [1, 18, 2]);
    assert.equal(values, 17);
  });

  it('leaves out missing-value markers', async () => {
    const analysis = await analyseFile(source, { schema: { fields: [], missingValues: ['a long marker text', '-'] } });
    assert.deepEqual(analysis.text_lengths, [1, 11, 2]);
  });
});

describe('COPY text escapes', () => {
  it('leaves plain text alone', () => {
    assert.equal(escapeCopyText('Café £1,234.50'), 'Café £1,234.50');
  });

  it('escapes backslash, tab, newline and return', () => {
    assert.equal(escapeCopyText('a\\b\tc\nd\re'), 'a\\\\b\\tc\\nd\\re');
  });
});

describe('UTF-8 decoding', () => {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'civic-decode-'));
  after(() => fs.rmSync(folder, { recursive: true, force: true }));

  it('joins characters split across reads', async () => {
    const file = path.join(folder, 'split.csv');
    // 300,000 two-byte characters after a one-byte prefix, so every 256 KB read ends inside a character.
    const text = `x${'£'.repeat(300_000)}\n`;
    fs.writeFileSync(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]));
    let decoded = '';
    for await (const piece of decodeFile(file, 'UTF-8')) decoded += piece;
    assert.equal(decoded, text);
  });

  it('replaces invalid bytes', async () => {
    const file = path.join(folder, 'invalid.csv');
    fs.writeFileSync(file, Buffer.from([0x61, 0xff, 0x62]));
    let decoded = '';
    for await (const piece of decodeFile(file, 'UTF-8')) decoded += piece;
    assert.equal(decoded, 'a\ufffdb');
  });
});
