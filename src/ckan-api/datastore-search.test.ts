import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildCatalogue, spendingRows, type Catalogue } from '../../test/helpers/catalogue-builders.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { AppError } from '../errors.ts';
import { readDatastoreQuery } from './datastore-params.ts';
import { searchDatastore } from './datastore-search.ts';

for (const engine of testEngines()) {
  describe(`datastore search on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let catalogue: Catalogue;
    before(async () => {
      handle = await engine.create();
      catalogue = await buildCatalogue(handle.db);
    });
    after(async () => {
      await handle.drop();
    });

    const search = (params: Record<string, unknown>, organisationId: string | null = null) =>
      searchDatastore(handle.db.app, organisationId, readDatastoreQuery({ resource_id: catalogue.spendingV2.id, ...params }));

    test('first page in source order', async () => {
      const result = await search({ limit: 3 });
      const records = result.records as Array<Record<string, unknown>>;
      assert.deepEqual(records.map((record) => record._id), [1, 2, 3]);
      assert.deepEqual(records[0], {
        _id: 1,
        supplier: 'Basildon Catering',
        amount: 10.5,
        invoices: 1,
        paid_on: '2026-01-02',
        approved: false,
        recorded_at: '2026-01-02T09:30:00.000Z',
      });
      assert.equal(result.total, 250);
      assert.equal(result.fields[0]?.id, '_id');
      assert.deepEqual(result.fields[2], { id: 'amount', type: 'numeric', info: { label: 'Amount (£)' } });
    });

    test('filters sort and exact total', async () => {
      const result = await search({ filters: '{"supplier": ["Tilbury Print", "Acme Roads Ltd"], "approved": true}', sort: 'amount desc', limit: 4 });
      const records = result.records as Array<Record<string, unknown>>;
      const expected = spendingRows(250)
        .map((row, index) => ({ id: index + 1, supplier: row[0], amount: row[1] as number, approved: row[4] }))
        .filter((row) => (row.supplier === 'Tilbury Print' || row.supplier === 'Acme Roads Ltd') && row.approved === true);
      assert.equal(result.total, expected.length);
      assert.deepEqual(records.map((record) => record._id), expected.sort((a, b) => b.amount - a.amount).slice(0, 4).map((row) => row.id));
    });

    test('free text matches words by prefix', async () => {
      const result = await search({ q: 'clean', fields: 'supplier', distinct: true });
      assert.deepEqual(result.records, [{ supplier: 'Grays Cleaning Services' }]);
      assert.equal(result.total, 1);
    });

    test('keyset pages equal offset pages', async () => {
      const deep = await searchDatastore(handle.db.app, null, readDatastoreQuery({ resource_id: catalogue.spendingV2.id, offset: 1000, limit: 5 }));
      assert.deepEqual(deep.records, []);
      const all = await search({ limit: 250 });
      const allIds = (all.records as Array<Record<string, unknown>>).map((record) => record._id);
      const paged: unknown[] = [];
      let cursor: string | null = null;
      for (let offset = 0; offset < 250; offset += 60) {
        const page = await search({ limit: 60, offset, cursor: cursor ?? undefined, filters: { approved: [true, false] } });
        paged.push(...(page.records as Array<Record<string, unknown>>).map((record) => record._id));
        cursor = page.nextCursor;
      }
      assert.deepEqual(paged, allIds);
    });

    test('lists and csv formats', async () => {
      const lists = await search({ limit: 2, fields: ['_id', 'supplier'], records_format: 'lists' });
      assert.deepEqual(lists.records, [[1, 'Basildon Catering'], [2, 'Grays Cleaning Services']]);
      const csv = await search({ limit: 2, fields: 'supplier,amount', records_format: 'csv' });
      assert.equal(csv.records, 'Basildon Catering,10.5\nGrays Cleaning Services,21\n');
    });

    test('unknown column names the parameter', async () => {
      for (const [parameter, params] of [
        ['filters', { filters: { colour: 'red' } }],
        ['fields', { fields: 'supplier,colour' }],
        ['sort', { sort: 'colour desc' }],
        ['q', { q: '{"colour": "red"}' }],
      ] as const) {
        await assert.rejects(search(params), (error: unknown) => {
          assert.ok(error instanceof AppError);
          assert.equal(error.kind, 'validation');
          assert.equal(error.fields[0]?.field, parameter);
          assert.match(error.fields[0]!.message, /field "colour" not in table/);
          return true;
        });
      }
    });

    test('bad filter value is named', async () => {
      await assert.rejects(search({ filters: { invoices: 'lots' } }), /"lots" is not a whole number, as column "invoices" needs/);
    });

    test('private resource is refused to outsiders', async () => {
      const query = readDatastoreQuery({ resource_id: catalogue.secretResource.id });
      await assert.rejects(searchDatastore(handle.db.app, null, query), (error: unknown) => error instanceof AppError && error.kind === 'forbidden');
      await assert.rejects(searchDatastore(handle.db.app, catalogue.charity.id, query), (error: unknown) => error instanceof AppError && error.kind === 'forbidden');
      const own = await searchDatastore(handle.db.app, catalogue.council.id, query);
      assert.equal(own.total, 2);
    });
  });
}
