import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildUser, memberAuth, signedInClient, tokenAfterRoleChange } from '../../test/helpers/accounts.ts';
import { buildCatalogue, type Catalogue } from '../../test/helpers/catalogue-builders.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { testServices } from '../../test/helpers/services.ts';
import { setPlatformScope } from '../db/tenant.ts';
import { buildApp } from '../http/app.ts';
import type { Services } from '../services.ts';

for (const engine of testEngines()) {
  describe(`PATCH /api/v1/datasets/{slug} on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let services: Services;
    let app: FastifyInstance;
    let catalogue: Catalogue;
    const tokens: Record<'steward' | 'stewardRead' | 'analyst' | 'charity', string> = { steward: '', stewardRead: '', analyst: '', charity: '' };
    let stewardId: string;

    before(async () => {
      handle = await engine.create();
      catalogue = await buildCatalogue(handle.db);
      services = testServices(handle.db, { publicUrl: 'https://data.example.test' });
      app = await buildApp(services);
      const councilId = catalogue.spending.organisationId;
      const steward = await buildUser(handle.db, { member: { organisationId: councilId, role: 'data_steward' } });
      const charityAdmin = await buildUser(handle.db, { member: { organisationId: catalogue.foodbanks.organisationId, role: 'administrator' } });
      stewardId = steward.id;
      tokens.steward = (await services.tokens.create(memberAuth(steward.id, councilId, 'data_steward'), { name: 'editor', scopes: ['write'] })).token;
      tokens.stewardRead = (await services.tokens.create(memberAuth(steward.id, councilId, 'data_steward'), { name: 'reader', scopes: ['read'] })).token;
      tokens.analyst = await tokenAfterRoleChange(handle.db, services, councilId, 'analyst');
      tokens.charity = (await services.tokens.create(memberAuth(charityAdmin.id, catalogue.foodbanks.organisationId, 'administrator'), { name: 'charity', scopes: ['write'] })).token;
    });
    after(async () => {
      await app.close();
      await handle.drop();
    });

    const patch = async (slug: string, body: unknown, token?: string) => {
      const response = await app.inject({
        method: 'PATCH',
        url: `/api/v1/datasets/${slug}`,
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        payload: JSON.stringify(body),
      });
      return { status: response.statusCode, body: response.json() as any };
    };

    test('steward changes every field', async () => {
      const { status, body } = await patch(
        'safeguarding-referrals',
        {
          title: 'Safeguarding referrals by ward',
          description: 'Referrals received by the council.\n\nCounts under 5 are suppressed.',
          licence: 'other-closed',
          tags: ['safeguarding', ' children '],
          update_frequency: 'quarterly',
          temporal_coverage: { start: '2025-04-01', end: '2026-03-31' },
          spatial_coverage: 'Thurrock',
        },
        tokens.steward,
      );
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body.title, 'Safeguarding referrals by ward');
      assert.equal(body.licence.id, 'other-closed');
      assert.deepEqual(body.tags, ['safeguarding', 'children']);
      assert.equal(body.update_frequency, 'quarterly');
      assert.deepEqual(body.temporal_coverage, { start: '2025-04-01', end: '2026-03-31' });
      assert.equal(body.spatial_coverage, 'Thurrock');
      assert.equal(body.visibility, 'private', 'visibility is not changed');
    });

    test('fields left out keep their values', async () => {
      const { status, body } = await patch('safeguarding-referrals', { update_frequency: null, temporal_coverage: { end: null } }, tokens.steward);
      assert.equal(status, 200);
      assert.equal(body.update_frequency, null);
      assert.deepEqual(body.temporal_coverage, { start: '2025-04-01', end: null });
      assert.equal(body.title, 'Safeguarding referrals by ward');
      assert.equal(body.spatial_coverage, 'Thurrock');
    });

    test('change is audited', async () => {
      const rows = await handle.db.app.transaction().execute(async (trx) => {
        await setPlatformScope(trx);
        return trx.selectFrom('audit_log').select(['actor_user_id', 'actor_kind', 'subject_id', 'details']).where('action', '=', 'dataset.metadata_updated').orderBy('id').execute();
      });
      assert.equal(rows.length, 2);
      assert.equal(rows[0]!.actor_user_id, stewardId);
      assert.equal(rows[0]!.actor_kind, 'token');
      assert.equal(rows[0]!.subject_id, catalogue.secret.id);
      assert.deepEqual((rows[1]!.details as { changed: unknown }).changed, { update_frequency: null, temporal_end: null });
    });

    test('errors name each field and value', async () => {
      const { status, body } = await patch(
        'spending-over-500',
        { licence: 'GPL-3.0', update_frequency: 'fortnightly', temporal_coverage: { start: '2026-02-30', end: '2025-01-01' }, tags: ['ok', '#bad'] },
        tokens.steward,
      );
      assert.equal(status, 400);
      assert.equal(body.error.code, 'invalid_dataset_metadata');
      const byField = Object.fromEntries(body.error.fields.map((field: { field: string; message: string }) => [field.field, field.message]));
      assert.match(byField.licence, /"GPL-3\.0" is not known\. Use one of: OGL-UK-3\.0, .*other-closed/);
      assert.match(byField.update_frequency, /"fortnightly" is not known\. Use one of: daily, weekly/);
      assert.match(byField['temporal_coverage.start'], /"2026-02-30" is not a date/);
      assert.match(byField.tags, /Tag "#bad" is invalid/);
      assert.match(body.error.message, /temporal_coverage\.start/);
      const unchanged = await patch('spending-over-500', { title: '' }, tokens.steward);
      assert.equal(unchanged.status, 400);
      assert.equal(unchanged.body.error.fields[0].field, 'title');
    });

    test('end before start is rejected', async () => {
      const { status, body } = await patch('spending-over-500', { temporal_coverage: { start: '2026-02-01', end: '2026-01-01' } }, tokens.steward);
      assert.equal(status, 400);
      assert.deepEqual(body.error.fields.map((field: { field: string }) => field.field), ['temporal_coverage.end']);
    });

    test('one end before the stored start is rejected', async () => {
      const set = await patch('spending-over-500', { temporal_coverage: { start: '2026-02-01', end: '2026-03-01' } }, tokens.steward);
      assert.equal(set.status, 200);
      const { status, body } = await patch('spending-over-500', { temporal_coverage: { end: '2026-01-01' } }, tokens.steward);
      assert.equal(status, 400);
      assert.deepEqual(body.error.fields.map((field: { field: string }) => field.field), ['temporal_coverage.end']);
      assert.match(body.error.message, /end on 2026-01-01, before it starts on 2026-02-01/);
      const stored = await handle.db.owner.selectFrom('datasets').select(['temporal_start', 'temporal_end']).where('slug', '=', 'spending-over-500').executeTakeFirstOrThrow();
      assert.equal(String(stored.temporal_end), '2026-03-01');
    });

    test('unknown and mistyped fields are rejected', async () => {
      const unknown = await patch('spending-over-500', { visibility: 'open' }, tokens.steward);
      assert.equal(unknown.status, 400);
      assert.equal(unknown.body.error.fields[0].field, 'visibility');
      const mistyped = await patch('spending-over-500', { temporal_coverage: '2025' }, tokens.steward);
      assert.equal(mistyped.status, 400);
      assert.equal(mistyped.body.error.fields[0].field, 'temporal_coverage');
      const empty = await patch('spending-over-500', {}, tokens.steward);
      assert.equal(empty.status, 400);
      assert.match(empty.body.error.message, /The body is empty: send at least 1 field/);
    });

    test('guards reject other callers', async () => {
      const anonymous = await patch('spending-over-500', { title: 'Anonymous' });
      assert.equal(anonymous.status, 401);
      const readScope = await patch('spending-over-500', { title: 'Read scope' }, tokens.stewardRead);
      assert.equal(readScope.status, 403);
      assert.equal(readScope.body.error.code, 'token_scope');
      const analyst = await patch('spending-over-500', { title: 'Analyst' }, tokens.analyst);
      assert.equal(analyst.status, 403);
      assert.equal(analyst.body.error.code, 'role_required');
      const otherOrganisation = await patch('spending-over-500', { title: 'Taken over' }, tokens.charity);
      assert.equal(otherOrganisation.status, 403);
      assert.equal(otherOrganisation.body.error.code, 'dataset_of_another_organisation');
      const hidden = await patch('safeguarding-referrals', { title: 'Taken over' }, tokens.charity);
      assert.equal(hidden.status, 404);
      const missing = await patch('no-such-dataset', { title: 'Missing' }, tokens.steward);
      assert.equal(missing.status, 404);
      const shown = await app.inject({ method: 'GET', url: '/api/v1/datasets/spending-over-500' });
      assert.equal(shown.json().title, 'Spending over £500');
    });

    test('session needs the CSRF token', async () => {
      const client = await signedInClient(app, services, stewardId, catalogue.spending.organisationId);
      const cookie = [...client.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
      const request = (headers: Record<string, string>) =>
        app.inject({ method: 'PATCH', url: '/api/v1/datasets/spending-over-500', headers: { cookie, 'content-type': 'application/json', ...headers }, payload: JSON.stringify({ spatial_coverage: 'Thurrock' }) });
      const withoutToken = await request({});
      assert.equal(withoutToken.statusCode, 403);
      assert.equal(withoutToken.json().error.code, 'csrf_failed');
      assert.match(withoutToken.json().error.message, /X-CSRF-Token header/);
      assert.doesNotMatch(withoutToken.json().error.message, /form/i);
      await client.get('/account/tokens');
      assert.ok(client.csrfToken, 'a page gave the CSRF token');
      const withToken = await request({ 'x-csrf-token': client.csrfToken! });
      assert.equal(withToken.statusCode, 200, withToken.body);
      assert.equal(withToken.json().spatial_coverage, 'Thurrock');
    });

    test('operation is in the OpenAPI document', async () => {
      const document = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
      const operation = document.paths['/api/v1/datasets/{slug}'].patch;
      assert.ok(operation, 'PATCH is documented');
      assert.ok(operation.requestBody.content['application/json'].schema.properties.temporal_coverage);
      assert.ok(operation.responses['400']);
    });
  });
}
