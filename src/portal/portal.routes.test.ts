import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../http/app.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { testServices } from '../../test/helpers/services.ts';
import type { Database } from '../db/database.ts';
import { PLATFORM_SCOPE } from '../catalogue/catalogue.types.ts';
import { createViewEnvironment, renderTemplate } from '../http/views.ts';
import { datasetPageContext } from './dataset-view.ts';
import { insertPortalCatalogue, insertTestDataset } from './portal.test-data.ts';

for (const engine of testEngines()) {
  describe(`portal pages on ${engine.name}`, () => {
    let drop: () => Promise<void>;
    let app: FastifyInstance;
    let ids: Awaited<ReturnType<typeof insertPortalCatalogue>>;
    let database: Database;

    before(async () => {
      const created = await engine.create();
      drop = created.drop;
      database = created.db;
      ids = await insertPortalCatalogue(created.db);
      app = await buildApp(testServices(created.db));
    });

    after(async () => {
      await app.close();
      await drop();
    });

    const get = (url: string) => app.inject({ url });

    test('home lists open datasets', async () => {
      const response = await get('/');
      assert.equal(response.statusCode, 200);
      assert.match(response.body, /<h1 class="govuk-heading-xl">Find open data<\/h1>/);
      assert.match(response.body, /href="\/dataset\/spending-over-500">Spending over £500<\/a>/);
      assert.match(response.body, /href="\/dataset\/land-and-building-assets"/);
      assert.match(response.body, /Government spending<\/a> \(1\)/);
      assert.match(response.body, /href="\/organisation\/thurrock-council">Thurrock Council<\/a> \(2\)/);
      assert.doesNotMatch(response.body, /incident-log-restricted|Essex Police/);
    });

    test('search finds by text', async () => {
      const response = await get('/datasets?q=spending');
      assert.equal(response.statusCode, 200);
      assert.match(response.body, /1 dataset found for “spending”/);
      assert.match(response.body, /Spending over £500/);
      assert.doesNotMatch(response.body, /Land and building assets<\/a>/);
      assert.doesNotMatch(response.body, /Restricted incident log/);
    });

    test('search facets filter', async () => {
      const all = await get('/datasets');
      assert.match(all.body, /2 datasets/);
      assert.match(all.body, /name="licence" type="checkbox" value="CC-BY-4.0"/);
      assert.match(all.body, /Creative Commons Attribution 4.0 \(1\)/);
      assert.match(all.body, /name="tag" type="checkbox" value="transparency"/);
      assert.doesNotMatch(all.body, /value="restricted"/);

      const filtered = await get('/datasets?licence=CC-BY-4.0');
      assert.match(filtered.body, /1 dataset</);
      assert.match(filtered.body, /Land and building assets/);
      assert.match(filtered.body, /value="CC-BY-4.0" checked/);
      assert.match(filtered.body, /Remove<span class="govuk-visually-hidden"> filter Licence: Creative Commons Attribution 4.0/);

      const both = await get('/datasets?tag=spending&tag=assets&sort=title');
      assert.match(both.body, /2 datasets/);
      const titles = [...both.body.matchAll(/<h2 class="govuk-heading-m govuk-!-margin-bottom-2"><a class="govuk-link" href="\/dataset\/([^"]+)"/g)].map((match) => match[1]);
      assert.deepEqual(titles, ['land-and-building-assets', 'spending-over-500']);
    });

    test('search with no results', async () => {
      const response = await get('/datasets?q=zebra+crossings');
      assert.equal(response.statusCode, 200);
      assert.match(response.body, /There are no matching results/);
      assert.match(response.body, /0 datasets found for “zebra crossings”/);
    });

    test('search text is never syntax', async () => {
      const awkward = ['"unclosed', 'back\\slash', '100%', 'a:b', "'; drop table datasets; --", 'or -', '!!&|()', '<script>alert(1)</script>', '\u0000'];
      for (const text of awkward) {
        const response = await get(`/datasets?q=${encodeURIComponent(text)}`);
        assert.equal(response.statusCode, 200, `q=${JSON.stringify(text)}`);
        assert.doesNotMatch(response.body, /<script>alert/);
      }
      const still = await get('/datasets');
      assert.match(still.body, /2 datasets/);
    });

    test('search bad parameters give 400', async () => {
      const page = await get('/datasets?page=abc');
      assert.equal(page.statusCode, 400);
      assert.match(page.body, /<strong>page<\/strong>: &quot;abc&quot; is not a page number/);
      const sort = await get('/datasets?sort=colour');
      assert.equal(sort.statusCode, 400);
      assert.match(sort.body, /<strong>sort<\/strong>: &quot;colour&quot; is not a choice for sort. Use one of: relevance, updated, title./);
      const beyond = await get('/datasets?page=9');
      assert.equal(beyond.statusCode, 404);
    });

    test('dataset page shows metadata', async () => {
      const response = await get('/dataset/spending-over-500');
      assert.equal(response.statusCode, 200);
      const body = response.body;
      assert.match(body, /<h1 class="govuk-heading-xl">Spending over £500<\/h1>/);
      assert.match(body, /href="https:\/\/www.nationalarchives.gov.uk\/doc\/open-government-licence\/version\/3\/">Open Government Licence v3.0<\/a>/);
      assert.match(body, /Monthly/);
      assert.match(body, /1 January 2026 to 31 March 2026/);
      assert.match(body, /2 April 2026/);
      assert.match(body, /Version 2, loaded 2 April 2026: 60 rows, 4 columns./);
      assert.match(body, /1 February 2026/);
      assert.match(body, /<th scope="row" class="govuk-table__header">Supplier Name<\/th>\s*<td class="govuk-table__cell"><code>supplier<\/code><\/td>\s*<td class="govuk-table__cell">Text<\/td>\s*<td class="govuk-table__cell">Who was paid<\/td>/);
      assert.match(body, /Line 62 looks like a totals row and was not loaded./);
      assert.match(body, new RegExp(`datastore_search\\?resource_id=${ids.spending[1]}&amp;limit=5`));
      assert.match(body, /curl &#39;http:\/\/localhost:3000\/api\/3\/action\/datastore_search/);
    });

    test('dataset page embeds schema.org', async () => {
      const response = await get('/dataset/spending-over-500');
      const nonce = /'nonce-([^']+)'/.exec(String(response.headers['content-security-policy']))?.[1];
      const match = /<script type="application\/ld\+json" nonce="([^"]+)">([\s\S]*?)<\/script>/.exec(response.body);
      assert.ok(match);
      assert.equal(match[1], nonce);
      const data = JSON.parse(match[2]!);
      assert.equal(data['@type'], 'Dataset');
      assert.equal(data.name, 'Spending over £500');
      assert.equal(data.license, 'https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/');
      assert.equal(data.temporalCoverage, '2026-01-01/2026-03-31');
      assert.equal(data.distribution[0].contentUrl, 'http://localhost:3000/dataset/spending-over-500/latest.csv');
    });

    test('private dataset is hidden', async () => {
      for (const url of [
        '/dataset/incident-log-restricted',
        '/dataset/incident-log-restricted/preview',
        '/dataset/incident-log-restricted/chart',
        '/dataset/incident-log-restricted/latest.csv',
        `/dataset/incident-log-restricted/resource/${ids.secret[0]}/download`,
        `/dataset/incident-log-restricted/resource/${ids.secret[0]}/download.json`,
        '/dataset/incident-log-restricted/datapackage.json',
        '/dataset/incident-log-restricted.jsonld',
      ]) {
        const response = await get(url);
        assert.equal(response.statusCode, 404, url);
        assert.doesNotMatch(response.body, /secret incident|Restricted incident log/, url);
      }
      // The organisation itself is public; its private datasets are not.
      const organisation = await get('/organisation/essex-police');
      assert.equal(organisation.statusCode, 200);
      assert.match(organisation.body, /Essex Police has not published any datasets yet/);
      assert.doesNotMatch(organisation.body, /Restricted incident log/);
      const organisations = await get('/organisations');
      assert.match(organisations.body, /Essex Police<\/a><\/td>\s*<td class="govuk-table__cell govuk-table__cell--numeric">0<\/td>/);
    });

    test('unknown pages give 404', async () => {
      for (const url of ['/dataset/no-such-dataset', '/organisation/nobody', `/dataset/spending-over-500/resource/${ids.assets[0]}/download.csv`, '/dataset/spending-over-500/resource/not-a-uuid/download', '/dataset/spending-over-500/preview?version=7']) {
        const response = await get(url);
        assert.equal(response.statusCode, 404, url);
        assert.match(response.body, /Page not found/, url);
      }
    });

    test('organisation pages list datasets', async () => {
      const list = await get('/organisations');
      assert.equal(list.statusCode, 200);
      assert.match(list.body, /href="\/organisation\/thurrock-council">Thurrock Council<\/a><\/td>\s*<td class="govuk-table__cell govuk-table__cell--numeric">2<\/td>/);
      const one = await get('/organisation/thurrock-council');
      assert.equal(one.statusCode, 200);
      assert.match(one.body, /2 datasets/);
      assert.match(one.body, /href="\/dataset\/land-and-building-assets"/);
    });

    test('information pages render', async () => {
      const accessibility = await get('/accessibility');
      assert.equal(accessibility.statusCode, 200);
      assert.match(accessibility.body, /Accessibility statement for Thurrock Data Exchange/);
      assert.match(accessibility.body, /Equality Advisory and Support Service/);
      const cookies = await get('/cookies');
      assert.equal(cookies.statusCode, 200);
      assert.match(cookies.body, /civic_session/);
      assert.match(cookies.body, /We do not use analytics/);
      assert.equal(cookies.headers['set-cookie'], undefined);
      const guide = await get('/api-guide');
      assert.equal(guide.statusCode, 200);
      assert.match(guide.body, /catalog.jsonld/);
    });

    test('personal data findings shown', async () => {
      const before = await get('/dataset/land-and-building-assets');
      assert.doesNotMatch(before.body, /may contain personal data/);
      // The publication gate keeps datasets with findings private, so only their organisation can open this page.
      await insertTestDataset(database, {
        organisation: { slug: 'survey-team', name: 'Survey team' },
        slug: 'resident-survey',
        title: 'Resident survey',
        visibility: 'private',
        versions: [
          {
            schema: { fields: [{ name: 'email', title: 'Email', type: 'string' }] },
            rows: [['someone@example.org']],
            report: { personal_data: [{ column: 'Email', kind: 'email_address', count: 1, rows: [1] }, { message: 'Column Notes may name people.' }] },
          },
        ],
      });
      const dataset = await testServices(database).catalogue.showDataset(PLATFORM_SCOPE, 'resident-survey');
      const html = await renderTemplate(createViewEnvironment(), 'dataset.njk', { ...datasetPageContext(dataset, 'http://localhost:3000'), schemaOrg: '{}' });
      assert.match(html, /This data may contain personal data/);
      assert.match(html, /<li>Email may hold email address in 1 cell.<\/li>/);
      assert.match(html, /<li>Column Notes may name people.<\/li>/);
      const anonymous = await get('/dataset/resident-survey');
      assert.equal(anonymous.statusCode, 404);
    });
  });
}
