import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildOrganisation, buildUser, signedInClient, type BuiltOrganisation } from '../../test/helpers/accounts.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { testServices } from '../../test/helpers/services.ts';
import { buildApp } from '../http/app.ts';
import { setPlatformScope } from '../db/tenant.ts';
import type { Services } from '../services.ts';

for (const engine of testEngines()) {
  describe(`choosing an organisation on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let services: Services;
    let app: FastifyInstance;
    let foodBank: BuiltOrganisation;
    let youthClub: BuiltOrganisation;
    let stranger: BuiltOrganisation;
    let volunteerId: string;

    before(async () => {
      handle = await engine.create();
      services = testServices(handle.db);
      app = await buildApp(services);
      await app.ready();
      foodBank = await buildOrganisation(handle.db, { slug: 'food-bank' });
      youthClub = await buildOrganisation(handle.db, { slug: 'youth-club', status: 'pending' });
      stranger = await buildOrganisation(handle.db, { slug: 'stranger' });
      volunteerId = (await buildUser(handle.db, { member: { organisationId: foodBank.id, role: 'viewer' } })).id;
      await handle.db.app.transaction().execute(async (trx) => {
        await setPlatformScope(trx);
        await trx.insertInto('memberships').values({ organisation_id: youthClub.id, user_id: volunteerId, role: 'analyst' }).execute();
      });
    });
    after(async () => {
      await app.close();
      await handle.drop();
    });

    test('account page lists every membership', async () => {
      const client = await signedInClient(app, services, volunteerId, foodBank.id);
      const page = await client.get('/account');
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /Your organisations/);
      assert.match(page.body, /Organisation food-bank<\/td>\s*<td class="govuk-table__cell">Viewer/);
      assert.match(page.body, /You act for this organisation now/);
      assert.match(page.body, /Organisation youth-club \(waiting for review\)<\/td>\s*<td class="govuk-table__cell">Analyst/);
      assert.match(page.body, new RegExp(`name="organisation" value="${youthClub.id}"`));
      assert.doesNotMatch(page.body, /Organisation stranger/);
    });

    test('member switches organisation and back', async () => {
      const client = await signedInClient(app, services, volunteerId, foodBank.id);
      await client.get('/account');
      const switched = await client.post('/account/organisation', { organisation: youthClub.id });
      assert.equal(switched.statusCode, 303);
      assert.equal(switched.headers.location, '/organisation');
      const pending = await client.get('/organisation');
      assert.match(pending.body, /Organisation youth-club/);

      await client.get('/account');
      const back = await client.post('/account/organisation', { organisation: foodBank.id });
      assert.equal(back.statusCode, 303);
      const active = await client.get('/organisation');
      assert.match(active.body, /Organisation food-bank/);
    });

    test('other organisation is rejected', async () => {
      const client = await signedInClient(app, services, volunteerId, foodBank.id);
      await client.get('/account');
      for (const organisation of [stranger.id, 'not-a-uuid', '']) {
        const response = await client.post('/account/organisation', { organisation });
        assert.equal(response.statusCode, 400, organisation);
        assert.match(response.body, /href="#organisation">Choose one of your organisations from the list/);
      }
      const still = await client.get('/organisation');
      assert.match(still.body, /Organisation food-bank/);
    });

    test('switch without CSRF token is rejected', async () => {
      const client = await signedInClient(app, services, volunteerId, foodBank.id);
      const response = await client.post('/account/organisation', { organisation: youthClub.id, _csrf: null });
      assert.equal(response.statusCode, 403);
      const still = await client.get('/organisation');
      assert.match(still.body, /Organisation food-bank/);
    });
  });
}
