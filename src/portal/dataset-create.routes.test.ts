import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildOrganisation, buildUser, memberAuth, startCompleteSession } from '../../test/helpers/accounts.ts';
import { buildDataset } from '../../test/helpers/catalogue-builders.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { startTestServer, testServices } from '../../test/helpers/services.ts';
import { UploadBrowser, type FormFile, type FormResponse } from '../../test/helpers/upload-browser.ts';
import { PLATFORM_SCOPE, type Organisation } from '../catalogue/catalogue.types.ts';
import { setPlatformScope } from '../db/tenant.ts';
import type { RunningServer } from '../main.ts';
import type { Services } from '../services.ts';
import { datasetSlugFromTitle } from './dataset-create-form.ts';
import { insertPortalCatalogue } from './portal.test-data.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../../test/fixtures');
const NEW_PAGE = '/organisation/thurrock-council/datasets/new';

function fixture(name: string): FormFile {
  return { name: path.basename(name), content: new Uint8Array(fs.readFileSync(path.join(FIXTURES, name))) };
}

/** Returns the value of the text input with `id`, as the page shows it, with HTML entities decoded. */
function inputValue(body: string, id: string): string | undefined {
  const tag = new RegExp(`<input[^>]* id="${id}"[^>]*>`).exec(body)?.[0];
  const value = tag === undefined ? undefined : /value="([^"]*)"/.exec(tag)?.[1];
  return value?.replaceAll('&quot;', '"').replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&#39;', "'").replaceAll('&amp;', '&');
}

/** The entries of the "Add a dataset" form; `file: null` leaves out the file part, absent sends an empty one. */
interface NewDatasetParts {
  title?: string;
  dataset?: string;
  file?: FormFile | null;
  sheet?: string;
  visibility?: string;
}

/** A signed-in browser that posts the "Add a dataset" form, in the field order of the page. */
class Browser extends UploadBrowser {
  addDataset(parts: NewDatasetParts, csrf: string | null = this.csrfToken, page = NEW_PAGE): Promise<FormResponse> {
    const entries: Array<[string, string | FormFile]> = [];
    if (parts.title !== undefined) entries.push(['title', parts.title]);
    if (parts.dataset !== undefined) entries.push(['dataset', parts.dataset]);
    if (parts.file !== null) entries.push(['file', parts.file ?? { name: '', content: '' }]);
    if (parts.sheet !== undefined) entries.push(['sheet', parts.sheet]);
    if (parts.visibility !== undefined) entries.push(['visibility', parts.visibility]);
    return this.postForm(page, entries, csrf);
  }
}

test('slug from title', () => {
  assert.equal(datasetSlugFromTitle('Spending over £500'), 'spending-over-500');
  assert.equal(datasetSlugFromTitle('  Café rates: 2025/26!  '), 'cafe-rates-2025-26');
  assert.equal(datasetSlugFromTitle('£'), '');
  assert.equal(datasetSlugFromTitle(`${'a'.repeat(99)} b`), 'a'.repeat(99));
});

for (const engine of testEngines()) {
  describe(`add a dataset page on ${engine.name}`, () => {
    let drop: () => Promise<void>;
    let services: Services;
    let server: RunningServer;
    let steward: Browser;
    let administrator: Browser;
    let analyst: Browser;
    let police: Browser;
    let stewardId: string;
    let council: Organisation;

    const session = async (userId: string, organisationId: string) => {
      const started = await startCompleteSession(services, userId, organisationId);
      const browser = new Browser(server, `${services.accounts.sessions.cookieName}=${started.cookieValue}`);
      browser.csrfToken = started.session.csrfToken;
      return browser;
    };

    /** Reads the council's datasets and resources straight from the database, past row-level security. */
    const councilRows = () =>
      services.db.app.transaction().execute(async (trx) => {
        await setPlatformScope(trx);
        const datasets = await trx.selectFrom('datasets').select(['slug', 'title', 'visibility']).where('organisation_id', '=', council.id).orderBy('slug').execute();
        const resources = await trx.selectFrom('resources').select('id').where('organisation_id', '=', council.id).execute();
        return { datasets, resources: resources.length };
      });

    before(async () => {
      const created = await engine.create();
      drop = created.drop;
      await insertPortalCatalogue(created.db);
      services = testServices(created.db);
      server = await startTestServer(services);
      council = await services.catalogue.getOrganisation(PLATFORM_SCOPE, 'thurrock-council');
      const policeForce = await services.catalogue.getOrganisation(PLATFORM_SCOPE, 'essex-police');
      await buildDataset(created.db, { organisation: policeForce, slug: 'police-open-data', visibility: 'open' });
      const stewardUser = await buildUser(created.db, { member: { organisationId: council.id, role: 'data_steward' } });
      const adminUser = await buildUser(created.db, { member: { organisationId: council.id, role: 'administrator' } });
      const analystUser = await buildUser(created.db, { member: { organisationId: council.id, role: 'analyst' } });
      const policeUser = await buildUser(created.db, { member: { organisationId: policeForce.id, role: 'administrator' } });
      stewardId = stewardUser.id;
      steward = await session(stewardUser.id, council.id);
      administrator = await session(adminUser.id, council.id);
      analyst = await session(analystUser.id, council.id);
      police = await session(policeUser.id, policeForce.id);
    });

    after(async () => {
      await server.close();
      await drop();
    });

    test('organisation page links stewards only', async () => {
      for (const client of [steward, administrator]) {
        const page = await client.get('/organisation/thurrock-council');
        assert.match(page.body, /href="\/organisation\/thurrock-council\/datasets\/new"[^>]*>\s*Add a dataset/);
      }
      for (const client of [analyst, police]) {
        const page = await client.get('/organisation/thurrock-council');
        assert.equal(page.status, 200);
        assert.doesNotMatch(page.body, /Add a dataset/);
      }
      const anonymous = await fetch(`${server.url}/organisation/thurrock-council`);
      assert.doesNotMatch(await anonymous.text(), /Add a dataset/);
    });

    test('form offers every field', async () => {
      const page = await steward.get(NEW_PAGE);
      assert.equal(page.status, 200);
      assert.match(page.body, /<h1 class="govuk-heading-l">Add a dataset<\/h1>/);
      assert.match(page.body, /enctype="multipart\/form-data"/);
      assert.match(page.body, /action="\/organisation\/thurrock-council\/datasets\/new\?_csrf=[^"]+"/);
      assert.match(page.body, /id="title" name="title" type="text"/);
      assert.match(page.body, /id="dataset" name="dataset" type="text"/);
      assert.match(page.body, /class="govuk-file-upload" id="file" name="file" type="file"/);
      assert.match(page.body, /id="sheet" name="sheet" type="text"/);
      assert.match(page.body, /value="private" checked/);
      assert.doesNotMatch(page.body, /value="open" checked/);
    });

    test('creates dataset and reports', async () => {
      await steward.get(NEW_PAGE);
      const response = await steward.addDataset({ title: 'Budget totals 2025', dataset: '', file: fixture('ingest/totals.csv'), sheet: '', visibility: 'private' });
      assert.equal(response.status, 303);
      const dataset = await services.catalogue.showDataset(PLATFORM_SCOPE, 'budget-totals-2025');
      assert.equal(dataset.title, 'Budget totals 2025');
      assert.equal(dataset.organisation.id, council.id);
      assert.equal(dataset.visibility, 'private');
      assert.equal(dataset.currentResource?.version, 1);
      assert.equal(dataset.currentResource?.rowCount, 2);
      assert.equal(response.location, `/dataset/budget-totals-2025/resource/${dataset.currentResource?.id}/report`);

      const report = await steward.get(response.location!);
      assert.equal(report.status, 200);
      assert.match(report.body, /<h1 class="govuk-panel__title">\s*Version 1 loaded/);
      assert.match(report.body, /Rows loaded\s*<\/dt>\s*<dd class="govuk-summary-list__value">\s*2 rows/);
      assert.match(report.body, /href="\/dataset\/budget-totals-2025\/edit">Edit dataset details<\/a>: add a description/);

      const audit = await services.db.app.transaction().execute(async (trx) => {
        await setPlatformScope(trx);
        return trx.selectFrom('audit_log').select(['actor_user_id', 'details']).where('action', '=', 'resource.imported').execute();
      });
      assert.equal(audit.length, 1);
      assert.equal(audit[0]!.actor_user_id, stewardId);
    });

    test('entered slug and open visibility', async () => {
      await administrator.get(NEW_PAGE);
      const response = await administrator.addDataset({ title: 'Land register', dataset: 'land_register-2025', file: fixture('ingest/totals.csv'), sheet: '', visibility: 'open' });
      assert.equal(response.status, 303);
      const dataset = await services.catalogue.showDataset(PLATFORM_SCOPE, 'land_register-2025');
      assert.equal(dataset.title, 'Land register');
      assert.equal(dataset.visibility, 'open');
    });

    test('bad entries leave no dataset', async () => {
      const before = await councilRows();
      const file = fixture('ingest/totals.csv');
      const cases: Array<{ label: string; parts: NewDatasetParts; status?: number; href: string; message: RegExp }> = [
        { label: 'no title', parts: { title: '  ', dataset: 'kept-slug', file, sheet: 'Budget', visibility: 'private' }, href: '#title', message: /Enter a title/ },
        { label: 'long title', parts: { title: 'T'.repeat(501), dataset: 'kept-slug', file, sheet: 'Budget', visibility: 'private' }, href: '#title', message: /Title must be 500 characters or fewer\. It has 501/ },
        { label: 'malformed slug', parts: { title: 'Kept title', dataset: 'Bad Slug!', file, sheet: 'Budget', visibility: 'private' }, href: '#dataset', message: /The dataset slug &quot;Bad Slug!&quot; is not valid\. Enter 2 to 100 lowercase letters/ },
        { label: 'slug too short', parts: { title: 'Kept title', dataset: 'a', file, sheet: 'Budget', visibility: 'private' }, href: '#dataset', message: /&quot;a&quot; is not valid/ },
        { label: 'title makes no slug', parts: { title: '£', dataset: '', file, sheet: 'Budget', visibility: 'private' }, href: '#dataset', message: /Enter a dataset slug, because the title has too few letters or digits/ },
        { label: 'own slug', parts: { title: 'Kept title', dataset: 'spending-over-500', file, sheet: 'Budget', visibility: 'private' }, href: '#dataset', message: /Your organisation already has a dataset with the slug &quot;spending-over-500&quot;/ },
        { label: 'open slug of another organisation', parts: { title: 'Police open data', dataset: '', file, sheet: 'Budget', visibility: 'private' }, href: '#dataset', message: /The dataset slug made from the title, &quot;police-open-data&quot;, is already used by another organisation/ },
        {
          label: 'private slug of another organisation',
          parts: { title: 'Kept title', dataset: 'incident-log-restricted', file, sheet: '', visibility: 'private' },
          status: 409,
          href: '#dataset',
          message: /The dataset slug &quot;incident-log-restricted&quot; is already used by another organisation/,
        },
        { label: 'no file chosen', parts: { title: 'Kept title', dataset: 'kept-slug', sheet: 'Budget', visibility: 'private' }, href: '#file', message: /Select a CSV, XLSX or ODS file to upload/ },
        { label: 'no file part', parts: { title: 'Kept title', dataset: 'kept-slug', file: null, sheet: 'Budget', visibility: 'private' }, href: '#file', message: /Select a CSV, XLSX or ODS file to upload/ },
        { label: 'empty file', parts: { title: 'Kept title', dataset: 'kept-slug', file: { name: 'empty.csv', content: '' }, sheet: '', visibility: 'private' }, href: '#file', message: /empty\.csv is empty\. Check that you chose the right file/ },
        { label: 'unknown type', parts: { title: 'Kept title', dataset: 'kept-slug', file: fixture('ingest/report.pdf'), sheet: '', visibility: 'private' }, href: '#file', message: /report\.pdf has the extension \.pdf, which cannot be imported/ },
        { label: 'rejected line', parts: { title: 'Kept title', dataset: 'kept-slug', file: fixture('ingest/surplus-cell.csv'), sheet: '', visibility: 'private' }, href: '#file', message: /line 4 of surplus-cell\.csv has a value in column 3/ },
        {
          label: 'workbook without a sheet',
          parts: { title: 'Kept title', dataset: 'kept-slug', file: fixture('ingest/two-sheets.xlsx'), sheet: '', visibility: 'private' },
          href: '#sheet',
          message: /two-sheets\.xlsx has 2 sheets with data: &quot;[^&]+&quot;, &quot;[^&]+&quot;\. Enter the name of the sheet to load\./,
        },
        { label: 'no visibility', parts: { title: 'Kept title', dataset: 'kept-slug', file, sheet: 'Budget', visibility: 'secret' }, href: '#visibility', message: /Select who can see the data/ },
      ];
      for (const { label, parts, status, href, message } of cases) {
        await steward.get(NEW_PAGE);
        const response = await steward.addDataset(parts);
        assert.equal(response.status, status ?? 400, label);
        assert.match(response.body, /<title>Error: Add a dataset/, label);
        assert.match(response.body, /There is a problem/, label);
        assert.match(response.body, new RegExp(`href="${href}">`), label);
        assert.match(response.body, message, label);
        assert.equal(inputValue(response.body, 'title'), parts.title, `${label}: title kept`);
        assert.equal(inputValue(response.body, 'dataset'), parts.dataset, `${label}: slug kept`);
        assert.equal(inputValue(response.body, 'sheet'), parts.sheet, `${label}: sheet kept`);
        if (parts.visibility === 'private') assert.match(response.body, /value="private" checked/, `${label}: visibility kept`);
        assert.deepEqual(await councilRows(), before, `${label}: nothing stored`);
      }
    });

    test('all errors at once', async () => {
      await steward.get(NEW_PAGE);
      const response = await steward.addDataset({ title: '', dataset: 'Bad Slug', file: { name: '', content: '' }, sheet: '', visibility: 'open' });
      assert.equal(response.status, 400);
      const links = [...response.body.matchAll(/<a href="(#[a-z]+)">/g)].map((match) => match[1]);
      assert.deepEqual(links, ['#title', '#dataset', '#file']);
      assert.match(response.body, /value="open" checked/);
    });

    test('plan limit on private datasets', async () => {
      await services.db.owner.updateTable('organisations').set({ plan: 'community' }).where('id', '=', council.id).execute();
      try {
        for (let index = (await councilRows()).datasets.filter((row) => row.visibility === 'private').length; index < 5; index += 1) {
          await buildDataset(services.db, { organisation: council, slug: `private-filler-${index}`, visibility: 'private' });
        }
        const before = await councilRows();
        await steward.get(NEW_PAGE);
        const response = await steward.addDataset({ title: 'One too many', dataset: '', file: fixture('ingest/totals.csv'), sheet: '', visibility: 'private' });
        assert.equal(response.status, 409);
        assert.match(response.body, /href="#visibility">Your organisation has reached the limit of 5 private datasets on the /);
        assert.match(response.body, /value="One too many"/);
        assert.deepEqual(await councilRows(), before);
        assert.equal(await services.catalogue.findDataset(PLATFORM_SCOPE, 'one-too-many'), undefined);

        // A file with personal data stays private even when open is chosen, and the message gives the reason.
        await steward.get(NEW_PAGE);
        const flagged = await steward.addDataset({ title: 'Open but personal', dataset: '', file: fixture('privacy/personal-data.csv'), sheet: '', visibility: 'open' });
        assert.equal(flagged.status, 409);
        assert.match(flagged.body, /href="#visibility">The file has personal data or small counts, so the dataset would stay private although open was chosen/);
        assert.match(flagged.body, /limit of 5 private datasets on the /);
        assert.deepEqual(await councilRows(), before);
      } finally {
        await services.db.owner.updateTable('organisations').set({ plan: 'partner' }).where('id', '=', council.id).execute();
      }
    });

    test('pending organisation offers no Add a dataset', async () => {
      const pending = await buildOrganisation(services.db, { status: 'pending' });
      const applicant = await buildUser(services.db, { member: { organisationId: pending.id, role: 'administrator' } });
      const browser = await session(applicant.id, pending.id);
      const page = await browser.get(`/organisation/${pending.slug}`);
      assert.equal(page.status, 200);
      assert.doesNotMatch(page.body, /Add a dataset/);
      const form = await browser.get(`/organisation/${pending.slug}/datasets/new`);
      assert.equal(form.status, 403);
      assert.match(form.body, /Your organisation is not active, so it cannot use this. Its registration is waiting for review/);
    });

    test('guards reject everyone else', async () => {
      const before = await councilRows();
      const anonymous = await fetch(`${server.url}${NEW_PAGE}`);
      assert.equal(anonymous.status, 401);
      assert.equal((await analyst.get(NEW_PAGE)).status, 403);
      assert.equal((await police.get(NEW_PAGE)).status, 403);
      assert.equal((await police.get('/organisation/essex-police/datasets/new')).status, 200);
      assert.equal((await steward.get('/organisation/no-such-organisation/datasets/new')).status, 404);

      const parts = { title: 'Not allowed', dataset: '', file: fixture('ingest/totals.csv'), visibility: 'open' };
      const analystPost = await analyst.addDataset(parts);
      assert.equal(analystPost.status, 403);
      assert.match(analystPost.body, /Only a data steward or an administrator of your organisation can do this/);
      await police.get('/organisation/essex-police/datasets/new');
      const policePost = await police.addDataset(parts);
      assert.equal(policePost.status, 403);
      assert.match(policePost.body, /Only data stewards and administrators of Thurrock Council can add datasets to it/);
      await steward.get(NEW_PAGE);
      assert.equal((await steward.addDataset(parts, null)).status, 403, 'no CSRF token');
      assert.equal((await steward.addDataset(parts, 'A'.repeat(43))).status, 403, 'wrong CSRF token');
      assert.deepEqual(await councilRows(), before);
      assert.equal(await services.catalogue.findDataset(PLATFORM_SCOPE, 'not-allowed'), undefined);
    });

    test('read token cannot add', async () => {
      const { token } = await services.tokens.create(memberAuth(stewardId, council.id, 'data_steward'), { name: 'reader', scopes: ['read'] });
      const form = new FormData();
      form.append('title', 'By token');
      form.append('file', new File(['a,b\n1,2\n'], 'small.csv'));
      const response = await fetch(`${server.url}${NEW_PAGE}`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
      assert.equal(response.status, 403);
      assert.match(await response.text(), /does not have the &quot;write&quot; scope/);
    });
  });
}
