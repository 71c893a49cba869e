import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testEngines } from '../../test/helpers/engines.ts';
import { AppError } from '../errors.ts';
import { CatalogueService } from './catalogue.service.ts';
import { organisationScope, PLATFORM_SCOPE, PUBLIC_SCOPE } from './catalogue.types.ts';
import { setPlatformScope } from '../db/tenant.ts';

const EDITOR = { userId: null, kind: 'platform' as const, operator: 'catalogue-test' };

for (const engine of testEngines()) {
  describe(`catalogue service on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let catalogue: CatalogueService;
    let councilId: string;
    let charityId: string;

    before(async () => {
      handle = await engine.create();
      catalogue = new CatalogueService(handle.db);
      councilId = (await catalogue.createOrganisation({ slug: 'thurrock-council', name: 'Thurrock Council' })).id;
      charityId = (await catalogue.createOrganisation({ slug: 'food-bank', name: 'Thurrock Food Bank', kind: 'charity' })).id;
      await catalogue.createDataset(organisationScope(councilId), 'thurrock-council', 'public-toilets', {
        title: 'Public toilets',
        description: 'Locations and opening hours of public toilets',
        tags: ['toilets', 'facilities'],
        updateFrequency: 'annual',
      });
      await catalogue.createDataset(organisationScope(councilId), 'thurrock-council', 'spending-over-500', {
        title: 'Spending over £500',
        tags: ['spending', 'transparency'],
      });
      await catalogue.setVisibility(organisationScope(councilId), 'public-toilets', 'open');
    });
    after(async () => {
      await handle.drop();
    });

    test('new dataset defaults to private OGL', async () => {
      const dataset = await catalogue.findDataset(organisationScope(councilId), 'spending-over-500');
      assert.equal(dataset?.visibility, 'private');
      assert.equal(dataset?.licenceId, 'OGL-UK-3.0');
      assert.equal(dataset?.organisation.slug, 'thurrock-council');
      assert.equal(dataset?.currentResourceId, null);
    });

    test('private dataset hidden outside its organisation', async () => {
      const anonymous = await catalogue.listDatasets(PUBLIC_SCOPE);
      assert.deepEqual(anonymous.datasets.map((d) => d.slug), ['public-toilets']);
      assert.equal(anonymous.total, 1);
      const charity = await catalogue.listDatasets(organisationScope(charityId));
      assert.deepEqual(charity.datasets.map((d) => d.slug), ['public-toilets']);
      const council = await catalogue.listDatasets(organisationScope(councilId));
      assert.deepEqual(council.datasets.map((d) => d.slug), ['public-toilets', 'spending-over-500']);
      await assert.rejects(catalogue.showDataset(PUBLIC_SCOPE, 'spending-over-500'), (error: unknown) => error instanceof AppError && error.kind === 'not_found');
    });

    test('full-text search matches title, tags and description', async () => {
      const byTitle = await catalogue.listDatasets(PLATFORM_SCOPE, { query: 'spending' });
      assert.deepEqual(byTitle.datasets.map((d) => d.slug), ['spending-over-500']);
      const byDescription = await catalogue.listDatasets(PLATFORM_SCOPE, { query: 'opening hours', order: 'relevance' });
      assert.deepEqual(byDescription.datasets.map((d) => d.slug), ['public-toilets']);
      const byTag = await catalogue.listDatasets(PLATFORM_SCOPE, { tags: ['transparency'] });
      assert.deepEqual(byTag.datasets.map((d) => d.slug), ['spending-over-500']);
      const byOrganisation = await catalogue.listDatasets(PLATFORM_SCOPE, { organisationSlug: 'food-bank' });
      assert.equal(byOrganisation.total, 0);
    });

    test('paging reports the full total', async () => {
      const page = await catalogue.listDatasets(PLATFORM_SCOPE, { limit: 1, offset: 1 });
      assert.equal(page.total, 2);
      assert.deepEqual(page.datasets.map((d) => d.slug), ['spending-over-500']);
    });

    test('other organisation cannot edit a dataset', async () => {
      await assert.rejects(
        catalogue.updateDatasetMetadata(organisationScope(charityId), 'spending-over-500', { title: 'Taken over' }, EDITOR),
        (error: unknown) => error instanceof AppError && error.code === 'dataset_not_found',
      );
      const unchanged = await catalogue.findDataset(PLATFORM_SCOPE, 'spending-over-500');
      assert.equal(unchanged?.title, 'Spending over £500');
    });

    test('metadata errors name every field', async () => {
      await assert.rejects(
        catalogue.updateDatasetMetadata(organisationScope(councilId), 'public-toilets', {
          licenceId: 'GPL',
          updateFrequency: 'fortnightly',
          temporalStart: '2024-02-30',
        }, EDITOR),
        (error: unknown) => {
          assert.ok(error instanceof AppError);
          assert.deepEqual(error.fields.map((f) => f.field), ['licence', 'update_frequency', 'temporal_start']);
          return true;
        },
      );
    });

    test('metadata update keeps other fields', async () => {
      const updated = await catalogue.updateDatasetMetadata(organisationScope(councilId), 'public-toilets', {
        temporalStart: '2014-09-15',
        temporalEnd: '2014-09-15',
        spatial: 'Bath and North East Somerset',
      }, EDITOR);
      assert.equal(updated.temporalStart, '2014-09-15');
      assert.equal(updated.spatial, 'Bath and North East Somerset');
      assert.deepEqual(updated.tags, ['toilets', 'facilities']);
      assert.equal(updated.updateFrequency, 'annual');
    });

    test('open dataset of another organisation is forbidden', async () => {
      await assert.rejects(
        catalogue.updateDatasetMetadata(organisationScope(charityId), 'public-toilets', { title: 'Taken over' }, EDITOR),
        (error: unknown) => error instanceof AppError && error.kind === 'forbidden' && /Thurrock Council/.test(error.message),
      );
      const unchanged = await catalogue.findDataset(PLATFORM_SCOPE, 'public-toilets');
      assert.equal(unchanged?.title, 'Public toilets');
    });

    test('metadata update is audited with the changes', async () => {
      await catalogue.updateDatasetMetadata(organisationScope(councilId), 'public-toilets', { description: 'Where to find public toilets', tags: ['toilets', 'facilities'] }, { ...EDITOR, requestId: 'req-audit' });
      const events = await handle.db.app.transaction().execute(async (trx) => {
        await setPlatformScope(trx);
        return trx.selectFrom('audit_log').select(['action', 'details', 'request_id']).where('request_id', '=', 'req-audit').execute();
      });
      assert.equal(events.length, 1);
      assert.equal(events[0]!.action, 'dataset.metadata_updated');
      const details = events[0]!.details as { changed: Record<string, unknown>; operator: string };
      assert.deepEqual(details.changed, { description: 'Where to find public toilets' }, 'unchanged tags are not listed');
      assert.equal(details.operator, 'catalogue-test');
    });

    test('metadata limits reject long values', async () => {
      await assert.rejects(
        catalogue.updateDatasetMetadata(organisationScope(councilId), 'public-toilets', { description: 'x'.repeat(10_001), spatial: ' ', tags: Array.from({ length: 51 }, (_, i) => `tag${i}`) }, EDITOR),
        (error: unknown) => {
          assert.ok(error instanceof AppError);
          assert.deepEqual(error.fields.map((f) => f.field), ['description', 'tags', 'spatial']);
          return true;
        },
      );
    });

    test('duplicate and invalid slugs rejected', async () => {
      await assert.rejects(catalogue.createOrganisation({ slug: 'thurrock-council', name: 'Again' }), (error: unknown) => error instanceof AppError && error.kind === 'conflict');
      await assert.rejects(catalogue.createOrganisation({ slug: 'Bad Slug', name: 'Bad' }), /not a valid slug/);
      await assert.rejects(
        catalogue.createDataset(organisationScope(councilId), 'thurrock-council', 'public-toilets', { title: 'Again' }),
        (error: unknown) => error instanceof AppError && error.code === 'dataset_exists',
      );
    });

    test('unknown resource id is not found', async () => {
      await assert.rejects(catalogue.getResource(PLATFORM_SCOPE, 'not-a-uuid'), (error: unknown) => error instanceof AppError && error.kind === 'not_found');
      await assert.rejects(catalogue.getResourceFile(PLATFORM_SCOPE, '00000000-0000-4000-8000-000000000000'), /was not found/);
    });
  });
}
