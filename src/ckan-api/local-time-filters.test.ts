import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testEngines } from '../../test/helpers/engines.ts';
import { startOpenDatasetServer, type OpenDatasetServer } from '../../test/helpers/open-dataset-server.ts';

for (const engine of testEngines()) {
  describe(`time filters in UK local time on ${engine.name}`, () => {
    let dataset: OpenDatasetServer;

    before(async () => {
      dataset = await startOpenDatasetServer(engine, 'visits', 'Visit,When\nV1,2025-04-03 14:05:00\nV2,2025-01-10 09:00:00\nV3,2025-06-01 10:00:00.123456\n');
    });
    after(() => dataset.close());

    const visitsAt = async (when: string): Promise<string[]> => {
      const filters = encodeURIComponent(JSON.stringify({ when }));
      const response = await fetch(`${dataset.url}/api/3/action/datastore_search?resource_id=${dataset.resourceId}&filters=${filters}`);
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
      const response = await fetch(`${dataset.url}/api/3/action/datastore_search?resource_id=${dataset.resourceId}&filters=${encodeURIComponent(JSON.stringify({ visit: 'V3' }))}`);
      const body = (await response.json()) as { result: { records: Array<{ when: string }> } };
      assert.equal(body.result.records[0]!.when, '2025-06-01T09:00:00.123456Z');
      assert.deepEqual(await visitsAt('2025-06-01T09:00:00.123456Z'), ['V3'], 'the returned text finds its row');
      assert.deepEqual(await visitsAt('2025-06-01 10:00:00.123456'), ['V3'], 'so does the file text');
    });
  });
}
