import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { memberAuth } from '../../test/helpers/accounts.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { startTestServer } from '../../test/helpers/services.ts';
import { activeAgreement, AGREEMENT_REFERENCE, buildScenario, DATASET_SLUG, type Scenario } from '../../test/fixtures/social-care/scenario.ts';
import type { RunningServer } from '../main.ts';
import type { Services } from '../services.ts';
import type { ApplicationId, PlanId } from '../tenancy/tenancy.tables.ts';
import { exchangeTestServices, TestClock } from './exchange.test-support.ts';

const IN_FORCE = '2026-12-04T12:00:00Z';

interface ErrorBody {
  error: { code: string; message: string };
}

for (const engine of testEngines()) {
  describe(`exchange application guard on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let services: Services;
    let server: RunningServer;
    let scenario: Scenario;
    let trustDpoToken: string;
    const clock = new TestClock(IN_FORCE);
    const recordsPath = `/api/v1/exchange/agreements/${AGREEMENT_REFERENCE}/datasets/${DATASET_SLUG}/records`;

    before(async () => {
      handle = await engine.create();
      ({ services } = exchangeTestServices(handle.db, clock));
      scenario = await buildScenario(services);
      await activeAgreement(services, scenario);
      server = await startTestServer(services);
      trustDpoToken = (await services.tokens.create(memberAuth(scenario.trust.dpo.userId, scenario.trust.id, 'data_protection_officer'), { name: 'Agreements client', scopes: ['write'] })).token;
    });
    after(async () => {
      await server.close();
      await handle.drop();
    });

    async function setTrust(plan: PlanId, applications: ApplicationId[]): Promise<void> {
      await handle.db.owner.updateTable('organisations').set({ plan, applications }).where('id', '=', scenario.trust.id).execute();
    }

    async function get(path: string, token: string): Promise<{ status: number; body: unknown }> {
      const response = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}`, 'civic-purpose': 'direct_care' } });
      return { status: response.status, body: await response.json() };
    }

    test('enabled exchange releases records', async () => {
      await setTrust('partner', ['data_workspace', 'exchange']);
      const response = await get(`${recordsPath}?limit=2`, scenario.trust.token);
      assert.equal(response.status, 200);
    });

    test('disabled exchange refuses records', async () => {
      await setTrust('partner', ['data_workspace']);
      const response = await get(`${recordsPath}?limit=2`, scenario.trust.token);
      assert.equal(response.status, 403);
      const { error } = response.body as ErrorBody;
      assert.equal(error.code, 'application_not_enabled');
      assert.match(error.message, /has not enabled Secure data exchange/);
      assert.match(error.message, /organisation settings \(\/organisation\/settings\)/);
      const disclosures = await handle.db.owner.selectFrom('disclosures').select('id').where('recipient_organisation_id', '=', scenario.trust.id).execute();
      assert.equal(disclosures.length, 1, 'only the release made while the application was enabled');
    });

    test('plan without exchange names the plan', async () => {
      await setTrust('community', ['data_workspace']);
      const response = await get(`${recordsPath}?limit=2`, scenario.trust.token);
      assert.equal(response.status, 403);
      const { error } = response.body as ErrorBody;
      assert.equal(error.code, 'application_not_enabled');
      assert.match(error.message, /Secure data exchange is not part of the Free community plan/);
      assert.match(error.message, /Ask a platform administrator to move it to the Partner plan/);
    });

    test('disabled exchange refuses agreements API', async () => {
      await setTrust('partner', ['data_workspace']);
      const refused = await get(`/api/v1/agreements/${AGREEMENT_REFERENCE}`, trustDpoToken);
      assert.equal(refused.status, 403);
      assert.equal((refused.body as ErrorBody).error.code, 'application_not_enabled');
      await setTrust('partner', ['data_workspace', 'exchange']);
      const allowed = await get(`/api/v1/agreements/${AGREEMENT_REFERENCE}`, trustDpoToken);
      assert.equal(allowed.status, 200);
    });

    test('missing token still gets 401', async () => {
      await setTrust('partner', ['data_workspace']);
      const response = await fetch(`${server.url}${recordsPath}`);
      assert.equal(response.status, 401);
      await setTrust('partner', ['data_workspace', 'exchange']);
    });
  });
}
