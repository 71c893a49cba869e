import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testEngines } from '../../test/helpers/engines.ts';
import { startOpenDatasetServer, type OpenDatasetServer } from '../../test/helpers/open-dataset-server.ts';

for (const engine of testEngines()) {
  describe(`exact numbers through datastore_search on ${engine.name}`, () => {
    let dataset: OpenDatasetServer;

    before(async () => {
      dataset = await startOpenDatasetServer(engine, 'ledger', 'Reference,Count,Amount\nA1,9007199254740993,12345678901234567890.123456789\nA2,42,"£1,234.50"\n');
    });
    after(() => dataset.close());

    test('no digit is lost', async () => {
      const response = await fetch(`${dataset.url}/api/3/action/datastore_search?resource_id=${dataset.resourceId}`);
      const body = (await response.json()) as { result: { records: Array<Record<string, unknown>> } };
      const [first, second] = body.result.records;
      assert.equal(first!.count, '9007199254740993', 'beyond 2^53, as exact text');
      assert.equal(first!.amount, '12345678901234567890.123456789');
      assert.equal(second!.count, 42, 'an exact number stays a JSON number');
      assert.equal(second!.amount, 1234.5);

      const csv = await (await fetch(`${dataset.url}/api/3/action/datastore_search?resource_id=${dataset.resourceId}&records_format=csv`)).json() as { result: { records: string } };
      assert.match(csv.result.records, /9007199254740993/);
      assert.match(csv.result.records, /12345678901234567890\.123456789/);
    });
  });
}
