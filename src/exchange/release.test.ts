import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { testEngines } from '../../test/helpers/engines.ts';
import { startTestServer } from '../../test/helpers/services.ts';
import { activeAgreement, AGREEMENT_REFERENCE, buildScenario, DATASET_SLUG, type Scenario } from '../../test/fixtures/social-care/scenario.ts';
import type { RunningServer } from '../main.ts';
import type { Services } from '../services.ts';
import { exchangeTestServices, TestClock } from './exchange.test-support.ts';
import { contentDigest, parseSignature, readPublicKey, verifyDigestSignature } from './signing.ts';

const IN_FORCE = '2026-12-04T12:00:00Z';

for (const engine of testEngines()) {
  describe(`exchange release on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let services: Services;
    let server: RunningServer;
    let scenario: Scenario;
    let logLines: string[];
    const clock = new TestClock(IN_FORCE);
    const recordsPath = `/api/v1/exchange/agreements/${AGREEMENT_REFERENCE}/datasets/${DATASET_SLUG}/records`;

    before(async () => {
      handle = await engine.create();
      ({ services, logLines } = exchangeTestServices(handle.db, clock));
      scenario = await buildScenario(services);
      await activeAgreement(services, scenario);
      server = await startTestServer(services);
    });
    after(async () => {
      await server.close();
      await handle.drop();
    });

    const get = (path: string, token: string, purpose: string | null = 'direct_care') =>
      fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}`, ...(purpose === null ? {} : { 'civic-purpose': purpose }) } });

    async function refusal(path: string, token: string, purpose: string | null = 'direct_care'): Promise<{ status: number; code: string; message: string }> {
      const response = await get(path, token, purpose);
      const body = (await response.json()) as { error: { code: string; message: string } };
      return { status: response.status, code: body.error.code, message: body.error.message };
    }

    test('records carry only the agreed fields', async () => {
      clock.now = new Date(IN_FORCE);
      const response = await get(`${recordsPath}?limit=25`, scenario.trust.token);
      assert.equal(response.status, 200);
      const body = (await response.json()) as { records: Array<Record<string, unknown>>; next_cursor: string | null; agreement: { version: number } };
      assert.equal(body.records.length, 25);
      assert.equal(body.agreement.version, 1);
      assert.deepEqual(Object.keys(body.records[0]!), ['person_id', 'nhs_number', 'date_of_birth', 'postcode', 'locality', 'care_package', 'start_date', 'weekly_cost']);
      assert.match(String(body.records[0]!.nhs_number), /^[0-9a-f]{64}$/);
      assert.ok(body.next_cursor);
      const second = (await (await get(`${recordsPath}?limit=25&cursor=${encodeURIComponent(body.next_cursor)}`, scenario.trust.token)).json()) as { records: Array<{ person_id: string }>; next_cursor: string };
      assert.equal(second.records.length, 25);
      assert.notEqual(second.records[0]!.person_id, body.records[0]!.person_id);
      // The last 10 of the 60 rows fill the third page exactly, and no empty fourth page is offered.
      const third = (await (await get(`${recordsPath}?limit=10&cursor=${encodeURIComponent(second.next_cursor)}`, scenario.trust.token)).json()) as { records: unknown[]; next_cursor: string | null };
      assert.equal(third.records.length, 10);
      assert.equal(third.next_cursor, null);
    });

    test('response digest and signature verify', async () => {
      clock.now = new Date(IN_FORCE);
      const response = await get(`${recordsPath}?limit=5`, scenario.trust.token);
      const body = Buffer.from(await response.arrayBuffer());
      const digest = response.headers.get('content-digest')!;
      assert.equal(digest, contentDigest(body));
      const signature = parseSignature(response.headers.get('civic-signature')!)!;
      const keys = (await (await fetch(`${server.url}/api/v1/exchange/signing-keys`)).json()) as { keys: Array<{ kid: string }> };
      assert.equal(keys.keys[0]!.kid, signature.keyId);
      const publicKey = readPublicKey(JSON.stringify(keys.keys[0]));
      assert.equal(verifyDigestSignature(digest, signature.signature, publicKey), true);
      assert.equal(verifyDigestSignature(contentDigest(Buffer.concat([body, Buffer.from(' ')])), signature.signature, publicKey), false);
    });

    test('the release lookup enters the provider\'s scope only for a recipient', async () => {
      const lookUp = (recipient: string, dataset: string) =>
        services.db.app.transaction().execute(async (trx) => {
          const { rows } = await sql<{ d_id: string | null; r_id: string | null }>`select d_id, r_id from civic_release_context(${recipient}, ${AGREEMENT_REFERENCE}, null, ${dataset})`.execute(trx);
          const scope = await sql<{ organisation: string }>`select current_setting('civic.organisation_id') as organisation`.execute(trx);
          return { rows, scope: scope.rows[0]!.organisation };
        });
      // The agreement is active, so its register entry is public, but the police are not a recipient.
      const police = await lookUp(scenario.police.id, DATASET_SLUG);
      assert.equal(police.rows.length, 1);
      assert.equal(police.rows[0]!.d_id, null);
      assert.equal(police.scope, scenario.police.id);
      const trust = await lookUp(scenario.trust.id, DATASET_SLUG);
      assert.equal(trust.rows[0]!.d_id, scenario.datasetId);
      assert.notEqual(trust.rows[0]!.r_id, null);
      assert.equal(trust.scope, scenario.council.id);
      const unknown = await lookUp(scenario.trust.id, 'no-such-dataset');
      assert.equal(unknown.rows[0]!.d_id, null);
    });

    test('accepts a lower-case reference', async () => {
      clock.now = new Date(IN_FORCE);
      const response = await get(`/api/v1/exchange/agreements/${AGREEMENT_REFERENCE.toLowerCase()}/datasets/${DATASET_SLUG}/records?limit=2`, scenario.trust.token);
      assert.equal(response.status, 200);
      const body = (await response.json()) as { agreement: { reference: string }; records: unknown[] };
      assert.equal(body.agreement.reference, AGREEMENT_REFERENCE);
      assert.equal(body.records.length, 2);
    });

    test('refuses a caller that is not a recipient', async () => {
      clock.now = new Date(IN_FORCE);
      const result = await refusal(recordsPath, scenario.police.token);
      assert.equal(result.status, 403);
      assert.equal(result.code, 'not_a_recipient');
    });

    test('refuses a purpose that is not agreed', async () => {
      clock.now = new Date(IN_FORCE);
      const result = await refusal(recordsPath, scenario.trust.token, 'fraud_prevention');
      assert.equal(result.status, 403);
      assert.equal(result.code, 'purpose_not_agreed');
      assert.match(result.message, /fraud_prevention/);
      const missing = await refusal(recordsPath, scenario.trust.token, null);
      assert.equal(missing.status, 400);
      assert.equal(missing.code, 'purpose_missing');
    });

    test('refuses a field outside the agreement', async () => {
      clock.now = new Date(IN_FORCE);
      const result = await refusal(`${recordsPath}?fields=person_id,social_worker_notes`, scenario.trust.token);
      assert.equal(result.status, 403);
      assert.equal(result.code, 'field_not_agreed');
      assert.match(result.message, /"social_worker_notes"/);
      const body = (await (await get(`${recordsPath}?fields=person_id,social_worker_notes`, scenario.trust.token)).json()) as { error: { fields: unknown } };
      assert.deepEqual(body.error.fields, [{ field: 'fields', message: 'social_worker_notes is not an agreed field' }]);
      const subset = (await (await get(`${recordsPath}?fields=care_package,person_id&limit=2`, scenario.trust.token)).json()) as { records: Array<Record<string, unknown>> };
      assert.deepEqual(Object.keys(subset.records[0]!), ['person_id', 'care_package']);
    });

    test('fields naming nothing release all', async () => {
      clock.now = new Date(IN_FORCE);
      for (const fields of [',', ' , ,']) {
        const response = await get(`${recordsPath}?limit=1&fields=${encodeURIComponent(fields)}`, scenario.trust.token);
        assert.equal(response.status, 200, `fields=${fields}`);
        const body = (await response.json()) as { records: Array<Record<string, unknown>> };
        assert.deepEqual(Object.keys(body.records[0]!), ['person_id', 'nhs_number', 'date_of_birth', 'postcode', 'locality', 'care_package', 'start_date', 'weekly_cost']);
      }
      const changes = await get(`/api/v1/exchange/agreements/${AGREEMENT_REFERENCE}/datasets/${DATASET_SLUG}/changes?limit=1&fields=,`, scenario.trust.token);
      assert.equal(changes.status, 200);
    });

    test('refuses before the start date', async () => {
      clock.now = new Date('2025-12-31T23:30:00Z');
      const result = await refusal(recordsPath, scenario.trust.token);
      assert.equal(result.status, 403);
      assert.equal(result.code, 'agreement_not_started');
    });

    test('refuses after the end date', async () => {
      clock.now = new Date('2028-01-01T00:30:00Z');
      const result = await refusal(recordsPath, scenario.trust.token);
      assert.equal(result.status, 403);
      assert.equal(result.code, 'agreement_expired');
    });

    test('refuses past the review date', async () => {
      clock.now = new Date('2027-07-01T09:00:00Z');
      const result = await refusal(recordsPath, scenario.trust.token);
      assert.equal(result.status, 403);
      assert.equal(result.code, 'agreement_review_overdue');
    });

    test('refuses while suspended', async () => {
      clock.now = new Date(IN_FORCE);
      await services.exchange.workflow.suspend(scenario.trust.dpo.actor, AGREEMENT_REFERENCE, 'Suspected breach under investigation');
      const result = await refusal(recordsPath, scenario.trust.token);
      assert.equal(result.status, 403);
      assert.equal(result.code, 'agreement_suspended');
      await services.exchange.workflow.resume(scenario.council.dpo.actor, AGREEMENT_REFERENCE, 'Investigation closed');
      assert.equal((await get(recordsPath, scenario.trust.token)).status, 200);
    });

    test('refuses under an agreement not yet approved', async () => {
      clock.now = new Date(IN_FORCE);
      await services.exchange.agreements.createDraft(scenario.council.dpo.actor, 'THR-ISA-2026-099', (await import('../../test/fixtures/social-care/scenario.ts')).directCareTerms(scenario));
      const result = await refusal(`/api/v1/exchange/agreements/THR-ISA-2026-099/datasets/${DATASET_SLUG}/records`, scenario.trust.token);
      assert.equal(result.status, 403);
      assert.equal(result.code, 'agreement_not_active');
    });

    test('refuses a token without the exchange scope', async () => {
      const readToken = await services.tokens.create(
        { via: 'session', userId: scenario.trust.analyst.userId, organisationId: scenario.trust.id, roles: ['analyst'], scopes: null, platformAdmin: false, sessionId: null, tokenId: null },
        { name: 'Read only', scopes: ['read'] },
      );
      const result = await refusal(recordsPath, readToken.token);
      assert.equal(result.status, 403);
      assert.equal(result.code, 'token_scope');
      const anonymous = await fetch(`${server.url}${recordsPath}`, { headers: { 'civic-purpose': 'direct_care' } });
      assert.equal(anonymous.status, 401);
    });

    test('each release writes a disclosure record', async () => {
      clock.now = new Date(IN_FORCE);
      const response = await fetch(`${server.url}${recordsPath}?limit=7`, { headers: { authorization: `Bearer ${scenario.trust.token}`, 'civic-purpose': 'direct_care', 'x-request-id': 'disclosure-check-0001' } });
      assert.equal(response.status, 200);
      const rows = await services.db.owner.selectFrom('disclosures').selectAll().where('request_id', '=', 'disclosure-check-0001').execute();
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.recipient_organisation_id, scenario.trust.id);
      assert.equal(Number(rows[0]!.row_count), 7);
      assert.equal(Number(rows[0]!.subject_count), 7);
      assert.equal(rows[0]!.purpose, 'direct_care');
      assert.equal(rows[0]!.agreement_version, 1);
      assert.deepEqual(rows[0]!.fields, ['person_id', 'nhs_number', 'date_of_birth', 'postcode', 'locality', 'care_package', 'start_date', 'weekly_cost']);
    });

    test('HEAD releases nothing', async () => {
      clock.now = new Date(IN_FORCE);
      for (const operation of ['records', 'changes', 'export']) {
        const requestId = `head-check-${operation}`;
        const response = await fetch(`${server.url}/api/v1/exchange/agreements/${AGREEMENT_REFERENCE}/datasets/${DATASET_SLUG}/${operation}`, {
          method: 'HEAD',
          headers: { authorization: `Bearer ${scenario.trust.token}`, 'civic-purpose': 'direct_care', 'x-request-id': requestId },
        });
        assert.equal(response.status, 405, operation);
        assert.equal(response.headers.get('allow'), 'GET', operation);
        const disclosures = await services.db.owner.selectFrom('disclosures').select('id').where('request_id', '=', requestId).execute();
        assert.deepEqual(disclosures, [], operation);
        const exports = await services.db.owner.selectFrom('exchange_exports').select('id').where('request_id', '=', requestId).execute();
        assert.deepEqual(exports, [], operation);
      }
    });

    test('failed commit sends no records', async () => {
      clock.now = new Date(IN_FORCE);
      // A deferred constraint trigger fails the release's commit, after its record is written and while the page is
      // encoded, so the response must be the error and not the page.
      await sql`create function civic_test_refuse_commit() returns trigger language plpgsql as $$
        begin raise exception 'commit refused by the test'; end $$`.execute(services.db.owner);
      await sql`create constraint trigger civic_test_refuse_commit after insert on disclosures deferrable initially deferred
        for each row execute function civic_test_refuse_commit()`.execute(services.db.owner);
      try {
        const response = await fetch(`${server.url}${recordsPath}?limit=5`, { headers: { authorization: `Bearer ${scenario.trust.token}`, 'civic-purpose': 'direct_care', 'x-request-id': 'refused-commit-0001' } });
        const text = await response.text();
        assert.equal(response.status, 500);
        assert.doesNotMatch(text, /records|[0-9a-f]{64}/);
        const rows = await services.db.owner.selectFrom('disclosures').select('id').where('request_id', '=', 'refused-commit-0001').execute();
        assert.equal(rows.length, 0);
      } finally {
        await sql`drop trigger civic_test_refuse_commit on disclosures`.execute(services.db.owner);
        await sql`drop function civic_test_refuse_commit()`.execute(services.db.owner);
      }
      const after = await get(`${recordsPath}?limit=5`, scenario.trust.token);
      assert.equal(after.status, 200);
    });

    test('row filter applies in SQL', async () => {
      clock.now = new Date(IN_FORCE);
      const filter = { and: [{ field: 'locality', op: 'in', value: ['Grays', 'Tilbury'] }, { not: { field: 'weekly_cost', op: 'lt', value: 200 } }] };
      const terms = (await import('../../test/fixtures/social-care/scenario.ts')).directCareTerms(scenario);
      const datasets = terms.datasets as Array<Record<string, unknown>>;
      await activeAgreement(services, scenario, 'THR-ISA-2026-020', { datasets: [{ ...datasets[0], row_filter: filter }] });
      const response = await get(`/api/v1/exchange/agreements/THR-ISA-2026-020/datasets/${DATASET_SLUG}/records?limit=100`, scenario.trust.token);
      assert.equal(response.status, 200);
      const body = (await response.json()) as { records: Array<{ locality: string; weekly_cost: number }> };
      const csv = (await import('node:fs')).readFileSync((await import('../../test/fixtures/social-care/scenario.ts')).SOCIAL_CARE_CSV, 'utf8');
      const expected = csv.trim().split(/\r?\n/).slice(1).map((line) => line.split(',')).filter((cells) => ['Grays', 'Tilbury'].includes(cells[5]!) && Number(cells[8]) >= 200);
      assert.ok(expected.length > 0);
      assert.equal(body.records.length, expected.length);
      for (const record of body.records) {
        assert.ok(['Grays', 'Tilbury'].includes(record.locality));
        assert.ok(record.weekly_cost >= 200);
      }
    });

    test('rejects a filter on a missing field', async () => {
      const terms = (await import('../../test/fixtures/social-care/scenario.ts')).directCareTerms(scenario);
      const datasets = terms.datasets as Array<Record<string, unknown>>;
      await assert.rejects(
        services.exchange.agreements.createDraft(scenario.council.dpo.actor, 'THR-ISA-2026-021', { ...terms, datasets: [{ ...datasets[0], row_filter: { field: 'ward', op: 'eq', value: 'Grays' } }] }),
        (error: unknown) => {
          const fields = (error as { fields: Array<{ field: string; message: string }> }).fields;
          assert.equal(fields[0]?.field, 'datasets[0].row_filter.field');
          assert.match(fields[0]!.message, /"ward"/);
          return true;
        },
      );
    });

    test('cursor keeps its dataset version', async () => {
      clock.now = new Date(IN_FORCE);
      const headers = (requestId: string) => ({ authorization: `Bearer ${scenario.trust.token}`, 'civic-purpose': 'direct_care', 'x-request-id': requestId });
      const firstResponse = await fetch(`${server.url}${recordsPath}?limit=5`, { headers: headers('cursor-version-0001') });
      const first = (await firstResponse.json()) as { dataset: { version: number }; next_cursor: string; records: Array<{ person_id: string }> };
      const { SOCIAL_CARE_CSV } = await import('../../test/fixtures/social-care/scenario.ts');
      await services.imports.importFile(
        { path: SOCIAL_CARE_CSV, filename: 'adult-social-care-packages.csv' },
        { organisation: scenario.council.slug, dataset: DATASET_SLUG, actor: { kind: 'organisation', organisationId: scenario.council.id } },
      );

      const nextResponse = await fetch(`${server.url}${recordsPath}?limit=5&cursor=${encodeURIComponent(first.next_cursor)}`, { headers: headers('cursor-version-0002') });
      assert.equal(nextResponse.status, 200);
      const next = (await nextResponse.json()) as { dataset: { version: number }; records: Array<{ person_id: string }> };
      assert.equal(next.dataset.version, first.dataset.version);
      assert.equal(next.records.length, 5);
      assert.notEqual(next.records[0]!.person_id, first.records[0]!.person_id);
      const disclosures = await services.db.owner.selectFrom('disclosures').select(['request_id', 'resource_id']).where('request_id', 'in', ['cursor-version-0001', 'cursor-version-0002']).execute();
      assert.equal(disclosures.length, 2);
      assert.equal(disclosures[0]!.resource_id, disclosures[1]!.resource_id);

      const fresh = (await (await get(`${recordsPath}?limit=5`, scenario.trust.token)).json()) as { dataset: { version: number } };
      assert.equal(fresh.dataset.version, first.dataset.version + 1);
    });

    test('log lines never hold a clear NHS number', () => {
      const text = logLines.join('');
      assert.ok(text.length > 0);
      assert.doesNotMatch(text, /999 ?\d{3} ?\d{4}/);
    });
  });
}
