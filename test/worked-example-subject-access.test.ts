/**
 * The worked example followed by a subject access request: after the hospital trust pulls records and an export of
 * the council's adult social care packages, the council's data protection officer searches by a resident's NHS number
 * and gets every release that contained that person, with recipient, agreement, purpose, fields and time. The audit
 * log still verifies afterwards.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { runVerify } from '../src/audit/audit-cli.ts';
import { exchangeTestServices, getWithTrailers, TestClock } from '../src/exchange/exchange.test-support.ts';
import type { RunningServer } from '../src/main.ts';
import type { Services } from '../src/services.ts';
import { activeAgreement, AGREEMENT_REFERENCE, buildScenario, DATASET_SLUG, SOCIAL_CARE_CSV, type Scenario } from './fixtures/social-care/scenario.ts';
import { memberAuth } from './helpers/accounts.ts';
import { testEngines } from './helpers/engines.ts';
import { startTestServer } from './helpers/services.ts';

const IN_FORCE = '2026-12-04T12:00:00Z';

interface ApiDisclosure {
  disclosureId: string;
  occurredAt: string;
  recipientOrganisationId: string;
  recipientName: string;
  agreementReference: string;
  agreementVersion: number;
  purposeLabel: string;
  fields: string[];
  pseudonymisedFields: string[];
}

/** The NHS numbers of the fixture, in file order (second column). */
function fixtureNhsNumbers(): string[] {
  const lines = fs.readFileSync(SOCIAL_CARE_CSV, 'utf8').trim().split(/\r?\n/).slice(1);
  return lines.map((line) => line.split(',')[1]!);
}

for (const engine of testEngines()) {
  describe(`worked example subject access on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let services: Services;
    let server: RunningServer;
    let scenario: Scenario;
    let dpoToken: string;
    const clock = new TestClock(IN_FORCE);
    const base = `/api/v1/exchange/agreements/${AGREEMENT_REFERENCE}/datasets/${DATASET_SLUG}`;

    async function search(identifier: string): Promise<{ status: number; body: { disclosures: ApiDisclosure[]; error?: { message: string } } }> {
      const response = await fetch(`${server.url}/api/v1/privacy/subject-access`, {
        method: 'POST',
        headers: { authorization: `Bearer ${dpoToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'nhs_number', identifier }),
      });
      return { status: response.status, body: (await response.json()) as { disclosures: ApiDisclosure[] } };
    }

    before(async () => {
      handle = await engine.create();
      ({ services } = exchangeTestServices(handle.db, clock));
      scenario = await buildScenario(services);
      server = await startTestServer(services);
      await activeAgreement(services, scenario);
      const trust = { authorization: `Bearer ${scenario.trust.token}`, 'civic-purpose': 'direct_care' };
      const records = await fetch(`${server.url}${base}/records?limit=100`, { headers: trust });
      assert.equal(records.status, 200);
      await records.arrayBuffer();
      const exported = await getWithTrailers(`${server.url}${base}/export?format=csv`, trust);
      assert.equal(exported.status, 200);
      const created = await services.tokens.create(memberAuth(scenario.council.dpo.userId, scenario.council.id, 'data_protection_officer'), { name: 'Subject access', scopes: ['read'] });
      dpoToken = created.token;
    });

    after(async () => {
      await server.close();
      await handle.drop();
    });

    test('search lists every release of the person', async () => {
      const [first] = fixtureNhsNumbers();
      const result = await search(first!);
      assert.equal(result.status, 200);
      const disclosures = result.body.disclosures;
      // The records page and the first export chunk both held the first row of the file.
      assert.equal(disclosures.length, 2);
      const stored = await services.db.owner.selectFrom('disclosures').select(['id', 'row_count']).orderBy('occurred_at').orderBy('audit_entry_id').execute();
      assert.deepEqual(disclosures.map((row) => row.disclosureId), [stored[0]!.id, stored[1]!.id]);
      for (const disclosure of disclosures) {
        assert.equal(disclosure.recipientOrganisationId, scenario.trust.id);
        assert.equal(disclosure.recipientName, `Organisation ${scenario.trust.slug}`);
        assert.equal(disclosure.agreementReference, AGREEMENT_REFERENCE);
        assert.equal(disclosure.agreementVersion, 1);
        assert.equal(disclosure.purposeLabel, 'Direct care');
        assert.equal(disclosure.occurredAt, new Date(IN_FORCE).toISOString());
        assert.ok(disclosure.fields.includes('nhs_number'));
        assert.deepEqual(disclosure.pseudonymisedFields, ['nhs_number'], 'the agreement released the NHS number as a pseudonym');
        assert.equal(disclosure.fields.includes('name'), false);
        assert.equal(disclosure.fields.includes('social_worker_notes'), false);
      }
    });

    test('every resident is in two releases', async () => {
      const numbers = fixtureNhsNumbers();
      const rowCounts = new Map((await services.db.owner.selectFrom('disclosures').select(['id', 'row_count']).execute()).map((row) => [row.id, Number(row.row_count)]));
      for (const nhsNumber of [numbers[0]!, numbers[11]!, numbers[numbers.length - 1]!]) {
        const result = await search(nhsNumber);
        assert.equal(result.status, 200);
        const [page, chunk] = result.body.disclosures;
        assert.equal(result.body.disclosures.length, 2, `releases of ${nhsNumber}`);
        // One records page of all 60 rows, then the export chunk (ten rows each) that held this resident.
        assert.equal(rowCounts.get(page!.disclosureId), 60);
        assert.equal(rowCounts.get(chunk!.disclosureId), 10);
      }
    });

    test('invalid NHS number is rejected', async () => {
      const result = await search('999 000 0116');
      assert.equal(result.status, 400);
      assert.match(result.body.error!.message, /Enter a valid NHS number/);
    });

    test('audit log verifies after the releases', async () => {
      const lines: string[] = [];
      const status = await runVerify(services.db, { publicKey: services.audit.checkpoints.signer.publicKey }, (line) => lines.push(line));
      assert.equal(status, 0, lines.join('\n'));
    });
  });
}
