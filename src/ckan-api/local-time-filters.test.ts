import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { testEngines } from '../../test/helpers/engines.ts';
import { temporaryFolder } from '../../test/helpers/import-fixtures.ts';
import { startTestServer, testServices } from '../../test/helpers/services.ts';
import type { RunningServer } from '../main.ts';

for (const engine of testEngines()) {
  describe(`time filters in UK local time on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let server: RunningServer;
    let resourceId = '';
    const folder = temporaryFolder('civic-local-time-');

    before(async () => {
      handle = await engine.create();
      const services = testServices(handle.db);
      const file = path.join(folder.path, 'visits.csv');
      fs.writeFileSync(file, 'Visit,When\nV1,2025-04-03 14:05:00\nV2,2025-01-10 09:00:00\nV3,2025-06-01 10:00:00.123456\n');
      const report = await services.imports.importFile({ path: file, filename: 'visits.csv' }, { organisation: 'time-council', dataset: 'visits', visibility: 'open', actor: { kind: 'operator', name: 'test' } });
      resourceId = report.resource_id;
      server = await startTestServer(services);
    });
    after(async () => {
      await server.close();
      await handle.drop();
      folder.remove();
    });

    const visitsAt = async (when: string): Promise<string[]> => {
      const filters = encodeURIComponent(JSON.stringify({ when }));
      const response = await fetch(`${server.url}/api/3/action/datastore_search?resource_id=${resourceId}&filters=${filters}`);
      const body = (await response.json()) as { success: boolean; result: { records: Array<{ visit: string }> } };
      assert.equal(body.success, true, JSON.stringify(body));
      return body.result.records.map((record) => record.visit);
    };

    test('file times find their rows', async () => {
      assert.deepEqual(await visitsAt('2025-04-03 14:05:00'), ['V1'], 'summer time, as the file wrote it');
      assert.deepEqual(await visitsAt('2025-04-03T13:05:00Z'), ['V1'], 'the same instant in UTC');
      assert.deepEqual(await visitsAt('2025-04-03T14:05:00+01:00'), ['V1'], 'the same instant with its offset');
      assert.deepEqual(await visitsAt('2025-01-10 09:00:00'), ['V2'], 'winter time equals UTC');
      assert.deepEqual(await visitsAt('2025-04-03 13:05:00'), [], 'an hour early in UK time');
    });

    test('microseconds survive the round trip', async () => {
      const response = await fetch(`${server.url}/api/3/action/datastore_search?resource_id=${resourceId}&filters=${encodeURIComponent(JSON.stringify({ visit: 'V3' }))}`);
      const body = (await response.json()) as { result: { records: Array<{ when: string }> } };
      assert.equal(body.result.records[0]!.when, '2025-06-01T09:00:00.123456Z');
      assert.deepEqual(await visitsAt('2025-06-01T09:00:00.123456Z'), ['V3'], 'the returned text finds its row');
      assert.deepEqual(await visitsAt('2025-06-01 10:00:00.123456'), ['V3'], 'so does the file text');
    });
  });
}
