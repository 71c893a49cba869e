import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { testEngines } from './helpers/engines.ts';

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

for (const engine of testEngines()) {
  describe(`civic import and civic publish on ${engine.name}`, () => {
    let env: NodeJS.ProcessEnv;
    let cleanup: () => Promise<void>;

    function civic(...args: string[]): Run {
      const result = spawnSync(process.execPath, ['bin/civic.mjs', ...args], { env, encoding: 'utf8', timeout: 180_000 });
      return { status: result.status, stdout: result.stdout, stderr: result.stderr };
    }

    before(async () => {
      const base: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn' };
      delete base.DATABASE_URL;
      if (engine.name === 'postgres') {
        const handle = await engine.create();
        // The command opens its own connections; the test's own pool is not needed.
        await handle.db.close();
        env = { ...base, DATABASE_URL: handle.url };
        cleanup = () => handle.drop().catch(() => undefined);
      } else {
        const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'civic-publish-'));
        env = { ...base, CIVIC_DATA_DIR: folder };
        cleanup = async () => fs.rmSync(folder, { recursive: true, force: true });
      }
    });
    after(async () => cleanup());

    test('real spending file is blocked, then redacted and opened', () => {
      const imported = civic('import', 'test/fixtures/spending/DCCSpendingOver500_202603.csv', '--organisation', 'devon-county-council', '--dataset', 'devon-spending-2026-03', '--visibility', 'open', '--json');
      assert.equal(imported.status, 3, imported.stderr);
      const report = JSON.parse(imported.stdout);
      assert.equal(report.visibility, 'private');
      assert.deepEqual(report.personal_data.map((finding: { column: string; kind: string }) => `${finding.column}:${finding.kind}`), ['Supplier name:individual_name']);
      assert.match(imported.stderr, /--redact COLUMN\[:KIND\]/);

      const refused = civic('publish', 'devon-spending-2026-03', '--open');
      assert.equal(refused.status, 3);
      assert.match(refused.stderr, /Supplier name \(individual_name, 11 cells\)/);

      const published = civic('publish', 'devon-spending-2026-03', '--redact', 'Supplier name:individual_name', '--open', '--json');
      assert.equal(published.status, 0, published.stderr);
      const result = JSON.parse(published.stdout);
      assert.equal(result.visibility, 'open');
      assert.equal(result.version, 2);
      assert.deepEqual(result.personal_data, []);
    });

    test('bundled redacted sample publishes openly', () => {
      const imported = civic('import', 'samples/spending/DCCSpendingOver500_201706-redacted.csv', '--organisation', 'devon-county-council', '--dataset', 'devon-spending-2017-06', '--visibility', 'open', '--json');
      assert.equal(imported.status, 0, imported.stderr);
      const report = JSON.parse(imported.stdout);
      assert.equal(report.visibility, 'open');
      assert.deepEqual(report.personal_data, []);
    });

    test('bad publish arguments exit 2', () => {
      const missing = civic('publish');
      assert.equal(missing.status, 2);
      assert.match(missing.stderr, /Give the DATASET slug/);
      const nothing = civic('publish', 'devon-spending-2017-06');
      assert.equal(nothing.status, 2);
    });
  });
}
