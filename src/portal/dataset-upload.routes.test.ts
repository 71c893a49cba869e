import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildUser, memberAuth, startCompleteSession } from '../../test/helpers/accounts.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { startTestServer, testServices } from '../../test/helpers/services.ts';
import { UploadBrowser, type FormFile, type FormResponse } from '../../test/helpers/upload-browser.ts';
import { organisationScope, PLATFORM_SCOPE } from '../catalogue/catalogue.types.ts';
import { setPlatformScope } from '../db/tenant.ts';
import type { RunningServer } from '../main.ts';
import type { Services } from '../services.ts';
import { insertPortalCatalogue } from './portal.test-data.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../../test/fixtures');

function fixture(name: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(fs.readFileSync(path.join(FIXTURES, name)));
}

/** The parts of an upload form as a browser sends them; `file: null` leaves out the file part altogether. */
interface UploadParts {
  file?: FormFile | null;
  sheet?: string;
  visibility?: string;
}

/** A signed-in browser that posts the "Upload a new version" form of a dataset. */
class Browser extends UploadBrowser {
  upload(slug: string, parts: UploadParts, csrf: string | null = this.csrfToken): Promise<FormResponse> {
    const entries: Array<[string, string | FormFile]> = [];
    if (parts.file !== null) entries.push(['file', parts.file ?? { name: '', content: '' }]);
    if (parts.sheet !== undefined) entries.push(['sheet', parts.sheet]);
    if (parts.visibility !== undefined) entries.push(['visibility', parts.visibility]);
    return this.postForm(`/dataset/${slug}/upload`, entries, csrf);
  }
}

for (const engine of testEngines()) {
  describe(`upload a new version page on ${engine.name}`, () => {
    let drop: () => Promise<void>;
    let services: Services;
    let server: RunningServer;
    let steward: Browser;
    let analyst: Browser;
    let police: Browser;
    let stewardId: string;
    let councilId: string;

    const session = async (userId: string, organisationId: string) => {
      const started = await startCompleteSession(services, userId, organisationId);
      const browser = new Browser(server, `${services.accounts.sessions.cookieName}=${started.cookieValue}`);
      browser.csrfToken = started.session.csrfToken;
      return browser;
    };

    const currentVersion = async (slug: string) => {
      const dataset = await services.catalogue.showDataset(PLATFORM_SCOPE, slug);
      return { version: dataset.currentResource?.version, rows: dataset.currentResource?.rowCount, visibility: dataset.visibility, versions: dataset.versions.length };
    };

    before(async () => {
      const created = await engine.create();
      drop = created.drop;
      await insertPortalCatalogue(created.db);
      services = testServices(created.db);
      server = await startTestServer(services);
      const council = await services.catalogue.getOrganisation(PLATFORM_SCOPE, 'thurrock-council');
      const policeForce = await services.catalogue.getOrganisation(PLATFORM_SCOPE, 'essex-police');
      councilId = council.id;
      const stewardUser = await buildUser(created.db, { member: { organisationId: council.id, role: 'data_steward' } });
      const analystUser = await buildUser(created.db, { member: { organisationId: council.id, role: 'analyst' } });
      const policeUser = await buildUser(created.db, { member: { organisationId: policeForce.id, role: 'administrator' } });
      stewardId = stewardUser.id;
      steward = await session(stewardUser.id, council.id);
      analyst = await session(analystUser.id, council.id);
      police = await session(policeUser.id, policeForce.id);
    });

    after(async () => {
      await server.close();
      await drop();
    });

    test('dataset page links stewards only', async () => {
      const stewardPage = await steward.get('/dataset/spending-over-500');
      assert.match(stewardPage.body, /href="\/dataset\/spending-over-500\/upload">Upload a new version/);
      for (const client of [analyst, police]) {
        const page = await client.get('/dataset/spending-over-500');
        assert.equal(page.status, 200);
        assert.doesNotMatch(page.body, /Upload a new version/);
      }
      const anonymous = await fetch(`${server.url}/dataset/spending-over-500`);
      assert.doesNotMatch(await anonymous.text(), /Upload a new version/);
    });

    test('form offers file, sheet and visibility', async () => {
      const page = await steward.get('/dataset/spending-over-500/upload');
      assert.equal(page.status, 200);
      assert.match(page.body, /<h1 class="govuk-heading-l">Upload a new version<\/h1>/);
      assert.match(page.body, /enctype="multipart\/form-data"/);
      assert.match(page.body, /action="\/dataset\/spending-over-500\/upload\?_csrf=[^"]+"/);
      assert.match(page.body, /class="govuk-file-upload" id="file" name="file" type="file"/);
      assert.match(page.body, /smaller than 512 MB/);
      assert.match(page.body, /id="sheet" name="sheet" type="text"/);
      assert.match(page.body, /value="open" checked/);
      assert.match(page.body, /becomes version 3 of Spending over £500\. .* version 2 keeps serving/);
    });

    test('upload loads and reports', async () => {
      await steward.get('/dataset/spending-over-500/upload');
      const response = await steward.upload('spending-over-500', { file: { name: 'totals.csv', content: fixture('ingest/totals.csv') }, sheet: '', visibility: 'open' });
      assert.equal(response.status, 303);
      const dataset = await services.catalogue.showDataset(PLATFORM_SCOPE, 'spending-over-500');
      assert.equal(dataset.currentResource?.version, 3);
      assert.equal(dataset.currentResource?.rowCount, 2);
      assert.equal(dataset.visibility, 'open');
      assert.equal(response.location, `/dataset/spending-over-500/resource/${dataset.currentResource?.id}/report`);

      const report = await steward.get(response.location!);
      assert.equal(report.status, 200);
      assert.match(report.body, /<h1 class="govuk-panel__title">\s*Version 3 loaded/);
      assert.match(report.body, /Rows loaded\s*<\/dt>\s*<dd class="govuk-summary-list__value">\s*2 rows/);
      assert.match(report.body, /Character encoding\s*<\/dt>\s*<dd class="govuk-summary-list__value">\s*UTF-8/);
      assert.match(report.body, /Delimiter\s*<\/dt>\s*<dd class="govuk-summary-list__value">\s*Comma \(,\)/);
      assert.match(report.body, /<th scope="row" class="govuk-table__header">Amount<\/th>\s*<td class="govuk-table__cell"><code>amount<\/code><\/td>\s*<td class="govuk-table__cell">Number<\/td>/);
      // Every warning of the load is listed: the totals row, the footer note and the changed columns.
      const stored = dataset.currentResource!.loadReport.warnings;
      assert.ok(stored.some((warning) => warning.code === 'summary_row_excluded'));
      for (const warning of stored) assert.ok(report.body.includes(warning.message.replaceAll('&', '&amp;').replaceAll('"', '&quot;')), `report page lists: ${warning.message}`);

      const audit = await services.db.app.transaction().execute(async (trx) => {
        await setPlatformScope(trx);
        return trx.selectFrom('audit_log').select(['actor_user_id', 'actor_kind']).where('action', '=', 'resource.imported').execute();
      });
      assert.equal(audit.length, 1);
      assert.equal(audit[0]!.actor_user_id, stewardId);
      assert.equal(audit[0]!.actor_kind, 'user');
    });

    test('bad files keep the current version', async () => {
      const before = await currentVersion('spending-over-500');
      const cases: Array<{ label: string; parts: UploadParts; href: string; message: RegExp; sheet: string }> = [
        { label: 'no file chosen', parts: { sheet: 'Budget', visibility: 'private' }, href: '#file', message: /Select a CSV, XLSX or ODS file to upload/, sheet: 'Budget' },
        { label: 'no file part', parts: { file: null, sheet: 'Budget', visibility: 'private' }, href: '#file', message: /Select a CSV, XLSX or ODS file to upload/, sheet: 'Budget' },
        { label: 'empty file', parts: { file: { name: 'empty.csv', content: '' }, sheet: '', visibility: 'private' }, href: '#file', message: /empty\.csv is empty\. Check that you chose the right file/, sheet: '' },
        {
          label: 'unknown type',
          parts: { file: { name: 'report.pdf', content: fixture('ingest/report.pdf') }, sheet: '', visibility: 'private' },
          href: '#file',
          message: /report\.pdf has the extension \.pdf, which cannot be imported\. Upload a \.csv, \.tsv, \.txt, \.xlsx or \.ods file/,
          sheet: '',
        },
        { label: 'surplus cell', parts: { file: { name: 'surplus-cell.csv', content: fixture('ingest/surplus-cell.csv') }, sheet: '', visibility: 'private' }, href: '#file', message: /line 4 of surplus-cell\.csv has a value in column 3/, sheet: '' },
        {
          label: 'sheet for a CSV file',
          parts: { file: { name: 'totals.csv', content: fixture('ingest/totals.csv') }, sheet: 'Budget', visibility: 'private' },
          href: '#sheet',
          message: /totals\.csv is a text file with no sheets, so the sheet &quot;Budget&quot; cannot be chosen\./,
          sheet: 'Budget',
        },
      ];
      for (const { label, parts, href, message, sheet } of cases) {
        await steward.get('/dataset/spending-over-500/upload');
        const response = await steward.upload('spending-over-500', parts);
        assert.equal(response.status, 400, label);
        assert.match(response.body, /<title>Error: Upload a new version/, label);
        assert.match(response.body, /There is a problem/, label);
        assert.match(response.body, new RegExp(`href="${href}">`), label);
        assert.match(response.body, message, label);
        assert.ok(response.body.includes(`id="sheet" name="sheet" type="text" spellcheck="false" value="${sheet}"`), `${label}: sheet kept`);
        assert.match(response.body, /value="private" checked/, `${label}: visibility kept`);
        assert.deepEqual(await currentVersion('spending-over-500'), before, `${label}: nothing stored`);
      }
    });

    test('workbook needs a sheet named', async () => {
      const before = await currentVersion('land-and-building-assets');
      await steward.get('/dataset/land-and-building-assets/upload');
      const workbook = { name: 'two-sheets.xlsx', content: fixture('ingest/two-sheets.xlsx') };
      const missing = await steward.upload('land-and-building-assets', { file: workbook, sheet: '', visibility: 'open' });
      assert.equal(missing.status, 400);
      assert.match(missing.body, /href="#sheet">two-sheets\.xlsx has 2 sheets with data: &quot;[^&]+&quot;, &quot;[^&]+&quot;\. Enter the name of the sheet to load\./);
      assert.doesNotMatch(missing.body, /--sheet/);
      const unknown = await steward.upload('land-and-building-assets', { file: workbook, sheet: 'Nowhere', visibility: 'open' });
      assert.equal(unknown.status, 400);
      assert.match(unknown.body, /href="#sheet">two-sheets\.xlsx has no sheet called &quot;Nowhere&quot;/);
      assert.match(unknown.body, /value="Nowhere"/);
      assert.deepEqual(await currentVersion('land-and-building-assets'), before);

      const sheet = /sheets with data: &quot;([^&]+)&quot;/.exec(missing.body)![1]!;
      const loaded = await steward.upload('land-and-building-assets', { file: workbook, sheet, visibility: 'open' });
      assert.equal(loaded.status, 303);
      const report = await steward.get(loaded.location!);
      assert.match(report.body, new RegExp(`Sheet\\s*</dt>\\s*<dd class="govuk-summary-list__value">\\s*${sheet}`));
      assert.doesNotMatch(report.body, />\s*Delimiter\s*</);
    });

    test('personal data keeps it private', async () => {
      await steward.get('/dataset/land-and-building-assets/upload');
      const response = await steward.upload('land-and-building-assets', { file: { name: 'personal-data.csv', content: fixture('privacy/personal-data.csv') }, visibility: 'open' });
      assert.equal(response.status, 303);
      const dataset = await services.catalogue.showDataset(organisationScope(councilId), 'land-and-building-assets');
      assert.equal(dataset.visibility, 'private');
      const report = await steward.get(response.location!);
      assert.match(report.body, /Personal data found/);
      assert.match(report.body, /Because of this, the dataset is private/);
      assert.match(report.body, /Private: only members of Thurrock Council can see the data/);
      // The importer's own warning that an open dataset became private is listed with the others.
      assert.ok(dataset.currentResource!.loadReport.warnings.some((warning) => warning.code === 'dataset_no_longer_public'));
      assert.match(report.body, /no longer public|no longer open/i);
    });

    test('guards reject everyone else', async () => {
      const before = await currentVersion('spending-over-500');
      const anonymous = await fetch(`${server.url}/dataset/spending-over-500/upload`);
      assert.equal(anonymous.status, 401);
      assert.equal((await analyst.get('/dataset/spending-over-500/upload')).status, 403);
      assert.equal((await police.get('/dataset/spending-over-500/upload')).status, 403);
      assert.equal((await police.get('/dataset/incident-log-restricted/upload')).status, 200);
      assert.equal((await steward.get('/dataset/incident-log-restricted/upload')).status, 404);

      const file = { name: 'totals.csv', content: fixture('ingest/totals.csv') };
      const analystPost = await analyst.upload('spending-over-500', { file, visibility: 'open' });
      assert.equal(analystPost.status, 403);
      assert.match(analystPost.body, /Only a data steward or an administrator of your organisation can do this/);
      await police.get('/dataset/incident-log-restricted/upload');
      assert.equal((await police.upload('spending-over-500', { file, visibility: 'open' })).status, 403);
      await steward.get('/dataset/spending-over-500/upload');
      assert.equal((await steward.upload('spending-over-500', { file, visibility: 'open' }, null)).status, 403, 'no CSRF token');
      assert.equal((await steward.upload('spending-over-500', { file, visibility: 'open' }, 'A'.repeat(43))).status, 403, 'wrong CSRF token');
      assert.deepEqual(await currentVersion('spending-over-500'), before);
    });

    test('read token cannot upload', async () => {
      const { token } = await services.tokens.create(memberAuth(stewardId, councilId, 'data_steward'), { name: 'reader', scopes: ['read'] });
      const form = new FormData();
      form.append('file', new File(['a,b\n1,2\n'], 'small.csv'));
      const response = await fetch(`${server.url}/dataset/spending-over-500/upload`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
      assert.equal(response.status, 403);
      assert.match(await response.text(), /does not have the &quot;write&quot; scope/);
    });
  });
}

describe('upload page size limit', () => {
  test('file over the limit gets 413', async () => {
    const [engine] = testEngines();
    const handle = await engine!.create();
    await insertPortalCatalogue(handle.db);
    const previous = process.env.CIVIC_UPLOAD_MAX_MB;
    process.env.CIVIC_UPLOAD_MAX_MB = '1';
    const services = testServices(handle.db);
    const server = await startTestServer(services);
    try {
      const council = await services.catalogue.getOrganisation(PLATFORM_SCOPE, 'thurrock-council');
      const steward = await buildUser(handle.db, { member: { organisationId: council.id, role: 'data_steward' } });
      const started = await startCompleteSession(services, steward.id, council.id);
      const browser = new Browser(server, `${services.accounts.sessions.cookieName}=${started.cookieValue}`);
      const form = await browser.get('/dataset/spending-over-500/upload');
      assert.match(form.body, /smaller than 1 MB/);

      const large = `code,amount\n${'1234567,12.50\n'.repeat(80_000)}`;
      assert.ok(Buffer.byteLength(large) > 1_048_576);
      const response = await browser.upload('spending-over-500', { file: { name: 'large.csv', content: large }, sheet: 'Budget', visibility: 'private' });
      assert.equal(response.status, 413);
      assert.match(response.body, /href="#file">The selected file must be smaller than 1 MB\./);
      assert.ok(response.body.includes('value="Budget"'), 'fields after the file are still read');
      assert.match(response.body, /value="private" checked/);
      const dataset = await services.catalogue.showDataset(PLATFORM_SCOPE, 'spending-over-500');
      assert.equal(dataset.currentResource?.version, 2);
    } finally {
      if (previous === undefined) delete process.env.CIVIC_UPLOAD_MAX_MB;
      else process.env.CIVIC_UPLOAD_MAX_MB = previous;
      await server.close();
      await handle.drop();
    }
  });
});
