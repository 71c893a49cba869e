import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { activeAgreement, AGREEMENT_REFERENCE, buildScenario, type Scenario } from '../../test/fixtures/social-care/scenario.ts';
import { memberAuth } from '../../test/helpers/accounts.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { startTestServer } from '../../test/helpers/services.ts';
import { withOrganisation } from '../db/tenant.ts';
import { exchangeTestServices, TestClock } from '../exchange/exchange.test-support.ts';
import type { RunningServer } from '../main.ts';
import type { Services } from '../services.ts';

const TRUST_AGREEMENT = 'BTH-ISA-2026-003';
const DATASET = 'delayed-discharges';

/** Writes a synthetic extract of delayed hospital discharges, as a trust would send it, and returns its path. */
function dischargesCsv(folder: string, rows: number): string {
  const lines = ['nhs_number,ward,days_delayed,reason'];
  for (let index = 0; index < rows; index += 1) lines.push(`${9434765919 + index * 11},Ward ${index % 4},${index % 9},Awaiting care package`);
  const file = path.join(folder, `discharges-${rows}.csv`);
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** Starts a webhook receiver on a loopback port that records each body. */
function startReceiver(): Promise<{ url: string; bodies: string[]; close(): Promise<void> }> {
  const bodies: string[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      response.writeHead(204).end();
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      resolve({ url: `http://127.0.0.1:${port}/hooks`, bodies, close: () => new Promise((done) => server.close(() => done())) });
    });
  });
}

for (const engine of testEngines()) {
  describe(`partner upload under agreement on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let services: Services;
    let server: RunningServer;
    let scenario: Scenario;
    let trustToken: string;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    let datasetId: string;
    const clock = new TestClock('2026-12-04T12:00:00Z');
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'civic-partner-upload-'));

    const upload = async (dataset: string, agreement: string | null, rows = 5) => {
      const form = new FormData();
      form.append('file', new Blob([fs.readFileSync(dischargesCsv(folder, rows))]), 'discharges.csv');
      if (agreement !== null) form.append('agreement', agreement);
      const response = await fetch(`${server.url}/api/v1/organisations/${scenario.trust.slug}/datasets/${dataset}/resources`, {
        method: 'POST',
        headers: { authorization: `Bearer ${trustToken}` },
        body: form,
      });
      return { status: response.status, body: (await response.json()) as any };
    };

    const versionsOf = async (slug: string) =>
      withOrganisation(services.db.app, scenario.trust.id, (trx) =>
        trx.selectFrom('resources as r').innerJoin('datasets as d', 'd.id', 'r.dataset_id').select('r.version').where('d.slug', '=', slug).execute(),
      );

    before(async () => {
      handle = await engine.create();
      ({ services } = exchangeTestServices(handle.db, clock));
      scenario = await buildScenario(services);
      await activeAgreement(services, scenario);
      server = await startTestServer(services);
      receiver = await startReceiver();
      trustToken = (await services.tokens.create(memberAuth(scenario.trust.siro.userId, scenario.trust.id, 'administrator'), { name: 'Discharge feed', scopes: ['write'] })).token;

      // The trust's first extract is loaded before the agreement exists, so the agreement can name the dataset.
      assert.equal((await upload(DATASET, null)).status, 201);
      datasetId = (await withOrganisation(services.db.app, scenario.trust.id, (trx) => trx.selectFrom('datasets').select('id').where('slug', '=', DATASET).executeTakeFirstOrThrow())).id;
      const approver = (member: Scenario['trust']['dpo'], name: string, role: 'data_protection_officer' | 'senior_information_risk_owner') => ({ role, user_id: member.userId, name });
      const terms = {
        title: 'Delayed discharges for social care planning',
        summary: 'The trust shares delayed discharges with the council so that care packages are ready when patients leave hospital.',
        parties: [
          { organisation_id: scenario.trust.id, sharing_role: 'provider', controller_role: 'controller', approvers: [approver(scenario.trust.dpo, 'Trust DPO', 'data_protection_officer')] },
          { organisation_id: scenario.council.id, sharing_role: 'recipient', controller_role: 'controller', approvers: [approver(scenario.council.dpo, 'Council DPO', 'data_protection_officer')] },
        ],
        purposes: ['direct_care'],
        purpose_description: 'Arranging care for people ready to leave hospital.',
        special_category: true,
        lawful_basis: { article6: 'e', article9: 'h', schedule1: 2, statutory_powers: ['Care Act 2014 s.74'] },
        datasets: [{ dataset_id: datasetId, fields: ['nhs_number', 'ward', 'days_delayed'], pseudonymise: [{ field: 'nhs_number', normalise: 'nhs_number' }] }],
        retention_months: 12,
        security_requirements: ['Data Security and Protection Toolkit standards met'],
        start_date: '2026-11-01',
        end_date: '2027-10-31',
        review_date: '2027-08-01',
      };
      const { agreements, workflow } = services.exchange;
      await agreements.createDraft(scenario.trust.dpo.actor, TRUST_AGREEMENT, terms);
      await workflow.submit(scenario.trust.dpo.actor, TRUST_AGREEMENT);
      await workflow.decide(scenario.trust.dpo.actor, TRUST_AGREEMENT, 'data_protection_officer', 'approved', '');
      await workflow.decide(scenario.council.dpo.actor, TRUST_AGREEMENT, 'data_protection_officer', 'approved', '');
      await services.exchange.webhooks.subscribe({ organisationId: scenario.council.id, userId: scenario.council.dpo.userId }, { url: receiver.url, agreementReference: TRUST_AGREEMENT });
      clock.now = new Date();
      await services.exchange.worker.runDue();
      receiver.bodies.length = 0;
    });
    after(async () => {
      await receiver.close();
      await server.close();
      await handle.drop();
      fs.rmSync(folder, { recursive: true, force: true });
    });

    test('upload under agreement notifies recipient', async () => {
      clock.now = new Date('2026-12-04T12:00:00Z');
      const response = await upload(DATASET, TRUST_AGREEMENT, 7);
      assert.equal(response.status, 201, JSON.stringify(response.body));
      assert.equal(response.body.version, 2);
      assert.equal(response.body.rows, 7);
      const queued = await handle.db.owner.selectFrom('jobs').select('payload').where('kind', '=', 'exchange.dataset_version').execute();
      assert.ok(queued.some((job) => (job.payload as { dataset_id: string; version: number }).dataset_id === datasetId && (job.payload as { version: number }).version === 2));

      // The importing transaction queues its event at the database's time, so the worker's clock moves there.
      clock.now = new Date(Date.now() + 1000);
      await services.exchange.worker.runDue();
      clock.now = new Date(Date.now() + 2000);
      await services.exchange.worker.runDue();
      const created = receiver.bodies.map((body) => JSON.parse(body) as { type: string; data: { agreement: { reference: string }; dataset: { slug: string; version: number } } }).filter((event) => event.type === 'dataset.version_created');
      assert.equal(created.length, 1);
      assert.equal(created[0]!.data.agreement.reference, TRUST_AGREEMENT);
      assert.equal(created[0]!.data.dataset.slug, DATASET);
      assert.equal(created[0]!.data.dataset.version, 2);
    });

    test('upload under wrong agreement refused', async () => {
      clock.now = new Date('2026-12-04T12:00:00Z');
      const before = (await versionsOf(DATASET)).length;
      const cases: Array<[string, string, string]> = [
        [DATASET, AGREEMENT_REFERENCE, 'not_the_provider'],
        [DATASET, 'BTH-ISA-0000-000', 'agreement_not_found'],
        ['bed-occupancy', TRUST_AGREEMENT, 'dataset_not_agreed'],
      ];
      for (const [dataset, agreement, code] of cases) {
        const response = await upload(dataset, agreement);
        assert.equal(response.status, 403, `${dataset} under ${agreement}`);
        assert.equal(response.body.error.code, code);
        assert.deepEqual(response.body.error.fields.map((field: { field: string }) => field.field), ['agreement']);
      }
      assert.equal((await versionsOf(DATASET)).length, before, 'no version added');
      assert.deepEqual(await versionsOf('bed-occupancy'), [], 'no dataset created');
    });

    test('suspended or expired agreement refused', async () => {
      clock.now = new Date('2026-12-04T12:00:00Z');
      await services.exchange.workflow.suspend(scenario.trust.dpo.actor, TRUST_AGREEMENT, 'Data quality review');
      const suspended = await upload(DATASET, TRUST_AGREEMENT);
      assert.equal(suspended.status, 403);
      assert.equal(suspended.body.error.code, 'agreement_not_active');
      assert.match(suspended.body.error.message, /is suspended/);
      await services.exchange.workflow.resume(scenario.trust.dpo.actor, TRUST_AGREEMENT, 'Review complete');

      clock.now = new Date('2027-11-15T12:00:00Z');
      const expired = await upload(DATASET, TRUST_AGREEMENT);
      assert.equal(expired.status, 403);
      assert.equal(expired.body.error.code, 'agreement_not_in_force');
      assert.match(expired.body.error.message, /2026-11-01 to 2027-10-31/);
    });

    test('upload needs the applications it uses', async () => {
      clock.now = new Date('2026-12-04T12:00:00Z');
      const before = (await versionsOf(DATASET)).length;
      const setApplications = (applications: string[]) =>
        handle.db.owner.updateTable('organisations').set({ applications: applications as never }).where('id', '=', scenario.trust.id).execute();
      try {
        await setApplications(['data_workspace']);
        const underAgreement = await upload(DATASET, TRUST_AGREEMENT);
        assert.equal(underAgreement.status, 403);
        assert.equal(underAgreement.body.error.code, 'application_not_enabled');
        assert.match(underAgreement.body.error.message, /Secure data exchange/);

        await setApplications(['exchange']);
        const noWorkspace = await upload(DATASET, null);
        assert.equal(noWorkspace.status, 403);
        assert.equal(noWorkspace.body.error.code, 'application_not_enabled');
        assert.match(noWorkspace.body.error.message, /Data workspace/);
      } finally {
        await setApplications(['data_workspace', 'exchange']);
      }
      assert.equal((await versionsOf(DATASET)).length, before, 'no version added');
    });
  });
}
