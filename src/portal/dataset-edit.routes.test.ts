import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildUser, signedInClient } from '../../test/helpers/accounts.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { testServices } from '../../test/helpers/services.ts';
import { WebClient } from '../../test/helpers/web-client.ts';
import { PLATFORM_SCOPE } from '../catalogue/catalogue.types.ts';
import { setPlatformScope } from '../db/tenant.ts';
import { buildApp } from '../http/app.ts';
import type { Services } from '../services.ts';
import { readDate } from './dataset-edit.routes.ts';
import { insertPortalCatalogue } from './portal.test-data.ts';

/** A complete, valid form for the spending dataset, which each test changes as it needs. */
const VALID_FORM = {
  title: 'Spending over £500',
  description: 'Payments to suppliers.\n\nUpdated each month.',
  licence: 'OGL-UK-3.0',
  tags: 'spending, transparency',
  updateFrequency: 'monthly',
  'temporalStart-day': '1',
  'temporalStart-month': '4',
  'temporalStart-year': '2025',
  'temporalEnd-day': '31',
  'temporalEnd-month': '3',
  'temporalEnd-year': '2026',
  spatial: 'Thurrock and Basildon',
};

describe('date input reading', () => {
  test('empty boxes give no date', () => {
    assert.deepEqual(readDate({ day: '', month: '', year: '' }, 'Start date', 'temporal_start'), { value: null });
  });

  test('partial and unreal dates are errors', () => {
    const cases: Array<[{ day: string; month: string; year: string }, string]> = [
      [{ day: '1', month: '', year: '2025' }, 'Start date must include a month'],
      [{ day: '', month: '', year: '2025' }, 'Start date must include a day and month'],
      [{ day: '30', month: '2', year: '2025' }, 'Start date must be a real date'],
      [{ day: '1', month: '4', year: '25' }, 'Start date must be a real date, with the year in 4 digits, like 1 4 2025'],
    ];
    for (const [parts, message] of cases) {
      assert.deepEqual(readDate(parts, 'Start date', 'temporal_start'), { error: { field: 'temporal_start', message } });
    }
  });

  test('real date becomes ISO', () => {
    assert.deepEqual(readDate({ day: '1', month: '4', year: '2025' }, 'Start date', 'temporal_start'), { value: '2025-04-01' });
  });
});

for (const engine of testEngines()) {
  describe(`edit dataset details page on ${engine.name}`, () => {
    let drop: () => Promise<void>;
    let services: Services;
    let app: FastifyInstance;
    let steward: WebClient;
    let analyst: WebClient;
    let police: WebClient;
    let stewardId: string;

    before(async () => {
      const created = await engine.create();
      drop = created.drop;
      await insertPortalCatalogue(created.db);
      services = testServices(created.db);
      app = await buildApp(services);
      const council = await services.catalogue.getOrganisation(PLATFORM_SCOPE, 'thurrock-council');
      const policeForce = await services.catalogue.getOrganisation(PLATFORM_SCOPE, 'essex-police');
      const stewardUser = await buildUser(created.db, { member: { organisationId: council.id, role: 'data_steward' } });
      const analystUser = await buildUser(created.db, { member: { organisationId: council.id, role: 'analyst' } });
      const policeUser = await buildUser(created.db, { member: { organisationId: policeForce.id, role: 'administrator' } });
      stewardId = stewardUser.id;
      steward = await signedInClient(app, services, stewardUser.id, council.id);
      analyst = await signedInClient(app, services, analystUser.id, council.id);
      police = await signedInClient(app, services, policeUser.id, policeForce.id);
    });

    after(async () => {
      await app.close();
      await drop();
    });

    test('dataset page links stewards only', async () => {
      const stewardPage = await steward.get('/dataset/spending-over-500');
      assert.match(stewardPage.body, /href="\/dataset\/spending-over-500\/edit">Edit dataset details/);
      for (const client of [analyst, police, new WebClient(app)]) {
        const page = await client.get('/dataset/spending-over-500');
        assert.equal(page.statusCode, 200);
        assert.doesNotMatch(page.body, /Edit dataset details/);
      }
    });

    test('form shows the current details', async () => {
      const page = await steward.get('/dataset/spending-over-500/edit');
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /<h1 class="govuk-heading-l">Edit dataset details<\/h1>/);
      assert.match(page.body, /name="title" type="text" spellcheck="true" value="Spending over £500"/);
      assert.match(page.body, /id="temporalStart-day" name="temporalStart-day" type="text" value="1"/);
      assert.match(page.body, /value="OGL-UK-3.0" checked/);
      assert.match(page.body, /name="_csrf" value="[^"]+"/);
    });

    test('errors keep the typed values', async () => {
      await steward.get('/dataset/spending-over-500/edit');
      const response = await steward.post('/dataset/spending-over-500/edit', {
        ...VALID_FORM,
        title: '  ',
        tags: 'spending, #bad',
        'temporalStart-day': '30',
        'temporalStart-month': '2',
        'temporalEnd-month': '',
        spatial: 'Grays & Tilbury',
      });
      assert.equal(response.statusCode, 400);
      assert.match(response.body, /<title>Error: Edit dataset details/);
      assert.match(response.body, /There is a problem/);
      assert.match(response.body, /href="#title">Enter a title<\/a>/);
      assert.match(response.body, /href="#temporalStart-day">Start date must be a real date<\/a>/);
      assert.match(response.body, /href="#temporalEnd-day">End date must include a month<\/a>/);
      // The catalogue's own checks run too, so every problem is listed at once, in the order of the page.
      assert.match(response.body, /href="#title">Enter a title<\/a>[\s\S]*href="#tags">Tag &quot;#bad&quot; is invalid[\s\S]*href="#temporalStart-day"/);
      assert.match(response.body, /id="temporalStart-day" name="temporalStart-day" type="text" value="30"/);
      assert.match(response.body, /value="Grays &amp; Tilbury"/);
      assert.match(response.body, /value="spending, #bad"/);
    });

    test('blank licence asks to select one', async () => {
      const response = await steward.post('/dataset/spending-over-500/edit', { ...VALID_FORM, licence: '' });
      assert.equal(response.statusCode, 400);
      assert.match(response.body, /href="#licence">Select a licence<\/a>/);
    });

    test('catalogue errors are shown by field', async () => {
      const response = await steward.post('/dataset/spending-over-500/edit', { ...VALID_FORM, tags: 'spending, #bad', 'temporalEnd-year': '2024' });
      assert.equal(response.statusCode, 400);
      assert.match(response.body, /href="#tags">Tag &quot;#bad&quot; is invalid/);
      assert.match(response.body, /href="#temporalEnd-day">The end of the period must be the same as or after its start<\/a>/);
      const unchanged = await services.catalogue.findDataset(PLATFORM_SCOPE, 'spending-over-500');
      assert.deepEqual(unchanged?.tags, ['spending', 'transparency']);
      assert.equal(unchanged?.temporalEnd, '2026-03-31');
    });

    test('valid form saves and audits', async () => {
      await steward.get('/dataset/spending-over-500/edit');
      const response = await steward.post('/dataset/spending-over-500/edit', VALID_FORM);
      assert.equal(response.statusCode, 303);
      assert.equal(response.headers.location, '/dataset/spending-over-500?saved=details');
      const dataset = await services.catalogue.findDataset(PLATFORM_SCOPE, 'spending-over-500');
      assert.equal(dataset?.description, 'Payments to suppliers.\n\nUpdated each month.');
      assert.equal(dataset?.updateFrequency, 'monthly');
      assert.equal(dataset?.temporalStart, '2025-04-01');
      assert.equal(dataset?.temporalEnd, '2026-03-31');
      assert.equal(dataset?.spatial, 'Thurrock and Basildon');

      const page = await steward.get('/dataset/spending-over-500?saved=details');
      assert.match(page.body, /Dataset details saved\./);
      assert.match(page.body, /Monthly/);
      assert.match(page.body, /1 April 2025 to 31 March 2026/);

      const audit = await services.db.app.transaction().execute(async (trx) => {
        await setPlatformScope(trx);
        return trx.selectFrom('audit_log').select(['actor_user_id', 'actor_kind', 'details']).where('action', '=', 'dataset.metadata_updated').execute();
      });
      assert.equal(audit.length, 1);
      assert.equal(audit[0]!.actor_user_id, stewardId);
      assert.equal(audit[0]!.actor_kind, 'user');
    });

    test('clearing optional details stores nulls', async () => {
      await steward.get('/dataset/spending-over-500/edit');
      const response = await steward.post('/dataset/spending-over-500/edit', {
        ...VALID_FORM,
        updateFrequency: '',
        'temporalStart-day': '',
        'temporalStart-month': '',
        'temporalStart-year': '',
        'temporalEnd-day': '',
        'temporalEnd-month': '',
        'temporalEnd-year': '',
        spatial: '',
      });
      assert.equal(response.statusCode, 303);
      const dataset = await services.catalogue.findDataset(PLATFORM_SCOPE, 'spending-over-500');
      assert.equal(dataset?.updateFrequency, null);
      assert.equal(dataset?.temporalStart, null);
      assert.equal(dataset?.temporalEnd, null);
      assert.equal(dataset?.spatial, null);
    });

    test('retention period saves and clears', async () => {
      await steward.get('/dataset/spending-over-500/edit');
      const saved = await steward.post('/dataset/spending-over-500/edit', { ...VALID_FORM, retentionMonths: ' 24 ' });
      assert.equal(saved.statusCode, 303);
      assert.equal((await services.catalogue.findDataset(PLATFORM_SCOPE, 'spending-over-500'))?.retentionMonths, 24);
      const page = await steward.get('/dataset/spending-over-500/edit');
      assert.match(page.body, /name="retentionMonths"[^>]*value="24"|value="24"[^>]*name="retentionMonths"/);

      const cleared = await steward.post('/dataset/spending-over-500/edit', { ...VALID_FORM, retentionMonths: '' });
      assert.equal(cleared.statusCode, 303);
      assert.equal((await services.catalogue.findDataset(PLATFORM_SCOPE, 'spending-over-500'))?.retentionMonths, null);
    });

    test('bad retention period is shown', async () => {
      await steward.get('/dataset/spending-over-500/edit');
      await steward.post('/dataset/spending-over-500/edit', { ...VALID_FORM, retentionMonths: '36' });
      for (const typed of ['0', '1201', '2.5', 'ten', '-3']) {
        const response = await steward.post('/dataset/spending-over-500/edit', { ...VALID_FORM, retentionMonths: typed });
        assert.equal(response.statusCode, 400, typed);
        assert.match(response.body, /href="#retentionMonths">Enter the retention period as a whole number of months from 1 to 1200/, typed);
        assert.match(response.body, new RegExp(`value="${typed.replace('.', '\\.')}"`), typed);
      }
      assert.equal((await services.catalogue.findDataset(PLATFORM_SCOPE, 'spending-over-500'))?.retentionMonths, 36);
    });

    test('guards reject everyone else', async () => {
      const anonymous = await new WebClient(app).get('/dataset/spending-over-500/edit');
      assert.equal(anonymous.statusCode, 401);
      const analystPage = await analyst.get('/dataset/spending-over-500/edit');
      assert.equal(analystPage.statusCode, 403);
      const otherOrganisation = await police.get('/dataset/spending-over-500/edit');
      assert.equal(otherOrganisation.statusCode, 403);
      const hidden = await police.get('/dataset/spending-secret/edit');
      assert.equal(hidden.statusCode, 404);
      const forged = await police.post('/dataset/spending-over-500/edit', { ...VALID_FORM, title: 'Taken over' });
      assert.equal(forged.statusCode, 403);
      const withoutCsrf = await steward.post('/dataset/spending-over-500/edit', { ...VALID_FORM, title: 'No token', _csrf: null });
      assert.equal(withoutCsrf.statusCode, 403);
      const dataset = await services.catalogue.findDataset(PLATFORM_SCOPE, 'spending-over-500');
      assert.equal(dataset?.title, 'Spending over £500');
    });
  });
}
