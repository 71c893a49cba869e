import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AGREEMENT_REFERENCE, buildScenario, directCareTerms, type Member, type Scenario } from '../../test/fixtures/social-care/scenario.ts';
import { buildUser, memberAuth, startCompleteSession } from '../../test/helpers/accounts.ts';
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

/** Builds the draft terms as a client sends them, with the provider party's organisation id left out. */
function clientTerms(scenario: Scenario, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const terms = directCareTerms(scenario, overrides);
  const parties = (terms.parties as Array<Record<string, unknown>>).map((party) => (party.sharing_role === 'provider' ? { ...party, organisation_id: undefined } : party));
  return { ...terms, parties };
}

function fieldNames(response: ApiResponse): string[] {
  return (response.body.error?.fields ?? []).map((field: { field: string }) => field.field);
}

for (const engine of testEngines()) {
  describe(`agreements API on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let services: Services;
    let server: RunningServer;
    let scenario: Scenario;
    const tokens = new Map<string, string>();
    const clock = new TestClock('2026-12-04T12:00:00Z');

    const tokenFor = async (who: Member, scopes: Array<'read' | 'write' | 'exchange'> = ['write']) => {
      const created = await services.tokens.create(memberAuth(who.userId, who.actor.organisationId, who.actor.roles[0] as OrganisationRole), { name: `api test ${tokens.size}`, scopes });
      return created.token;
    };

    const call = async (method: string, path: string, who: string | null, body?: unknown): Promise<ApiResponse> => {
      const headers: Record<string, string> = {};
      if (who !== null) headers.authorization = `Bearer ${tokens.get(who)}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${server.url}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      return { status: response.status, body: await response.json() };
    };

    const approveByAll = async (reference: string) => {
      for (const who of ['councilDpo', 'councilSiro', 'trustDpo', 'trustSiro']) {
        const approved = await call('POST', `/api/v1/agreements/${reference}/approve`, who, { comment: 'Content with the terms' });
        assert.equal(approved.status, 200, `${who} approves: ${JSON.stringify(approved.body)}`);
      }
    };

    before(async () => {
      handle = await engine.create();
      clock.stepMs = 1000;
      ({ services } = exchangeTestServices(handle.db, clock));
      scenario = await buildScenario(services);
      server = await startTestServer(services);
      const policeDpoUser = await buildUser(handle.db, { member: { organisationId: scenario.police.id, role: 'data_protection_officer' } });
      const policeDpo: Member = { userId: policeDpoUser.id, actor: { userId: policeDpoUser.id, organisationId: scenario.police.id, roles: ['data_protection_officer'], kind: 'user' } };
      tokens.set('councilDpo', await tokenFor(scenario.council.dpo));
      tokens.set('councilSiro', await tokenFor(scenario.council.siro));
      tokens.set('steward', await tokenFor(scenario.council.steward));
      tokens.set('trustDpo', await tokenFor(scenario.trust.dpo));
      tokens.set('trustSiro', await tokenFor(scenario.trust.siro));
      // An analyst's role cannot use the write scope, so their token reads only.
      tokens.set('trustAnalyst', await tokenFor(scenario.trust.analyst, ['read']));
      tokens.set('policeDpo', await tokenFor(policeDpo));
      tokens.set('stewardReadOnly', await tokenFor(scenario.council.steward, ['read']));
    });
    after(async () => {
      await server.close();
      await handle.drop();
    });

    test('draft to amendment in force', async () => {
      const created = await call('POST', '/api/v1/agreements', 'steward', { reference: AGREEMENT_REFERENCE, terms: clientTerms(scenario) });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.status, 'draft');
      assert.equal(created.body.provider.id, scenario.council.id);
      assert.deepEqual(created.body.allowed_actions, ['update', 'submit', 'discard', 'terminate']);
      const owner = handle.db.owner;
      const agreement = await owner.selectFrom('agreements').selectAll().where('reference', '=', AGREEMENT_REFERENCE).executeTakeFirstOrThrow();
      assert.equal(agreement.organisation_id, scenario.council.id);
      assert.equal(agreement.status, 'draft');

      const submitted = await call('POST', `/api/v1/agreements/${AGREEMENT_REFERENCE}/submit`, 'councilDpo', { comment: 'Ready for approval' });
      assert.equal(submitted.status, 200, JSON.stringify(submitted.body));
      assert.equal(submitted.body.status, 'awaiting_approval');
      assert.equal(submitted.body.approvals.length, 4);

      await approveByAll(AGREEMENT_REFERENCE);
      const active = await call('GET', `/api/v1/agreements/${AGREEMENT_REFERENCE}`, 'trustAnalyst');
      assert.equal(active.status, 200);
      assert.equal(active.body.status, 'active');
      assert.equal(active.body.version_in_force, 1);
      assert.equal(active.body.your_role, 'recipient');
      assert.deepEqual(active.body.allowed_actions, ['amend', 'suspend', 'terminate']);

      const amended = await call('POST', `/api/v1/agreements/${AGREEMENT_REFERENCE}/amend`, 'steward', { terms: clientTerms(scenario, { retention_months: 36 }) });
      assert.equal(amended.status, 201, JSON.stringify(amended.body));
      assert.equal(amended.body.latest_version.version, 2);
      assert.equal(amended.body.latest_version.status, 'draft');
      assert.equal(amended.body.status, 'active', 'the agreement stays active while its amendment is drafted');
      assert.equal(amended.body.version_in_force, 1, 'version 1 stays in force');

      assert.equal((await call('POST', `/api/v1/agreements/${AGREEMENT_REFERENCE}/submit`, 'steward', {})).status, 200);
      const pending = await owner.selectFrom('agreements').select(['status', 'version_in_force_id']).where('id', '=', agreement.id).executeTakeFirstOrThrow();
      const versionOne = await owner.selectFrom('agreement_versions').select(['id', 'status']).where('agreement_id', '=', agreement.id).where('version', '=', 1).executeTakeFirstOrThrow();
      assert.equal(pending.status, 'active');
      assert.equal(pending.version_in_force_id, versionOne.id, 'version 1 is in force while version 2 awaits approval');

      await approveByAll(AGREEMENT_REFERENCE);
      const versions = await owner.selectFrom('agreement_versions').select(['id', 'version', 'status', 'terms']).where('agreement_id', '=', agreement.id).orderBy('version').execute();
      assert.deepEqual(versions.map((version) => version.status), ['superseded', 'approved']);
      assert.equal((versions[1]!.terms as { retention_months: number }).retention_months, 36);
      const final = await owner.selectFrom('agreements').select(['status', 'version_in_force_id']).where('id', '=', agreement.id).executeTakeFirstOrThrow();
      assert.equal(final.status, 'active');
      assert.equal(final.version_in_force_id, versions[1]!.id);

      const transitions = await owner.selectFrom('agreement_transitions').select(['to_status', 'reason']).where('agreement_id', '=', agreement.id).orderBy('occurred_at').orderBy('id').execute();
      assert.deepEqual(transitions.filter((transition) => transition.reason.includes('in force')).map((transition) => transition.reason), [
        'Version 1 approved by every party and in force',
        'Version 2 approved by every party and in force',
      ]);
      const approvals = await owner.selectFrom('agreement_approvals').select(['decision']).where('agreement_id', '=', agreement.id).execute();
      assert.equal(approvals.length, 8);
      const audits = await owner.selectFrom('audit_log').select('action').where('subject_id', '=', agreement.id).where('action', '=', 'agreement.transition').execute();
      assert.equal(audits.length, transitions.length, 'one audit event per transition');
      const events = await owner.selectFrom('jobs').select('payload').where('kind', '=', 'exchange.agreement_event').execute();
      assert.equal(events.filter((job) => (job.payload as { type: string }).type === 'agreement.version_in_force').length, 2);

      const shown = await call('GET', `/api/v1/agreements/${AGREEMENT_REFERENCE}`, 'councilDpo');
      assert.equal(shown.body.versions.length, 2);
      assert.deepEqual(shown.body.versions.map((version: { in_force: boolean }) => version.in_force), [false, true]);
      assert.equal(shown.body.transitions.at(-1).to_status, 'active');
      const listed = await call('GET', '/api/v1/agreements', 'trustDpo');
      assert.deepEqual(listed.body.agreements.map((row: { reference: string }) => row.reference), [AGREEMENT_REFERENCE]);
      assert.equal(listed.body.agreements[0].version_in_force, 2);
    });

    test('every terms problem named', async () => {
      const response = await call('POST', '/api/v1/agreements', 'steward', {
        reference: 'bad ref',
        terms: clientTerms(scenario, { title: '', purposes: ['gossip'], end_date: '2025-01-01', retention_months: 0 }),
      });
      assert.equal(response.status, 400);
      assert.equal(response.body.error.code, 'agreement_invalid');
      const fields = fieldNames(response);
      for (const field of ['reference', 'terms.title', 'terms.purposes[0]', 'terms.end_date', 'terms.retention_months']) assert.ok(fields.includes(field), `${field} in ${fields.join(', ')}`);
      assert.equal(await handle.db.owner.selectFrom('agreements').select('id').where('reference', '=', 'bad ref').executeTakeFirst(), undefined);
    });

    test('bad reference says what to enter', async () => {
      const cases: Array<[string, Record<string, unknown>]> = [
        ['lower case', { reference: 'thr-isa-1', terms: clientTerms(scenario) }],
        ['missing', { terms: clientTerms(scenario) }],
      ];
      for (const [name, body] of cases) {
        const response = await call('POST', '/api/v1/agreements', 'steward', body);
        assert.equal(response.status, 400, name);
        const reference = (response.body.error.fields as Array<{ field: string; message: string }>).find((field) => field.field === 'reference');
        assert.equal(reference?.message, 'Enter a reference of 3 to 60 capital letters, digits and hyphens, such as THR-ISA-2026-014', name);
      }
    });

    test('approver list names other parties', async () => {
      const response = await call('GET', '/api/v1/agreement-approvers', 'steward');
      assert.equal(response.status, 200);
      const organisations = response.body.organisations as Array<{ id: string; approvers: Array<Record<string, unknown>> }>;
      const trust = organisations.find((organisation) => organisation.id === scenario.trust.id);
      assert.ok(trust, 'the trust is listed');
      assert.deepEqual(trust.approvers.map((approver) => approver.user_id).sort(), [scenario.trust.dpo.userId, scenario.trust.siro.userId].sort());
      assert.ok(!trust.approvers.some((approver) => approver.user_id === scenario.trust.analyst.userId), 'an analyst cannot approve');
      for (const approver of trust.approvers) assert.deepEqual(Object.keys(approver).sort(), ['name', 'role', 'user_id']);
      assert.equal((await call('GET', '/api/v1/agreement-approvers', 'trustAnalyst')).status, 403);
      assert.equal((await call('GET', '/api/v1/agreement-approvers', 'stewardReadOnly')).status, 403);
      assert.equal((await call('GET', '/api/v1/agreement-approvers', null)).status, 401);
    });

    test('empty body names terms once', async () => {
      const response = await call('POST', '/api/v1/agreements', 'steward', {});
      assert.equal(response.status, 400);
      const fields = fieldNames(response);
      assert.ok(fields.includes('terms'), fields.join(', '));
      assert.ok(fields.includes('reference'), fields.join(', '));
      assert.ok(!fields.some((field) => field.startsWith('terms.terms')), fields.join(', '));
    });

    test('provider must be caller', async () => {
      const terms = directCareTerms(scenario);
      const parties = terms.parties as Array<Record<string, unknown>>;
      parties[0] = { ...parties[0], organisation_id: scenario.trust.id };
      const response = await call('POST', '/api/v1/agreements', 'steward', { reference: 'THR-ISA-2026-900', terms });
      assert.equal(response.status, 400);
      assert.ok(fieldNames(response).includes('terms.parties[0].organisation_id'));
    });

    test('approver must belong to party', async () => {
      const terms = clientTerms(scenario);
      const parties = terms.parties as Array<{ approvers: Array<Record<string, unknown>> }>;
      parties[1]!.approvers[0] = { role: 'data_protection_officer', user_id: scenario.police.analyst.userId, name: 'Not the trust' };
      const response = await call('POST', '/api/v1/agreements', 'steward', { reference: 'THR-ISA-2026-901', terms });
      assert.equal(response.status, 400);
      assert.deepEqual(fieldNames(response), ['terms.parties[1].approvers[0].user_id']);
    });

    test('unknown dataset field named', async () => {
      const terms = clientTerms(scenario);
      const dataset = (terms.datasets as Array<{ fields: string[] }>)[0]!;
      dataset.fields = [...dataset.fields, 'shoe_size'];
      const response = await call('POST', '/api/v1/agreements', 'steward', { reference: 'THR-ISA-2026-902', terms });
      assert.equal(response.status, 400);
      assert.deepEqual(fieldNames(response), [`terms.datasets[0].fields[${dataset.fields.length - 1}]`]);
    });

    test('decline and suspend need text', async () => {
      const decline = await call('POST', `/api/v1/agreements/${AGREEMENT_REFERENCE}/decline`, 'trustDpo', { comment: { text: 'Not text' } });
      assert.equal(decline.status, 400);
      assert.deepEqual(fieldNames(decline), ['comment']);
      const suspend = await call('POST', `/api/v1/agreements/${AGREEMENT_REFERENCE}/suspend`, 'councilDpo', { reason: '  ' });
      assert.equal(suspend.status, 400);
      assert.deepEqual(fieldNames(suspend), ['reason']);
      const missing = await call('POST', `/api/v1/agreements/${AGREEMENT_REFERENCE}/terminate`, 'councilDpo', {});
      assert.equal(missing.status, 400);
      assert.deepEqual(fieldNames(missing), ['reason']);
    });

    test('wrong state gives 409', async () => {
      const submit = await call('POST', `/api/v1/agreements/${AGREEMENT_REFERENCE}/submit`, 'steward', {});
      assert.equal(submit.status, 409);
      assert.equal(submit.body.error.code, 'agreement_not_draft');
      assert.match(submit.body.error.message, /THR-ISA-2026-014 is active\. Allowed now: amend, suspend, terminate\./);
      const resume = await call('POST', `/api/v1/agreements/${AGREEMENT_REFERENCE}/resume`, 'councilDpo', { reason: 'Nothing to resume' });
      assert.equal(resume.status, 409);
      assert.match(resume.body.error.message, /is active/);
      const approve = await call('POST', `/api/v1/agreements/${AGREEMENT_REFERENCE}/approve`, 'trustDpo', {});
      assert.equal(approve.status, 409);
      assert.equal(approve.body.error.code, 'agreement_not_awaiting_approval');
      const update = await call('PUT', `/api/v1/agreements/${AGREEMENT_REFERENCE}/draft`, 'steward', { terms: clientTerms(scenario) });
      assert.equal(update.status, 409);
      assert.match(update.body.error.message, /Allowed now: amend/);
    });

    test('suspend and resume with reasons', async () => {
      const suspended = await call('POST', `/api/v1/agreements/${AGREEMENT_REFERENCE}/suspend`, 'councilDpo', { reason: 'Breach under investigation' });
      assert.equal(suspended.status, 200, JSON.stringify(suspended.body));
      assert.equal(suspended.body.status, 'suspended');
      const recipientResume = await call('POST', `/api/v1/agreements/${AGREEMENT_REFERENCE}/resume`, 'trustDpo', { reason: 'Not ours to lift' });
      assert.equal(recipientResume.status, 403);
      const resumed = await call('POST', `/api/v1/agreements/${AGREEMENT_REFERENCE}/resume`, 'councilDpo', { reason: 'Investigation closed' });
      assert.equal(resumed.status, 200);
      assert.equal(resumed.body.status, 'active');
      const reasons = await handle.db.owner.selectFrom('agreement_transitions').select('reason').where('to_status', '=', 'suspended').execute();
      assert.deepEqual(reasons.map((row) => row.reason), ['Breach under investigation']);
    });

    test('non-party gets 404', async () => {
      for (const [method, path, body] of [
        ['GET', `/api/v1/agreements/${AGREEMENT_REFERENCE}`, undefined],
        ['POST', `/api/v1/agreements/${AGREEMENT_REFERENCE}/approve`, {}],
        ['POST', `/api/v1/agreements/${AGREEMENT_REFERENCE}/suspend`, { reason: 'Not a party' }],
        ['POST', `/api/v1/agreements/${AGREEMENT_REFERENCE}/amend`, {}],
      ] as const) {
        const response = await call(method, path, 'policeDpo', body);
        assert.equal(response.status, 404, `${method} ${path}`);
        assert.equal(response.body.error.code, 'agreement_not_found');
      }
      assert.deepEqual((await call('GET', '/api/v1/agreements', 'policeDpo')).body.agreements, []);
    });

    test('guards on tokens and roles', async () => {
      assert.equal((await call('GET', '/api/v1/agreements', null)).status, 401);
      const readOnlyList = await call('GET', '/api/v1/agreements', 'stewardReadOnly');
      assert.equal(readOnlyList.status, 200);
      assert.ok(readOnlyList.body.agreements.some((agreement: { reference: string }) => agreement.reference === AGREEMENT_REFERENCE));
      assert.equal((await call('GET', `/api/v1/agreements/${AGREEMENT_REFERENCE}`, 'stewardReadOnly')).status, 200);
      const readOnlyDraft = await call('POST', '/api/v1/agreements', 'stewardReadOnly', { reference: 'TC-ISA-2026-099', terms: {} });
      assert.equal(readOnlyDraft.status, 403);
      assert.equal(readOnlyDraft.body.error.code, 'token_scope');
      assert.match(readOnlyDraft.body.error.message, /"write" scope/);
      const readOnlyTerminate = await call('POST', `/api/v1/agreements/${AGREEMENT_REFERENCE}/terminate`, 'stewardReadOnly', { reason: 'Read-only token' });
      assert.equal(readOnlyTerminate.status, 403);
      assert.equal(readOnlyTerminate.body.error.code, 'token_scope', 'the missing scope is named, not the role');
      const exchangeOnly = await tokenFor(scenario.council.steward, ['exchange']);
      tokens.set('stewardExchangeOnly', exchangeOnly);
      const exchangeList = await call('GET', '/api/v1/agreements', 'stewardExchangeOnly');
      assert.equal(exchangeList.status, 403);
      assert.match(exchangeList.body.error.message, /"read" or "write" scope/);
      const analyst = await call('POST', '/api/v1/agreements', 'trustAnalyst', { reference: 'BTH-ISA-2026-001', terms: {} });
      assert.equal(analyst.status, 403);
      const recipientAmend = await call('POST', `/api/v1/agreements/${AGREEMENT_REFERENCE}/amend`, 'trustDpo', {});
      assert.equal(recipientAmend.status, 403);
      assert.equal(recipientAmend.body.error.code, 'agreement_not_provider');
    });

    test('session declines with CSRF header', async () => {
      await call('POST', `/api/v1/agreements/${AGREEMENT_REFERENCE}/amend`, 'steward', {});
      await call('POST', `/api/v1/agreements/${AGREEMENT_REFERENCE}/submit`, 'steward', {});
      const started = await startCompleteSession(services, scenario.trust.dpo.userId, scenario.trust.id);
      const cookie = `${services.accounts.sessions.cookieName}=${started.cookieValue}`;
      const post = (headers: Record<string, string>) =>
        fetch(`${server.url}/api/v1/agreements/${AGREEMENT_REFERENCE}/decline`, {
          method: 'POST',
          headers: { cookie, 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ comment: 'Retention is too long' }),
        });
      assert.equal((await post({})).status, 403, 'no CSRF token');
      const declined = await post({ 'x-csrf-token': started.session.csrfToken });
      assert.equal(declined.status, 200);
      const body = (await declined.json()) as { status: string; latest_version: { version: number; status: string }; version_in_force: number };
      assert.equal(body.latest_version.status, 'draft', 'a decline returns the amendment to draft');
      assert.equal(body.status, 'active');
      assert.equal(body.version_in_force, 2);

      // The other approvers hear of the decline and its reason; the one who declined does not.
      const notices = await handle.db.owner
        .selectFrom('outbox')
        .innerJoin('users', 'users.email', 'outbox.recipient')
        .select(['users.id', 'outbox.text_body'])
        .where('outbox.subject', '=', `Declined: information sharing agreement ${AGREEMENT_REFERENCE}`)
        .execute();
      const notified = notices.map((notice) => notice.id).sort();
      assert.deepEqual(notified, [scenario.council.dpo.userId, scenario.council.siro.userId, scenario.trust.siro.userId].sort());
      for (const notice of notices) {
        assert.match(notice.text_body, /declined version \d+ of the information sharing agreement/);
        assert.ok(notice.text_body.includes('Retention is too long'));
      }
    });

    test('OpenAPI lists the routes', async () => {
      const document = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, { tags?: string[] }>> };
      for (const path of ['/api/v1/agreements', '/api/v1/agreements/{reference}', '/api/v1/agreements/{reference}/approve', '/api/v1/agreements/{reference}/amend']) {
        assert.ok(document.paths[path], `${path} in the OpenAPI document`);
      }
      assert.ok(document.paths['/api/v1/agreements']!.post!.tags?.includes('Agreements'));
    });
  });
}
