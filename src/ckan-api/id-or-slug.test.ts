import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildDataset, buildOrganisation } from '../../test/helpers/catalogue-builders.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { startTestServer, testServices } from '../../test/helpers/services.ts';
import { AppError } from '../errors.ts';
import type { RunningServer } from '../main.ts';
import type { Services } from '../services.ts';

type Envelope = { success: boolean; result?: { id: string; name: string; title: string } };

for (const engine of testEngines()) {
  describe(`ids and slugs on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let services: Services;
    let server: RunningServer;
    let councilId: string;
    let datasetId: string;

    before(async () => {
      handle = await engine.create();
      services = testServices(handle.db);
      server = await startTestServer(services);
      const council = await buildOrganisation(handle.db, { slug: 'thurrock-council', name: 'Thurrock Council' });
      councilId = council.id;
      datasetId = (await buildDataset(handle.db, { organisation: council, slug: 'public-toilets', title: 'Public toilets' })).id;
      // Slugs stored before UUID-shaped slugs were rejected: each names another record's id.
      const impostor = await buildOrganisation(handle.db, { slug: councilId, name: 'Impostor' });
      await buildDataset(handle.db, { organisation: impostor, slug: datasetId, title: 'Impostor toilets' });
      // An update writes a row's new version after the impostor's, so a scan that takes the first match finds the impostor.
      await handle.db.owner.updateTable('organisations').set({ description: 'The council' }).where('id', '=', councilId).execute();
      await handle.db.owner.updateTable('datasets').set({ description: 'Toilets the council runs' }).where('id', '=', datasetId).execute();
    });
    after(async () => {
      await server.close();
      await handle.drop();
    });

    const get = async (action: string, id: string) => {
      const response = await fetch(`${server.url}/api/3/action/${action}?id=${id}`);
      return (await response.json()) as Envelope;
    };

    test('package_show by id ignores a slug of that id', async () => {
      for (let attempt = 0; attempt < 3; attempt++) {
        const body = await get('package_show', datasetId);
        assert.equal(body.result?.title, 'Public toilets');
      }
    });

    test('organization_show by id ignores a slug of that id', async () => {
      for (let attempt = 0; attempt < 3; attempt++) {
        const body = await get('organization_show', councilId);
        assert.equal(body.result?.name, 'thurrock-council');
      }
    });

    test('slugs in the form of an id are rejected', async () => {
      const slug = '0b5f1c3e-8a2d-4e6f-9b1a-2c3d4e5f6a7b';
      await assert.rejects(services.catalogue.createOrganisation({ slug, name: 'Looks like an id' }), (error: unknown) => {
        assert.ok(error instanceof AppError);
        assert.equal(error.code, 'invalid_organisation_slug');
        assert.match(error.message, /has the form of an id/);
        return true;
      });
      await assert.rejects(
        // The slug is checked before the file is read, so the file need not exist.
        services.imports.importFile({ path: 'counts.csv', filename: 'counts.csv' }, { organisation: 'thurrock-council', dataset: slug, actor: { kind: 'operator', name: 'test' } }),
        (error: unknown) => error instanceof AppError && error.code === 'invalid_dataset_slug',
      );
      const stored = await handle.db.owner.selectFrom('datasets').select('id').where('slug', '=', slug).executeTakeFirst();
      assert.equal(stored, undefined);
    });
  });
}
