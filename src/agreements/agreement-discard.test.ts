import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { activeAgreement, AGREEMENT_REFERENCE, buildScenario, DATASET_SLUG, directCareTerms, type Member, type Scenario } from '../../test/fixtures/social-care/scenario.ts';
import { buildUser, memberAuth } from '../../test/helpers/accounts.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { startTestServer } from '../../test/helpers/services.ts';
import type { OrganisationRole } from '../accounts/accounts.tables.ts';
import { exchangeTestServices, TestClock } from '../exchange/exchange.test-support.ts';
import type { RunningServer } from '../main.ts';
import type { Services } from '../services.ts';

interface ApiResponse {
  status: number;
  body: any;
}

const FIRST_DRAFT = 'THR-ISA-2026-050';
const AWAITING = 'THR-ISA-2026-051';
const TERMINATED = 'THR-ISA-2026-052';

/** Builds draft terms as a client sends them, with the provider party's organisation id left out. */
function clientTerms(scenario: Scenario, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const terms = directCareTerms(scenario, overrides);
  const parties = (terms.parties as Array<Record<string, unknown>>).map((party) => (party.sharing_role === 'provider' ? { ...party, organisation_id: undefined } : party));
  return { ...terms, parties };
}

for (const engine of testEngines()) {
  describe(`discarding drafts through the API on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let services: Services;
    let server: RunningServer;
    let scenario: Scenario;
    const tokens = new Map<string, string>();
    const clock = new TestClock('2026-12-04T12:00:00Z');

    const tokenFor = async (who: Member, scopes: Array<'read' | 'write' | 'exchange'> = ['write']) => {
      const created = await services.tokens.create(memberAuth(who.userId, who.actor.organisationId, who.actor.roles[0] as OrganisationRole), { name: `discard test ${tokens.size}`, scopes });
      return created.token;
    };

    /** Sends a request as the named token holder, or with no token when `who` is null. A body of `undefined` sends none. */
    const call = async (method: string, path: string, who: string | null, body?: unknown): Promise<ApiResponse> => {
      const headers: Record<string, string> = {};
      if (who !== null) headers.authorization = `Bearer ${tokens.get(who)}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${server.url}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      return { status: response.status, body: await response.json() };
    };
    const discard = (reference: string, who: string | null, body?: unknown) => call('POST', `/api/v1/agreements/${reference}/discard`, who, body);

    const records = () =>
      fetch(`${server.url}/api/v1/exchange/agreements/${AGREEMENT_REFERENCE}/datasets/${DATASET_SLUG}/records`, {
        headers: { authorization: `Bearer ${scenario.trust.token}`, 'civic-purpose': 'direct_care' },
      });

    const agreementRow = (reference: string) => handle.db.owner.selectFrom('agreements').select(['id', 'status', 'version_in_force_id']).where('reference', '=', reference).executeTakeFirstOrThrow();

    before(async () => {
      handle = await engine.create();
      clock.stepMs = 1000;
      ({ services } = exchangeTestServices(handle.db, clock));
      scenario = await buildScenario(services);
      await activeAgreement(services, scenario);
      server = await startTestServer(services);
      const policeDpoUser = await buildUser(handle.db, { member: { organisationId: scenario.police.id, role: 'data_protection_officer' } });
      const policeDpo: Member = { userId: policeDpoUser.id, actor: { userId: policeDpoUser.id, organisationId: scenario.police.id, roles: ['data_protection_officer'], kind: 'user' } };
      tokens.set('councilDpo', await tokenFor(scenario.council.dpo));
      tokens.set('steward', await tokenFor(scenario.council.steward));
      tokens.set('stewardReadOnly', await tokenFor(scenario.council.steward, ['read']));
      tokens.set('trustDpo', await tokenFor(scenario.trust.dpo));
      tokens.set('trustAnalyst', await tokenFor(scenario.trust.analyst, ['read']));
      tokens.set('policeDpo', await tokenFor(policeDpo));
    });
    after(async () => {
      await server.close();
      await handle.drop();
    });

    test('amendment discarded, in force kept', async () => {
      assert.equal((await records()).status, 200, 'version 1 releases before the amendment');
      const amended = await call('POST', `/api/v1/agreements/${AGREEMENT_REFERENCE}/amend`, 'steward', { terms: clientTerms(scenario, { retention_months: 36 }) });
      assert.equal(amended.status, 201, JSON.stringify(amended.body));
      assert.ok(amended.body.allowed_actions.includes('discard'));

      const discarded = await discard(AGREEMENT_REFERENCE, 'steward', { reason: 'Retention change no longer needed' });
      assert.equal(discarded.status, 200, JSON.stringify(discarded.body));
      assert.equal(discarded.body.status, 'active');
      assert.equal(discarded.body.version_in_force, 1);
      assert.equal(discarded.body.latest_version.version, 1);
      assert.deepEqual(discarded.body.versions.map((version: { status: string }) => version.status), ['approved', 'discarded']);
      assert.deepEqual(discarded.body.allowed_actions, ['amend', 'suspend', 'terminate']);

      const agreement = await agreementRow(AGREEMENT_REFERENCE);
      const versionOne = await handle.db.owner.selectFrom('agreement_versions').select('id').where('agreement_id', '=', agreement.id).where('version', '=', 1).executeTakeFirstOrThrow();
      assert.equal(agreement.status, 'active');
      assert.equal(agreement.version_in_force_id, versionOne.id);
      assert.equal((await records()).status, 200, 'version 1 still releases after the amendment is discarded');

      const transition = await handle.db.owner
        .selectFrom('agreement_transitions')
        .select(['from_status', 'to_status', 'actor_user_id', 'reason'])
        .where('agreement_id', '=', agreement.id)
        .orderBy('occurred_at', 'desc')
        .orderBy('id', 'desc')
        .executeTakeFirstOrThrow();
      assert.deepEqual(transition, { from_status: 'active', to_status: 'active', actor_user_id: scenario.council.steward.userId, reason: 'Draft version 2 discarded: Retention change no longer needed' });
      const audits = await handle.db.owner.selectFrom('audit_log').select('action').where('subject_id', '=', agreement.id).where('action', '=', 'agreement.draft_discarded').execute();
      assert.equal(audits.length, 1);

      // A new amendment starts from the version in force, not from the discarded draft, and takes the next number.
      const again = await call('POST', `/api/v1/agreements/${AGREEMENT_REFERENCE}/amend`, 'steward', {});
      assert.equal(again.status, 201, JSON.stringify(again.body));
      assert.equal(again.body.latest_version.version, 3);
      assert.equal(again.body.versions.at(-1).terms.retention_months, 24, 'the terms of version 1');
      assert.equal((await discard(AGREEMENT_REFERENCE, 'steward')).status, 200, 'no body discards without a reason');
      const last = await handle.db.owner.selectFrom('agreement_transitions').select('reason').where('agreement_id', '=', agreement.id).orderBy('occurred_at', 'desc').orderBy('id', 'desc').executeTakeFirstOrThrow();
      assert.equal(last.reason, 'Draft version 3 discarded');
      assert.equal((await records()).status, 200);
    });

    test('first draft discarded, not listed', async () => {
      const created = await call('POST', '/api/v1/agreements', 'steward', { reference: FIRST_DRAFT, terms: clientTerms(scenario, { title: 'Care packages for reablement' }) });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const listedBefore = await call('GET', '/api/v1/agreements', 'trustDpo');
      assert.ok(listedBefore.body.agreements.some((row: { reference: string }) => row.reference === FIRST_DRAFT));

      const discarded = await discard(FIRST_DRAFT, 'councilDpo', {});
      assert.equal(discarded.status, 200, JSON.stringify(discarded.body));
      assert.equal(discarded.body.status, 'discarded');
      assert.deepEqual(discarded.body.allowed_actions, []);
      const agreement = await agreementRow(FIRST_DRAFT);
      assert.equal(agreement.status, 'discarded');
      const version = await handle.db.owner.selectFrom('agreement_versions').select('status').where('agreement_id', '=', agreement.id).executeTakeFirstOrThrow();
      assert.equal(version.status, 'discarded');

      for (const who of ['steward', 'trustDpo']) {
        const listed = await call('GET', '/api/v1/agreements', who);
        assert.equal(listed.status, 200);
        assert.ok(!listed.body.agreements.some((row: { reference: string }) => row.reference === FIRST_DRAFT), `not listed for ${who}`);
      }
      const register = await fetch(`${server.url}/agreements`);
      assert.doesNotMatch(await register.text(), new RegExp(FIRST_DRAFT));

      // Every transition and audit entry stays, with one of each for the discard.
      const transitions = await handle.db.owner.selectFrom('agreement_transitions').select(['from_status', 'to_status', 'reason']).where('agreement_id', '=', agreement.id).orderBy('occurred_at').orderBy('id').execute();
      assert.deepEqual(transitions, [
        { from_status: null, to_status: 'draft', reason: 'Agreement drafted' },
        { from_status: 'draft', to_status: 'discarded', reason: 'Draft version 1 discarded' },
      ]);
      const audits = await handle.db.owner.selectFrom('audit_log').select('action').where('subject_id', '=', agreement.id).orderBy('id').execute();
      assert.deepEqual(audits.map((row) => row.action), ['agreement.transition', 'agreement.transition', 'agreement.draft_discarded']);

      const twice = await discard(FIRST_DRAFT, 'steward', {});
      assert.equal(twice.status, 409);
      assert.equal(twice.body.error.code, 'agreement_discarded');
      const update = await call('PUT', `/api/v1/agreements/${FIRST_DRAFT}/draft`, 'steward', { terms: clientTerms(scenario) });
      assert.equal(update.status, 409);
      assert.equal(update.body.error.code, 'agreement_discarded');
      const amend = await call('POST', `/api/v1/agreements/${FIRST_DRAFT}/amend`, 'steward', {});
      assert.equal(amend.status, 409);
      assert.equal(amend.body.error.code, 'agreement_discarded');
      const reused = await call('POST', '/api/v1/agreements', 'steward', { reference: FIRST_DRAFT, terms: clientTerms(scenario) });
      assert.equal(reused.status, 409);
      assert.match(reused.body.error.message, /was used by a draft that has been discarded\. Choose another reference\./);
    });

    test('awaiting approval cannot be discarded', async () => {
      await services.exchange.agreements.createDraft(scenario.council.dpo.actor, AWAITING, directCareTerms(scenario));
      await services.exchange.workflow.submit(scenario.council.dpo.actor, AWAITING);
      const refused = await discard(AWAITING, 'steward', {});
      assert.equal(refused.status, 409);
      assert.equal(refused.body.error.code, 'agreement_not_draft');
      assert.match(refused.body.error.message, /^Version 1 of THR-ISA-2026-051 is awaiting approval, so it cannot be discarded\. Withdraw it to draft first, then discard it\./);
      assert.equal((await agreementRow(AWAITING)).status, 'awaiting_approval');

      const withdrawn = await call('POST', `/api/v1/agreements/${AWAITING}/withdraw`, 'steward', {});
      assert.equal(withdrawn.status, 200);
      assert.equal((await discard(AWAITING, 'steward', {})).status, 200, 'a withdrawn version can be discarded');
    });

    test('version in force cannot be discarded', async () => {
      const refused = await discard(AGREEMENT_REFERENCE, 'steward', {});
      assert.equal(refused.status, 409);
      assert.equal(refused.body.error.code, 'agreement_not_draft');
      assert.match(refused.body.error.message, /is the version in force, so it cannot be discarded\. To stop releases, suspend or terminate the agreement\. To change its terms, start an amendment\./);
      assert.equal((await records()).status, 200);
    });

    test('terminated draft cannot be discarded', async () => {
      await services.exchange.agreements.createDraft(scenario.council.dpo.actor, TERMINATED, directCareTerms(scenario));
      await services.exchange.workflow.terminate(scenario.council.dpo.actor, TERMINATED, 'No longer needed');
      const refused = await discard(TERMINATED, 'steward', {});
      assert.equal(refused.status, 409);
      assert.equal(refused.body.error.code, 'agreement_terminated');
      assert.equal((await agreementRow(TERMINATED)).status, 'terminated');
    });

    test('guards on callers and body', async () => {
      await call('POST', `/api/v1/agreements/${AGREEMENT_REFERENCE}/amend`, 'steward', {});
      const cases: Array<[string, string | null, unknown, number, string]> = [
        ['no token', null, {}, 401, ''],
        ['read scope', 'stewardReadOnly', {}, 403, ''],
        ['analyst', 'trustAnalyst', {}, 403, ''],
        ['recipient party', 'trustDpo', {}, 403, 'agreement_not_provider'],
        ['non-party', 'policeDpo', {}, 404, 'agreement_not_found'],
        ['reason not text', 'steward', { reason: ['a', 'list'] }, 400, 'invalid_request'],
        ['reason too long', 'steward', { reason: 'x'.repeat(2001) }, 400, 'invalid_request'],
      ];
      for (const [label, who, body, status, code] of cases) {
        const response = await discard(AGREEMENT_REFERENCE, who, body);
        assert.equal(response.status, status, `${label}: ${JSON.stringify(response.body)}`);
        assert.equal(typeof response.body.error.message, 'string', label);
        if (code !== '') assert.equal(response.body.error.code, code, label);
      }
      const unknown = await discard('THR-ISA-0000-404', 'steward', {});
      assert.equal(unknown.status, 404);
      const versions = await handle.db.owner.selectFrom('agreement_versions as v').innerJoin('agreements as a', 'a.id', 'v.agreement_id').select('v.status').where('a.reference', '=', AGREEMENT_REFERENCE).orderBy('v.version').execute();
      assert.equal(versions.at(-1)!.status, 'draft', 'a rejected request leaves the draft as it was');
    });

    test('OpenAPI lists the discard route', async () => {
      const document = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, { tags?: string[]; responses?: Record<string, unknown> }>> };
      const operation = document.paths['/api/v1/agreements/{reference}/discard']?.post;
      assert.ok(operation, 'discard route in the OpenAPI document');
      assert.ok(operation.tags?.includes('Agreements'));
      for (const status of ['200', '403', '404', '409']) assert.ok(operation.responses?.[status], `response ${status}`);
    });
  });
}
