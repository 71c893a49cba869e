import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testEngines } from '../../test/helpers/engines.ts';
import { startTestServer } from '../../test/helpers/services.ts';
import { activeAgreement, AGREEMENT_REFERENCE, buildScenario, DATASET_SLUG, SOCIAL_CARE_CSV, type Scenario } from '../../test/fixtures/social-care/scenario.ts';
import fs from 'node:fs';
import type { RunningServer } from '../main.ts';
import type { Services } from '../services.ts';
import { exchangeTestServices, getWithTrailers, TestClock } from './exchange.test-support.ts';
import { contentDigest, parseSignature, verifyDigestSignature } from './signing.ts';

const IN_FORCE = '2026-12-04T12:00:00Z';
const SECOND_REFERENCE = 'THR-ISA-2026-015';
const SHORT_REFERENCE = 'THR-ISA-2026-016';

/** Every NHS number in the fixture, with and without spaces. */
function clearNhsNumbers(): string[] {
  const lines = fs.readFileSync(SOCIAL_CARE_CSV, 'utf8').trim().split(/\r?\n/).slice(1);
  return lines.flatMap((line) => {
    const spaced = line.split(',')[1]!;
    return [spaced, spaced.replaceAll(' ', '')];
  });
}

for (const engine of testEngines()) {
  describe(`exchange export on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let services: Services;
    let server: RunningServer;
    let scenario: Scenario;
    let logLines: string[];
    const clock = new TestClock(IN_FORCE);
    const base = `/api/v1/exchange/agreements/${AGREEMENT_REFERENCE}/datasets/${DATASET_SLUG}`;
    const seen: string[] = [];

    before(async () => {
      handle = await engine.create();
      ({ services, logLines } = exchangeTestServices(handle.db, clock));
      scenario = await buildScenario(services);
      await activeAgreement(services, scenario);
      await activeAgreement(services, scenario, SECOND_REFERENCE, { title: 'Second agreement on the same data' });
      await activeAgreement(services, scenario, SHORT_REFERENCE, { title: 'Short agreement', end_date: '2027-01-10', review_date: '2027-01-10' });
      server = await startTestServer(services);
    });
    after(async () => {
      await server.close();
      await handle.drop();
    });

    const headers = () => ({ authorization: `Bearer ${scenario.trust.token}`, 'civic-purpose': 'direct_care' });

    async function pseudonymsByPerson(reference: string): Promise<Map<string, string>> {
      const response = await fetch(`${server.url}/api/v1/exchange/agreements/${reference}/datasets/${DATASET_SLUG}/records?limit=100`, { headers: headers() });
      const text = await response.text();
      seen.push(text);
      const body = JSON.parse(text) as { records: Array<{ person_id: string; nhs_number: string }> };
      return new Map(body.records.map((record) => [record.person_id, record.nhs_number]));
    }

    test('export streams with digest and signature trailers', async () => {
      clock.now = new Date(IN_FORCE);
      clock.stepMs = 0;
      const response = await getWithTrailers(`${server.url}${base}/export?format=csv`, headers());
      seen.push(response.body.toString('utf8'));
      assert.equal(response.status, 200);
      const lines = response.body.toString('utf8').trim().split('\r\n');
      assert.equal(lines[0], 'person_id,nhs_number,date_of_birth,postcode,locality,care_package,start_date,weekly_cost');
      assert.equal(lines.length, 61);
      assert.equal(response.trailers['content-digest'], contentDigest(response.body));
      assert.match(String(response.trailers['civic-export-status']), /^completed; rows=60$/);
      const signature = parseSignature(String(response.trailers['civic-signature']))!;
      assert.equal(verifyDigestSignature(contentDigest(response.body), signature.signature, services.exchange.signer.publicKey), true);

      const exportId = String(response.headers['civic-export-id']);
      const record = (await (await fetch(`${server.url}/api/v1/exchange/exports/${exportId}`, { headers: headers() })).json()) as { status: string; content_digest: string; signature: string; row_count: number };
      assert.equal(record.status, 'completed');
      assert.equal(record.row_count, 60);
      assert.equal(record.content_digest, contentDigest(response.body));
      assert.equal(record.signature, response.trailers['civic-signature']);
      const police = await fetch(`${server.url}/api/v1/exchange/exports/${exportId}`, { headers: { authorization: `Bearer ${scenario.police.token}` } });
      assert.equal(police.status, 404);
    });

    test('export with fields naming nothing', async () => {
      clock.now = new Date(IN_FORCE);
      clock.stepMs = 0;
      const response = await getWithTrailers(`${server.url}${base}/export?format=csv&fields=,`, headers());
      seen.push(response.body.toString('utf8'));
      assert.equal(response.status, 200);
      assert.equal(response.trailers['civic-export-status'], 'completed; rows=60');
      assert.equal(response.body.toString('utf8').split('\r\n')[0], 'person_id,nhs_number,date_of_birth,postcode,locality,care_package,start_date,weekly_cost');
    });

    test('malformed export id is not found', async () => {
      for (const id of ['-'.repeat(36), 'a'.repeat(36), `${'0'.repeat(34)}--`]) {
        const response = await fetch(`${server.url}/api/v1/exchange/exports/${id}`, { headers: headers() });
        assert.equal(response.status, 404, id);
        const body = (await response.json()) as { error: { code: string; message: string } };
        assert.equal(body.error.code, 'export_not_found', id);
        assert.equal(body.error.message, `No export has the id ${id}.`, id);
      }
    });

    test('unknown export format lists the formats', async () => {
      const response = await fetch(`${server.url}${base}/export?format=xlsx`, { headers: headers() });
      assert.equal(response.status, 400);
      const body = (await response.json()) as { error: { code: string; message: string; fields: Array<{ field: string; message: string }> } };
      assert.equal(body.error.code, 'invalid_request');
      assert.equal(body.error.message, 'Invalid request: query parameter format must be one of: csv, jsonl.');
      assert.deepEqual(body.error.fields.map((field) => field.field), ['format']);
    });

    test('export stops when the end date passes mid-export', async () => {
      // Each reading of the clock moves it on six hours, so the end date (10 January 2027) passes part way through.
      clock.now = new Date('2027-01-09T12:00:00Z');
      clock.stepMs = 6 * 60 * 60 * 1000;
      const response = await getWithTrailers(`${server.url}/api/v1/exchange/agreements/${SHORT_REFERENCE}/datasets/${DATASET_SLUG}/export?format=jsonl`, headers());
      clock.stepMs = 0;
      seen.push(response.body.toString('utf8'));
      assert.equal(response.status, 200);
      const status = String(response.trailers['civic-export-status']);
      assert.match(status, /^stopped; code=agreement_expired; rows=\d+$/);
      const rows = response.body.toString('utf8').trim().split('\n').filter((line) => line !== '');
      assert.ok(rows.length < 60, `expected fewer than 60 rows, got ${rows.length}`);
      assert.equal(Number(/rows=(\d+)/.exec(status)![1]), rows.length);
      assert.equal(response.trailers['content-digest'], contentDigest(response.body));
      const disclosed = await services.db.owner.selectFrom('disclosures').select((eb) => eb.fn.sum<number>('row_count').as('rows')).where('request_id', '=', String(response.headers['x-request-id'])).executeTakeFirstOrThrow();
      assert.equal(Number(disclosed.rows), rows.length);
    });

    test('same person gets one pseudonym per agreement', async () => {
      clock.now = new Date(IN_FORCE);
      const first = await pseudonymsByPerson(AGREEMENT_REFERENCE);
      await services.exchange.agreements.amend(scenario.council.dpo.actor, AGREEMENT_REFERENCE);
      await services.exchange.workflow.submit(scenario.council.dpo.actor, AGREEMENT_REFERENCE);
      for (const [who, role] of [[scenario.council.dpo, 'data_protection_officer'], [scenario.council.siro, 'senior_information_risk_owner'], [scenario.trust.dpo, 'data_protection_officer'], [scenario.trust.siro, 'senior_information_risk_owner']] as const) {
        await services.exchange.workflow.decide(who.actor, AGREEMENT_REFERENCE, role, 'approved', '');
      }
      const amended = await pseudonymsByPerson(AGREEMENT_REFERENCE);
      const other = await pseudonymsByPerson(SECOND_REFERENCE);
      assert.equal(first.size, 60);
      for (const [person, pseudonym] of first) {
        assert.equal(amended.get(person), pseudonym, `version 2 changed the pseudonym of ${person}`);
        assert.notEqual(other.get(person), pseudonym, `two agreements share the pseudonym of ${person}`);
      }
    });

    test('change feed follows versions and pseudonymises', async () => {
      clock.now = new Date(IN_FORCE);
      const firstPage = await fetch(`${server.url}${base}/changes?limit=50`, { headers: headers() });
      const firstText = await firstPage.text();
      seen.push(firstText);
      const first = JSON.parse(firstText) as { records: unknown[]; next_cursor: string; has_more: boolean };
      assert.equal(first.records.length, 50);
      assert.equal(first.has_more, true);
      const secondText = await (await fetch(`${server.url}${base}/changes?limit=50&since=${encodeURIComponent(first.next_cursor)}`, { headers: headers() })).text();
      seen.push(secondText);
      const second = JSON.parse(secondText) as { records: unknown[]; next_cursor: string; has_more: boolean; dataset: { version: number } };
      assert.equal(second.records.length, 10);
      assert.equal(second.has_more, false);

      await services.imports.importFile(
        { path: SOCIAL_CARE_CSV, filename: 'adult-social-care-packages.csv' },
        { organisation: scenario.council.slug, dataset: DATASET_SLUG, actor: { kind: 'organisation', organisationId: scenario.council.id } },
      );
      const thirdText = await (await fetch(`${server.url}${base}/changes?limit=50&since=${encodeURIComponent(second.next_cursor)}`, { headers: headers() })).text();
      seen.push(thirdText);
      const third = JSON.parse(thirdText) as { records: unknown[]; next_cursor: string; dataset: { version: number } };
      assert.equal(third.dataset.version, second.dataset.version + 1);
      assert.equal(third.records.length, 50);
      // The last 10 rows fill the next page exactly, and the feed reports that nothing more is ready.
      const fourthText = await (await fetch(`${server.url}${base}/changes?limit=10&since=${encodeURIComponent(third.next_cursor)}`, { headers: headers() })).text();
      seen.push(fourthText);
      const fourth = JSON.parse(fourthText) as { records: unknown[]; has_more: boolean };
      assert.equal(fourth.records.length, 10);
      assert.equal(fourth.has_more, false);

      const forged = await fetch(`${server.url}${base}/changes?since=${encodeURIComponent(`${second.next_cursor}x`)}`, { headers: headers() });
      assert.equal(forged.status, 400);
    });

    test('withheld field error does not echo data', async () => {
      const response = await fetch(`${server.url}${base}/records?fields=name`, { headers: headers() });
      seen.push(await response.text());
      assert.equal(response.status, 403);
    });

    test('NHS numbers never appear in clear', () => {
      const everything = seen.join('\n') + logLines.join('');
      assert.ok(seen.length >= 8);
      for (const number of clearNhsNumbers()) assert.equal(everything.includes(number), false, `an NHS number appeared in clear`);
    });
  });
}
