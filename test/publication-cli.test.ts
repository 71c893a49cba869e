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

    test('small counts blocked, then suppressed and opened', () => {
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'civic-smallcounts-')), 'smallcounts.csv');
      fs.writeFileSync(file, 'Ward,Age band,Children in care\nAveley,0 to 4,3\nAveley,5 to 15,12\nChafford,0 to 4,1\nChafford,5 to 15,2\nGrays,0 to 4,25\nGrays,5 to 15,4\n');
      const imported = civic('import', file, '--organisation', 'thurrock-council', '--dataset', 'children-in-care-by-ward', '--visibility', 'open');
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
      assert.equal(imported.status, 3, imported.stderr);
      assert.match(imported.stdout, /version 1 \(private\)/);
      assert.match(imported.stdout, /Warning: Column "Children in care" has 4 cells with counts from 1 to 9, under the threshold of 10/);
      assert.match(imported.stdout, /loaded as private because it holds small counts/);
      assert.match(imported.stdout, /--suppress-small-counts COLUMN/);

      const refused = civic('publish', 'children-in-care-by-ward', '--open');
      assert.equal(refused.status, 3);
      assert.match(refused.stderr, /Children in care \(4 cells with counts from 1 to 9; threshold 10\)/);

      const published = civic('publish', 'children-in-care-by-ward', '--suppress-small-counts', 'Children in care', '--open');
      assert.equal(published.status, 0, published.stderr);
      assert.match(published.stdout, /Made version 2 of children-in-care-by-ward: suppress counts from 1 to 9 in "Children in care" \(4 cells\)\./);
      assert.match(published.stdout, /Dataset children-in-care-by-ward is open\./);
    });

    test('bad publish arguments exit 2', () => {
      const missing = civic('publish');
      assert.equal(missing.status, 2);
      assert.match(missing.stderr, /Give the DATASET slug/);
      const nothing = civic('publish', 'devon-spending-2017-06');
      assert.equal(nothing.status, 2);
    });

    test('unknown redaction kind exits 2', () => {
      const run = civic('publish', 'care-packages', '--redact', 'Notes:bogus_kind');
      assert.equal(run.status, 2);
      assert.match(run.stderr, /Kind "bogus_kind" in --redact "Notes:bogus_kind" is not a kind of personal data/);
      assert.match(run.stderr, /nhs_number, national_insurance_number, email_address/);
      assert.doesNotMatch(run.stderr, /is not in the dataset/);
    });

    test('publish help describes everything', () => {
      const run = civic('publish', '--help');
      assert.equal(run.status, 0, run.stderr);
      for (const option of ['--redact', '--drop', '--generalise-postcode', '--generalise-dob', '--suppress-small-counts', '--round-counts', '--justify', '--open', '--json']) {
        assert.match(run.stdout, new RegExp(`^  ${option} `, 'm'), option);
      }
      for (const kind of ['nhs_number', 'national_insurance_number', 'email_address', 'phone_number', 'postcode', 'date_of_birth', 'bank_account', 'payment_card', 'individual_name']) {
        assert.ok(run.stdout.includes(kind), kind);
      }
      assert.match(run.stdout, /Exit status: 0 when done, 2 for wrong arguments/);
      assert.match(run.stdout, /3 when --open is refused/);
      assert.match(run.stdout, /Examples:\n  civic publish care-packages /);
    });
  });
}
