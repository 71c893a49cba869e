import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testEngines } from '../../test/helpers/engines.ts';
import { startTestServer, testServices } from '../../test/helpers/services.ts';
import { withOrganisation } from '../db/tenant.ts';
import type { RunningServer } from '../main.ts';
import type { Services } from '../services.ts';
import type { PublicationActor } from './publication.service.ts';

const OPERATOR: PublicationActor = { kind: 'operator', name: 'test-operator' };
const FILE = 'test/fixtures/spending/DCCSpendingOver500_202504.csv';

for (const engine of testEngines()) {
  describe(`flagged versions of open datasets on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let services: Services;
    let server: RunningServer;

    before(async () => {
      handle = await engine.create();
      services = testServices(handle.db);
      server = await startTestServer(services);
    });
    after(async () => {
      await server.close();
      await handle.drop();
    });

    async function importFlagged(dataset: string): Promise<{ resourceId: string; organisationId: string }> {
      const report = await services.imports.importFile(
        { path: FILE, filename: 'DCCSpendingOver500_202504.csv' },
        { organisation: 'devon', organisationName: 'Devon County Council', dataset, actor: { kind: 'operator', name: 'test-operator' } },
      );
      assert.ok((report.personal_data as unknown[]).length > 0, 'the fixture names individual payees');
      const row = await handle.db.owner.selectFrom('datasets').select('organisation_id').where('slug', '=', dataset).executeTakeFirstOrThrow();
      return { resourceId: report.resource_id, organisationId: row.organisation_id };
    }

    async function publicResourceIds(dataset: string): Promise<string[]> {
      const rows = await withOrganisation(handle.db.app, null, (trx) =>
        trx.selectFrom('resources').innerJoin('datasets', 'datasets.id', 'resources.dataset_id').select('resources.id').where('datasets.slug', '=', dataset).orderBy('resources.version').execute(),
      );
      return rows.map((row) => row.id);
    }

    async function ckan(action: string, params: Record<string, string>): Promise<{ status: number; success: boolean; message: string }> {
      const response = await fetch(`${server.url}/api/3/action/${action}?${new URLSearchParams(params)}`);
      const body = (await response.json()) as { success: boolean; error?: { message: string } };
      return { status: response.status, success: body.success, message: body.error?.message ?? '' };
    }

    test('redacted version opens without its unredacted predecessor', async () => {
      const first = await importFlagged('devon-redacted');
      const published = await services.publication.publish(OPERATOR, 'devon-redacted', { fixes: [{ type: 'redact', column: 'Supplier name', kind: 'individual_name' }], open: true });
      assert.equal(published.visibility, 'open');

      assert.deepEqual(await publicResourceIds('devon-redacted'), [published.resource_id]);
      const ownView = await withOrganisation(handle.db.app, first.organisationId, (trx) =>
        trx.selectFrom('resources').select('id').where('id', '=', first.resourceId).execute(),
      );
      assert.equal(ownView.length, 1, 'the publishing organisation still sees its earlier version');
      const anonymousFile = await withOrganisation(handle.db.app, null, (trx) => trx.selectFrom('resource_files').select('resource_id').where('resource_id', '=', first.resourceId).execute());
      assert.deepEqual(anonymousFile, []);

      assert.equal((await ckan('resource_show', { id: published.resource_id })).success, true);
      const hiddenResource = await ckan('resource_show', { id: first.resourceId });
      assert.equal(hiddenResource.success, false);
      assert.equal(hiddenResource.status, 403);
      assert.match(hiddenResource.message, /version of an open dataset that its organisation withholds from public readers/);
      const hiddenRows = await ckan('datastore_search', { resource_id: first.resourceId });
      assert.equal(hiddenRows.success, false);
      assert.match(hiddenRows.message, /withholds from public readers/);
      const hiddenSql = await ckan('datastore_search_sql', { sql: `select * from "${first.resourceId}"` });
      assert.equal(hiddenSql.status, 403);
      assert.match(hiddenSql.message, /withholds from public readers/);
      const download = await fetch(`${server.url}/dataset/devon-redacted/resource/${first.resourceId}/download.csv`);
      assert.equal(download.status, 404);
      await download.arrayBuffer();
      const openDownload = await fetch(`${server.url}/dataset/devon-redacted/resource/${published.resource_id}/download.csv`);
      assert.equal(openDownload.status, 200);
      const openCsv = await openDownload.text();
      assert.ok(!openCsv.includes('DR SARAH SAUNDERS'));
      assert.ok(openCsv.includes('REDACTED – personal data'));
    });

    test('justified version stays public', async () => {
      const first = await importFlagged('devon-justified');
      await services.publication.publish(OPERATOR, 'devon-justified', {
        fixes: [],
        justification: 'Named professionals are paid in their business capacity and publish their own trading names.',
        open: true,
      });
      assert.deepEqual(await publicResourceIds('devon-justified'), [first.resourceId]);
    });
  });
}
