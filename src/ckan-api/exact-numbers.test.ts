import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { testEngines } from '../../test/helpers/engines.ts';
import { temporaryFolder } from '../../test/helpers/import-fixtures.ts';
import { startTestServer, testServices } from '../../test/helpers/services.ts';
import type { RunningServer } from '../main.ts';

for (const engine of testEngines()) {
  describe(`exact numbers through datastore_search on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let server: RunningServer;
    let resourceId = '';
    const folder = temporaryFolder('civic-exact-numbers-');

    before(async () => {
      handle = await engine.create();
      const services = testServices(handle.db);
      const file = path.join(folder.path, 'ledger.csv');
      fs.writeFileSync(file, 'Reference,Count,Amount\nA1,9007199254740993,12345678901234567890.123456789\nA2,42,"£1,234.50"\n');
      const report = await services.imports.importFile({ path: file, filename: 'ledger.csv' }, { organisation: 'exact-council', dataset: 'ledger', visibility: 'open', actor: { kind: 'operator', name: 'test' } });
      resourceId = report.resource_id;
      server = await startTestServer(services);
    });
    after(async () => {
      await server.close();
      await handle.drop();
      folder.remove();
    });

    test('no digit is lost', async () => {
      const response = await fetch(`${server.url}/api/3/action/datastore_search?resource_id=${resourceId}`);
      const body = (await response.json()) as { result: { records: Array<Record<string, unknown>> } };
      const [first, second] = body.result.records;
      assert.equal(first!.count, '9007199254740993', 'beyond 2^53, as exact text');
      assert.equal(first!.amount, '12345678901234567890.123456789');
      assert.equal(second!.count, 42, 'an exact number stays a JSON number');
      assert.equal(second!.amount, 1234.5);

      const csv = await (await fetch(`${server.url}/api/3/action/datastore_search?resource_id=${resourceId}&records_format=csv`)).json() as { result: { records: string } };
      assert.match(csv.result.records, /9007199254740993/);
      assert.match(csv.result.records, /12345678901234567890\.123456789/);
    });
  });
}
