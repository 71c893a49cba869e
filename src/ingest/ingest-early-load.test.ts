import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyseFile } from './analyse.ts';
import { copyRows } from './copy-rows.ts';
import type { EarlyLoadTarget } from './early-load.ts';
import { fixture } from './ingest.test-support.ts';
import type { IngestSource } from './ingest.types.ts';
import type { TableSchema } from './table-schema.ts';

/** An early load target that keeps what it receives. */
class CollectingTarget implements EarlyLoadTarget {
  schema: TableSchema | null = null;
  chunks: string[] = [];
  complete: boolean | null = null;

  constructor(readonly afterRows: number) {}

  begin(schema: TableSchema): 'text' {
    this.schema = schema;
    return 'text';
  }

  async write(chunk: string | Buffer): Promise<void> {
    this.chunks.push(chunk.toString());
  }

  end(complete: boolean): void {
    this.complete = complete;
  }
}

async function loadPassText(source: IngestSource, afterRows: number): Promise<{ target: CollectingTarget; expected: string; schema: TableSchema }> {
  const target = new CollectingTarget(afterRows);
  const analysis = await analyseFile(source, { earlyLoad: target });
  let expected = '';
  for await (const chunk of copyRows(source, analysis)) expected += chunk;
  return { target, expected, schema: analysis.schema };
}

describe('early load', () => {
  const files = ['money.csv', 'multiline-quoted.csv', 'crlf-quoted.csv', 'cr-only.csv', 'totals.csv', 'short-rows.csv', 'utf16le-bom.csv', 'semicolon-decimal-comma.csv', 'windows-1252-late.csv', 'sheets.ods'];
  for (const file of files) {
    it(`matches the load pass for ${file}`, async () => {
      const { target, expected, schema } = await loadPassText(fixture('ingest', file), 1);
      assert.equal(target.complete, true);
      assert.deepEqual(target.schema, schema);
      assert.equal(target.chunks.join(''), expected);
    });
  }

  it('matches the load pass after many rows', async () => {
    const { target, expected, schema } = await loadPassText(fixture('ingest', 'utf8-late.csv'), 1000);
    assert.equal(target.complete, true);
    assert.deepEqual(target.schema, schema);
    assert.equal(target.chunks.join(''), expected);
  });

  it('stops at a value the guess does not fit', async () => {
    const { target, schema } = await loadPassText(fixture('ingest', 'late-text.csv'), 10);
    assert.equal(target.complete, false);
    assert.equal(target.schema?.fields[1]?.type, 'integer');
    assert.equal(schema.fields[1]?.type, 'string');
  });

  it('guesses without later placeholders', async () => {
    const { target, schema } = await loadPassText(fixture('ingest', 'sentinels.csv'), 1);
    assert.notDeepEqual(target.schema, schema);
    assert.deepEqual(schema.fields[1]?.missingValues, ['-', 'n/a']);
    assert.equal(target.schema?.fields[1]?.missingValues, undefined);
  });

  it('skips files shorter than the guess', async () => {
    const { target } = await loadPassText(fixture('ingest', 'money.csv'), 1_000_000);
    assert.equal(target.schema, null);
    assert.equal(target.complete, null);
    assert.deepEqual(target.chunks, []);
  });
});
