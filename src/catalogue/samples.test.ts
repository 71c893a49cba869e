import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { testEngines } from '../../test/helpers/engines.ts';
import { countStoredRows, temporaryFolder } from '../../test/helpers/import-fixtures.ts';
import { testServices } from '../../test/helpers/services.ts';
import type { Services } from '../services.ts';
import { PLATFORM_SCOPE, PUBLIC_SCOPE } from './catalogue.types.ts';
import { readSampleManifest, SAMPLES_FOLDER, SampleManifestError, seedSampleCatalogue } from './samples.ts';

/** Data rows of each sample file, counted from the files (header excluded). */
const EXPECTED_ROWS: Record<string, number> = {
  'trafford-land-and-building-assets': 608,
  'trafford-procurement-card-transactions-2026-27': 2024,
  'banes-public-toilets': 18,
  'mental-health-act-statistics-2010-11': 327,
  'devon-spending-over-500-2017-06': 7990,
  'devon-spending-over-500-2025-04': 237,
  'devon-spending-over-500-2026-03': 3545,
};

for (const engine of testEngines()) {
  describe(`sample catalogue on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let services: Services;

    before(async () => {
      handle = await engine.create();
      services = testServices(handle.db);
    });
    after(async () => {
      await handle.drop();
    });

    test('seed loads every sample', async () => {
      const reports = await seedSampleCatalogue(services);
      assert.deepEqual(Object.fromEntries(reports.map((report) => [report.dataset, report.rows])), EXPECTED_ROWS);
      // The publication gate keeps a dataset private when its scan finds personal data (the toilets' postcodes count);
      // every other sample is open.
      for (const report of reports) {
        const findings = (report.personal_data as unknown[] | undefined) ?? [];
        assert.equal(report.visibility, findings.length === 0 ? 'open' : 'private', report.dataset);
      }
      const listed = await services.catalogue.listDatasets(PUBLIC_SCOPE, { limit: 100 });
      assert.deepEqual(listed.datasets.map((dataset) => dataset.slug).sort(), reports.filter((report) => report.visibility === 'open').map((report) => report.dataset).sort());
      assert.ok(listed.datasets.some((dataset) => dataset.slug === 'trafford-land-and-building-assets'), 'land register is open');
      for (const slug of ['devon-spending-over-500-2017-06', 'devon-spending-over-500-2025-04', 'devon-spending-over-500-2026-03']) {
        assert.ok(listed.datasets.some((dataset) => dataset.slug === slug), `redacted ${slug} is open`);
      }
      const toilets = await services.catalogue.showDataset(PLATFORM_SCOPE, 'banes-public-toilets');
      assert.equal(toilets.licenceId, 'OGL-UK-2.0');
      assert.equal(toilets.organisation.name, 'Bath and North East Somerset Council');
      assert.deepEqual(toilets.tags, ['toilets', 'facilities', 'accessibility']);
      assert.equal(toilets.temporalStart, '2014-09-15');
      assert.equal(toilets.updateFrequency, 'irregular');
      assert.equal(await countStoredRows(handle.db, toilets.currentResource!.tableName), 18);
      const health = await services.catalogue.currentResource(PUBLIC_SCOPE, 'mental-health-act-statistics-2010-11');
      assert.equal(health?.loadReport.encoding, 'UTF-16LE');
    });

    test('second seed loads nothing', async () => {
      const reports = await seedSampleCatalogue(services);
      assert.deepEqual(reports, []);
      const detail = await services.catalogue.showDataset(PLATFORM_SCOPE, 'trafford-land-and-building-assets');
      assert.deepEqual(detail.versions.map((version) => version.version), [1]);
    });
  });
}

describe('sample manifest', () => {
  test('shipped manifest is valid', () => {
    const samples = readSampleManifest();
    assert.equal(samples.length, 7);
    for (const sample of samples) assert.ok(fs.existsSync(path.join(SAMPLES_FOLDER, sample.file)), sample.file);
  });

  test('bad entry named with its field', () => {
    const folder = temporaryFolder('civic-samples-');
    try {
      fs.writeFileSync(
        path.join(folder.path, 'catalogue.json'),
        JSON.stringify({ datasets: [{ organisation: { slug: 'x-council', name: 'X' }, dataset: 'x-data', title: 'X', licence: 'GPL', file: 'missing.csv' }] }),
      );
      assert.throws(() => readSampleManifest(folder.path), (error: unknown) => {
        assert.ok(error instanceof SampleManifestError);
        assert.match(error.message, /datasets\[0\]: Dataset metadata is invalid: licence: Licence "GPL" is not known/);
        return true;
      });
    } finally {
      folder.remove();
    }
  });
});
