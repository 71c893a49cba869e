import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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
