import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../http/app.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { testServices } from '../../test/helpers/services.ts';
import { copyCsvValue, csvField, EMBEDDED_BATCH_ROWS } from './downloads.ts';
import { insertPortalCatalogue, insertTestDataset } from './portal.test-data.ts';

describe('CSV fields', () => {
  test('quotes when needed', () => {
    assert.equal(csvField('plain'), 'plain');
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField('two\nlines'), '"two\nlines"');
    assert.equal(copyCsvValue(null), '');
    assert.equal(copyCsvValue(''), '""');
  });
});

for (const engine of testEngines()) {
  describe(`downloads on ${engine.name}`, () => {
    let drop: () => Promise<void>;
    let app: FastifyInstance;
    let ids: Awaited<ReturnType<typeof insertPortalCatalogue>>;
    let bulkRows = 0;

    before(async () => {
      const created = await engine.create();
      drop = created.drop;
      ids = await insertPortalCatalogue(created.db);
      // More rows than one embedded slice, so the export crosses a slice boundary.
      bulkRows = EMBEDDED_BATCH_ROWS + 7;
      await insertTestDataset(created.db, {
        organisation: { slug: 'thurrock-council', name: 'Thurrock Council' },
        slug: 'bulk-counts',
        title: 'Bulk counts',
        versions: [{ schema: { fields: [{ name: 'n', title: 'N', type: 'integer' }] }, rows: [] }],
      });
      const { sql } = await import('kysely');
      const table = await created.db.owner.selectFrom('resources').innerJoin('datasets', 'datasets.id', 'resources.dataset_id').select('resources.table_name').where('datasets.slug', '=', 'bulk-counts').executeTakeFirstOrThrow();
      await sql`insert into ${sql.id('datastore', table.table_name)} (_id, n) select g, g * 2 from generate_series(1, ${bulkRows}) as g`.execute(created.db.owner);
      await sql`update resources set row_count = ${bulkRows} where table_name = ${table.table_name}`.execute(created.db.owner);
      app = await buildApp(testServices(created.db));
    });

    after(async () => {
      await app.close();
      await drop();
    });

    const get = (url: string) => app.inject({ url });

    test('latest CSV with original headers', async () => {
      const response = await get('/dataset/spending-over-500/latest.csv');
      assert.equal(response.statusCode, 200);
      assert.equal(response.headers['content-type'], 'text/csv; charset=utf-8');
      assert.equal(response.headers['content-disposition'], 'attachment; filename="spending-over-500-v2.csv"');
      const lines = response.body.split('\n');
      assert.equal(lines[0], 'Payment Date,Supplier Name,Service Area,Amount (£)\r');
      assert.equal(lines[1], '2026-01-01,Acme Roads Ltd,Highways,100');
      assert.equal(lines[3], '2026-03-03,"Café ""Riverside"", Grays",Libraries,121');
      assert.equal(lines.length, 62);
      assert.equal(lines[61], '');
      assert.notEqual(response.body.charCodeAt(0), 0xfeff);
    });

    test('CSV with BOM for Excel', async () => {
      const response = await app.inject({ url: '/dataset/spending-over-500/latest.csv?bom=true' });
      assert.deepEqual([...response.rawPayload.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
      assert.equal(response.rawPayload.subarray(3, 15).toString('utf8'), 'Payment Date');
      const bad = await get('/dataset/spending-over-500/latest.csv?bom=maybe');
      assert.equal(bad.statusCode, 400);
      assert.match(bad.body, /<strong>bom<\/strong>/);
    });

    test('old version CSV and names header', async () => {
      const response = await get(`/dataset/spending-over-500/resource/${ids.spending[0]}/download.csv?header=names`);
      assert.equal(response.statusCode, 200);
      assert.equal(response.headers['content-disposition'], 'attachment; filename="spending-over-500-v1.csv"');
      const lines = response.body.trimEnd().split('\n');
      assert.equal(lines[0], 'payment_date,supplier,service,amount\r');
      assert.equal(lines.length, 21);
    });

    test('booleans and empty cells', async () => {
      const response = await get('/dataset/land-and-building-assets/latest.csv');
      assert.deepEqual(response.body.split('\r\n').join('\n').trimEnd().split('\n'), [
        'PropertyName,PostTown,BuildingSize,Freehold',
        'Grays Town Hall,Grays,415.05,true',
        'Tilbury Hub,Tilbury,872.8,false',
        'Stanford Library,Stanford-le-Hope,,true',
      ]);
    });

    test('JSON download', async () => {
      const response = await get(`/dataset/land-and-building-assets/resource/${ids.assets[0]}/download.json`);
      assert.equal(response.statusCode, 200);
      assert.equal(response.headers['content-disposition'], 'attachment; filename="land-and-building-assets-v1.json"');
      assert.deepEqual(JSON.parse(response.body), [
        { property_name: 'Grays Town Hall', post_town: 'Grays', building_size: 415.05, freehold: true },
        { property_name: 'Tilbury Hub', post_town: 'Tilbury', building_size: 872.8, freehold: false },
        { property_name: 'Stanford Library', post_town: 'Stanford-le-Hope', building_size: null, freehold: true },
      ]);
    });

    test('original file download', async () => {
      const response = await get(`/dataset/spending-over-500/resource/${ids.spending[1]}/download`);
      assert.equal(response.statusCode, 200);
      assert.equal(response.headers['content-type'], 'text/csv');
      assert.equal(response.headers['content-disposition'], 'attachment; filename="spending-over-500-v2.csv"');
      assert.match(response.body, /^Payment Date,Supplier Name,Service Area,Amount \(£\)\r\n2026-01-01,Acme Roads Ltd,Highways,100\r\n/);
    });

    test('large export crosses slices', async () => {
      const csv = await get('/dataset/bulk-counts/latest.csv');
      assert.equal(csv.statusCode, 200);
      const lines = csv.body.trimEnd().split('\n');
      assert.equal(lines.length, bulkRows + 1);
      assert.equal(lines[EMBEDDED_BATCH_ROWS], String(EMBEDDED_BATCH_ROWS * 2));
      assert.equal(lines[EMBEDDED_BATCH_ROWS + 1], String((EMBEDDED_BATCH_ROWS + 1) * 2));
      assert.equal(lines[bulkRows], String(bulkRows * 2));
      const json = await get('/dataset/bulk-counts/latest.csv'.replace('latest.csv', `resource/${(await currentResource(app, 'bulk-counts'))}/download.json`));
      const rows = JSON.parse(json.body) as Array<{ n: number }>;
      assert.equal(rows.length, bulkRows);
      assert.equal(rows[bulkRows - 1]!.n, bulkRows * 2);
    });

    test('unknown resource is 404', async () => {
      const wrongDataset = await get(`/dataset/land-and-building-assets/resource/${ids.spending[0]}/download.csv`);
      assert.equal(wrongDataset.statusCode, 404);
      const notUuid = await get('/dataset/spending-over-500/resource/abc/download.json');
      assert.equal(notUuid.statusCode, 404);
      const privateFile = await get(`/dataset/incident-log-restricted/resource/${ids.secret[0]}/download.csv`);
      assert.equal(privateFile.statusCode, 404);
      assert.doesNotMatch(privateFile.body, /secret incident/);
    });
  });
}

async function currentResource(app: FastifyInstance, slug: string): Promise<string> {
  const page = await app.inject({ url: `/dataset/${slug}` });
  const match = /\/resource\/([0-9a-f-]{36})\/download\.csv/.exec(page.body);
  if (!match) throw new Error(`No resource link on the page of ${slug}`);
  return match[1]!;
}
