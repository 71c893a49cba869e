import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testEngines } from '../../test/helpers/engines.ts';
import { startTestServer, testServices } from '../../test/helpers/services.ts';
import type { RunningServer } from '../main.ts';

const FIXTURE = 'test/fixtures/transparency/trafford_land_and_building_assets.csv';

type Envelope = { success: boolean; result: any; error?: Record<string, unknown> };

/**
 * Walks the calls a CKAN client makes, over real HTTP, against a real file loaded by the import pipeline:
 * package_search → package_show → resource_show → datastore_search (filters, sort, paging) → datastore_search_sql.
 */
for (const engine of testEngines()) {
  describe(`CKAN client flow on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let server: RunningServer;
    before(async () => {
      handle = await engine.create();
      const services = testServices(handle.db);
      const report = await services.imports.importFile(
        { path: FIXTURE, filename: 'trafford_land_and_building_assets.csv' },
        { organisation: 'trafford-council', dataset: 'land-and-building-assets', actor: { kind: 'operator', name: 'test' }, title: 'Land and building assets', visibility: 'open' },
      );
      assert.equal(report.visibility, 'open', 'the asset register holds no personal data, so it is published');
      server = await startTestServer(services);
    });
    after(async () => {
      await server.close();
      await handle.drop();
    });

    async function call(action: string, body: Record<string, unknown>): Promise<Envelope> {
      const response = await fetch(`${server.url}/api/3/action/${action}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const envelope = (await response.json()) as Envelope;
      assert.equal(response.status, 200, `${action}: ${JSON.stringify(envelope.error)}`);
      assert.equal(envelope.success, true);
      return envelope;
    }

    test('search show and query a real file', async () => {
      const search = await call('package_search', { q: 'building assets', rows: 5 });
      assert.equal(search.result.count, 1);
      const name = search.result.results[0].name;
      assert.equal(name, 'land-and-building-assets');

      const pkg = (await call('package_show', { id: name })).result;
      assert.equal(pkg.organization.name, 'trafford-council');
      assert.equal(pkg.num_resources, 1);
      const resourceId = pkg.resources[0].id;

      const resource = (await call('resource_show', { id: resourceId })).result;
      assert.equal(resource.package_id, pkg.id);
      assert.equal(resource.datastore_active, true);

      const first = (await call('datastore_search', { resource_id: resourceId, limit: 5 })).result;
      const total: number = first.total;
      assert.ok(total > 100, `${total} rows`);
      assert.deepEqual(first.records.map((record: { _id: number }) => record._id), [1, 2, 3, 4, 5]);
      const town = first.fields.find((field: { info?: { label: string } }) => field.info?.label === 'PostTown').id as string;
      const property = first.fields.find((field: { info?: { label: string } }) => field.info?.label === 'PropertyName').id as string;
      assert.equal(first.records[0][property], 'Altrincham Town Hall');

      const filtered = (await call('datastore_search', { resource_id: resourceId, filters: { [town]: 'Altrincham' }, sort: '_id desc', limit: 1000 })).result;
      assert.ok(filtered.total > 0 && filtered.total < total);
      assert.equal(filtered.records.length, filtered.total);
      assert.ok(filtered.records.every((record: Record<string, unknown>) => record[town] === 'Altrincham'));
      const ids: number[] = filtered.records.map((record: { _id: number }) => record._id);
      assert.ok(ids.every((id, index) => index === 0 || id < ids[index - 1]!), 'sorted by _id descending');

      const paged: number[] = [];
      let next: string | null = `${server.url}/api/3/action/datastore_search?resource_id=${resourceId}&limit=100`;
      for (let page = 0; page < 50 && next !== null; page += 1) {
        const envelope = (await (await fetch(next)).json()) as Envelope;
        const ids = envelope.result.records.map((record: { _id: number }) => record._id);
        paged.push(...ids);
        next = ids.length === 100 ? `${server.url}${envelope.result._links.next}` : null;
      }
      assert.deepEqual(paged, Array.from({ length: total }, (_, index) => index + 1));

      const sql = (await call('datastore_search_sql', { sql: `select "${town}" as town, count(*) as assets from "${resourceId}" group by 1 order by 2 desc, 1 limit 3` })).result;
      assert.deepEqual(sql.fields, [{ id: 'town', type: 'text' }, { id: 'assets', type: 'int' }]);
      assert.equal(sql.records.length, 3);
      const altrincham = sql.records.find((record: { town: string }) => record.town === 'Altrincham');
      if (altrincham) assert.equal(altrincham.assets, filtered.total);
      assert.equal(sql.records_truncated, false);
    });
  });
}
