import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildCatalogue, type Catalogue } from '../../test/helpers/catalogue-builders.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { testServices } from '../../test/helpers/services.ts';
import { buildApp } from '../http/app.ts';

for (const engine of testEngines()) {
  describe(`native API /api/v1 on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let app: FastifyInstance;
    let catalogue: Catalogue;
    before(async () => {
      handle = await engine.create();
      catalogue = await buildCatalogue(handle.db);
      app = await buildApp(testServices(handle.db, { publicUrl: 'https://data.example.test' }));
    });
    after(async () => {
      await app.close();
      await handle.drop();
    });

    const get = async (url: string) => {
      const response = await app.inject({ method: 'GET', url });
      return { status: response.statusCode, body: response.json() as any };
    };

    test('datasets list is paged', async () => {
      const first = await get('/api/v1/datasets?per_page=1');
      assert.equal(first.status, 200);
      assert.equal(first.body.total, 2);
      assert.equal(first.body.per_page, 1);
      assert.deepEqual(first.body.items.map((item: { slug: string }) => item.slug), ['spending-over-500']);
      const second = await get('/api/v1/datasets?per_page=1&page=2');
      assert.deepEqual(second.body.items.map((item: { slug: string }) => item.slug), ['foodbank-parcels']);
      const filtered = await get('/api/v1/datasets?organisation=grays-foodbank');
      assert.equal(filtered.body.total, 1);
      assert.equal(filtered.body.items[0].organisation.slug, 'grays-foodbank');
      const searched = await get('/api/v1/datasets?q=supplier%20payments');
      assert.deepEqual(searched.body.items.map((item: { slug: string }) => item.slug), ['spending-over-500']);
    });

    test('dataset shows licence and current version', async () => {
      const { status, body } = await get('/api/v1/datasets/spending-over-500');
      assert.equal(status, 200);
      assert.equal(body.id, catalogue.spending.id);
      assert.deepEqual(body.licence, { id: 'OGL-UK-3.0', title: 'Open Government Licence v3.0', url: 'https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/' });
      assert.deepEqual(body.temporal_coverage, { start: '2026-01-01', end: '2026-01-31' });
      assert.equal(body.current_resource.id, catalogue.spendingV2.id);
      assert.equal(body.current_resource.row_count, 250);
      assert.equal(body.current_resource.records_url, `https://data.example.test/api/v1/resources/${catalogue.spendingV2.id}/records`);
    });

    test('versions newest first', async () => {
      const { body } = await get('/api/v1/datasets/spending-over-500/versions');
      assert.deepEqual(body.items.map((item: { id: string; version: number }) => [item.id, item.version]), [
        [catalogue.spendingV2.id, 2],
        [catalogue.spendingV1.id, 1],
      ]);
    });

    test('records follow next links to the end', async () => {
      const seen: number[] = [];
      let url: string | null = `/api/v1/resources/${catalogue.spendingV2.id}/records?limit=100&fields=_id,supplier`;
      for (let page = 0; page < 5 && url !== null; page += 1) {
        const response: { status: number; body: any } = await get(url);
        assert.equal(response.status, 200);
        assert.equal(response.body.total, 250);
        seen.push(...response.body.records.map((record: { _id: number }) => record._id));
        url = response.body.links.next === null ? null : response.body.links.next.replace('https://data.example.test', '');
      }
      assert.deepEqual(seen, Array.from({ length: 250 }, (_, index) => index + 1));
    });

    test('records filters and errors', async () => {
      const filtered = await get(`/api/v1/resources/${catalogue.foodbanksResource.id}/records?filters=${encodeURIComponent('{"ward":"Chadwell St Mary"}')}`);
      assert.deepEqual(filtered.body.records, [{ _id: 2, ward: 'Chadwell St Mary', parcels: 80 }]);
      const unknown = await get(`/api/v1/resources/${catalogue.foodbanksResource.id}/records?sort=colour`);
      assert.equal(unknown.status, 400);
      assert.equal(unknown.body.error.fields[0].field, 'sort');
      assert.ok(unknown.body.error.request_id);
      const badLimit = await get(`/api/v1/resources/${catalogue.foodbanksResource.id}/records?limit=40000`);
      assert.equal(badLimit.status, 400);
      assert.match(badLimit.body.error.message, /limit/);
      const badId = await get('/api/v1/resources/not-a-uuid/records');
      assert.equal(badId.status, 400);
    });

    test('private data is hidden from anonymous callers', async () => {
      const list = await get('/api/v1/datasets?per_page=100');
      assert.ok(list.body.items.every((item: { visibility: string }) => item.visibility === 'open'));
      const dataset = await get('/api/v1/datasets/safeguarding-referrals');
      assert.equal(dataset.status, 403);
      assert.equal(dataset.body.error.code, 'dataset_private');
      const versions = await get('/api/v1/datasets/safeguarding-referrals/versions');
      assert.equal(versions.status, 403);
      const records = await get(`/api/v1/resources/${catalogue.secretResource.id}/records`);
      assert.equal(records.status, 403);
      assert.doesNotMatch(JSON.stringify(records.body), /Grays Riverside/);
      const council = await get('/api/v1/organisations/thurrock-council');
      assert.equal(council.body.dataset_count, 1);
      const missing = await get('/api/v1/datasets/no-such-dataset');
      assert.equal(missing.status, 404);
    });

    test('organisations list and show', async () => {
      const { status, body } = await get('/api/v1/organisations?per_page=10');
      assert.equal(status, 200);
      assert.equal(body.total, 2);
      assert.deepEqual(body.items.map((item: { slug: string }) => item.slug), ['grays-foodbank', 'thurrock-council']);
      const shown = await get('/api/v1/organisations/grays-foodbank');
      assert.equal(shown.body.name, 'Grays Foodbank');
      assert.equal(shown.body.dataset_count, 1);
      const badPage = await get('/api/v1/organisations?per_page=0');
      assert.equal(badPage.status, 400);
    });
  });
}
