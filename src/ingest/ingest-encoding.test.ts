import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { detectEncoding } from './encoding.ts';
import { column, fixture, load } from './ingest.test-support.ts';

const ingest = (name: string) => load(fixture('ingest', name));

describe('encoding detection', () => {
  it('reads UTF-8 whose first accent is on line 3,002', async () => {
    const loaded = await ingest('utf8-late.csv');
    assert.equal(loaded.analysis.encoding, 'UTF-8');
    assert.equal(loaded.analysis.rows, 3001);
    assert.equal(column(loaded, 'supplier')[3000], 'Café Nero');
  });

  it('drops a UTF-8 byte order mark', async () => {
    const loaded = await ingest('utf8-bom.csv');
    assert.equal(loaded.analysis.encoding, 'UTF-8');
    assert.equal(loaded.analysis.schema.fields[0]!.name, 'name');
    assert.equal(loaded.analysis.schema.fields[0]!.title, 'Name');
    assert.deepEqual(column(loaded, 'name'), ['Siân']);
  });

  it('reads Windows-1252 from a late euro sign and curly quotes', async () => {
    const loaded = await ingest('windows-1252-late.csv');
    assert.equal(loaded.analysis.encoding, 'windows-1252');
    assert.equal(column(loaded, 'supplier')[3000], '“Smart” Café – €5 deal');
  });

  it('reads ISO-8859-1 when a byte has no Windows-1252 character', async () => {
    const loaded = await ingest('latin1-late.csv');
    assert.equal(loaded.analysis.encoding, 'ISO-8859-1');
    assert.equal(column(loaded, 'supplier')[3000], 'Café \u008d');
  });

  it('reads ISO-8859-1 accents', async () => {
    const loaded = await ingest('latin1-accents.csv');
    assert.equal(loaded.analysis.encoding, 'ISO-8859-1');
    assert.deepEqual(column(loaded, 'name'), ['José', 'Zoë']);
    assert.deepEqual(column(loaded, 'town'), ['Añover', 'Grays']);
  });

  it('warns of UTF-8 lines in a Latin-1 file', async () => {
    const loaded = await ingest('mixed-utf8-latin1.csv');
    assert.equal(loaded.analysis.encoding, 'ISO-8859-1');
    assert.deepEqual(column(loaded, 'name'), ['Zo\u00c3\u00ab', 'Café']);
    const warning = loaded.analysis.warnings.find((candidate) => candidate.code === 'mixed_encoding');
    assert.ok(warning, JSON.stringify(loaded.analysis.warnings));
    assert.equal(warning.line, 2);
    assert.match(warning.message, /^Line 3 of mixed-utf8-latin1\.csv has bytes that are not UTF-8, so the file was read as ISO-8859-1, but line 2 has characters saved as UTF-8/);
  });

  it('gives single-byte files no mixed warning', async () => {
    for (const file of ['latin1-accents.csv', 'windows-1252-late.csv', 'latin1-late.csv']) {
      const loaded = await ingest(file);
      assert.deepEqual(loaded.analysis.warnings.filter((warning) => warning.code === 'mixed_encoding'), [], file);
    }
  });

  it('finds a UTF-8 character across read chunks', async (context) => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'civic-encoding-'));
    context.after(() => fs.rmSync(folder, { recursive: true, force: true }));
    const file = path.join(folder, 'mixed.csv');
    // The 1 MiB reads of the scan split the two bytes of "é" on line 2 and leave the Latin-1 "é" on line 3.
    const padding = Buffer.alloc((1 << 20) - 'Name\n'.length - 1, 'a');
    fs.writeFileSync(file, Buffer.concat([Buffer.from('Name\n'), padding, Buffer.from('\u00e9\n', 'utf8'), Buffer.from('\xe9\n', 'latin1')]));

    const detected = await detectEncoding(file, 'mixed.csv');
    assert.equal(detected.encoding, 'ISO-8859-1');
    assert.deepEqual(detected.mixedUtf8, { utf8Line: 2, otherLine: 3 });
  });

  for (const [file, encoding] of [
    ['utf16le-bom.csv', 'UTF-16LE'],
    ['utf16be-bom.csv', 'UTF-16BE'],
    ['utf16be-no-bom.csv', 'UTF-16BE'],
  ] as const) {
    it(`reads ${file} as ${encoding}`, async () => {
      const loaded = await ingest(file);
      assert.equal(loaded.analysis.encoding, encoding);
      assert.deepEqual(column(loaded, 'name'), ['Łukasz', 'Siân']);
      assert.deepEqual(column(loaded, 'amount'), ['12.50', '7']);
    });
  }

  it('reads UTF-16LE without a byte order mark', async () => {
    const loaded = await load(fixture('messy', 'test-utf16.csv'));
    assert.equal(loaded.analysis.encoding, 'UTF-16LE');
    assert.equal(column(loaded, 'test_text')[0], 'Я могу есть стекло, оно мне не вредит.');
  });
});
