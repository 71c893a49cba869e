/**
 * The worked example, end to end: Thurrock Council shares adult social care packages with a hospital trust for direct
 * care, with NHS numbers pseudonymised and names and social worker notes withheld. The trust pulls records and an
 * export with its exchange token, checks the export's signature offline, is refused a withheld field and anything after
 * the end date, and receives a webhook for each new version. Every release is in the disclosure log.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { activeAgreement, AGREEMENT_REFERENCE, buildScenario, DATASET_SLUG, SOCIAL_CARE_CSV, type Scenario } from './fixtures/social-care/scenario.ts';
import { testEngines } from './helpers/engines.ts';
import { startTestServer } from './helpers/services.ts';
import { RecordsPage } from '../src/exchange/exchange.schemas.ts';
import { exchangeTestServices, getWithTrailers, TestClock } from '../src/exchange/exchange.test-support.ts';
import { verifyWebhookSignature } from '../src/exchange/webhook.service.ts';
import type { RunningServer } from '../src/main.ts';
import type { Services } from '../src/services.ts';

const IN_FORCE = '2026-12-04T12:00:00Z';

interface Received {
  body: string;
  signature: string | undefined;
}

interface Receiver {
  url: string;
  received: Received[];
  /** How many of the next deliveries to fail with status 500. */
  failures: number;
  close(): Promise<void>;
}

/** A webhook receiver on a loopback port. */
function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (receiver.failures > 0) {
        receiver.failures -= 1;
        response.writeHead(500).end();
        return;
      }
      received.push({ body: Buffer.concat(chunks).toString('utf8'), signature: request.headers['civic-webhook-signature'] as string | undefined });
      response.writeHead(204).end();
    });
  });
  const receiver: Receiver = { url: '', received, failures: 0, close: () => new Promise((done) => server.close(() => done())) };
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      receiver.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks`;
      resolve(receiver);
    });
  });
}

for (const engine of testEngines()) {
  describe(`worked example on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let services: Services;
    let logLines: string[];
    let server: RunningServer;
    let scenario: Scenario;
    let receiver: Receiver;
    let webhookSecret: string;
    let subscriptionId: string;
    const clock = new TestClock(IN_FORCE);
    const base = `/api/v1/exchange/agreements/${AGREEMENT_REFERENCE}/datasets/${DATASET_SLUG}`;
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'civic-worked-example-'));

    before(async () => {
      handle = await engine.create();
      ({ services, logLines } = exchangeTestServices(handle.db, clock));
      scenario = await buildScenario(services);
      server = await startTestServer(services);
      receiver = await startReceiver();
    });
    after(async () => {
      await receiver.close();
      await server.close();
      await handle.drop();
      fs.rmSync(folder, { recursive: true, force: true });
    });

    const trust = () => ({ authorization: `Bearer ${scenario.trust.token}`, 'civic-purpose': 'direct_care' });

    test('agreement becomes active after every approval', async () => {
      await activeAgreement(services, scenario);
      const detail = await services.exchange.agreements.getDetail(null, AGREEMENT_REFERENCE);
      assert.equal(detail.status, 'active');
      assert.equal(detail.inForce?.version, 1);
      const register = await services.exchange.agreements.listRegister();
      assert.deepEqual(register.map((agreement) => agreement.reference), [AGREEMENT_REFERENCE]);
      const transitions = await services.db.owner.selectFrom('agreement_transitions').select(['to_status', 'actor_kind', 'reason']).orderBy('id').execute();
      const approvals = transitions.filter((row) => row.reason.startsWith('Approved by '));
      assert.equal(approvals.length, 4);
      // Each approval names the person and the organisation they approved for, as the terms name them.
      assert.ok(approvals.some((row) => /^Approved by Trust data protection officer, data protection officer of \S/.test(row.reason)), approvals.map((row) => row.reason).join('; '));
      assert.deepEqual(transitions.map((row) => row.to_status), ['draft', 'awaiting_approval', 'awaiting_approval', 'awaiting_approval', 'awaiting_approval', 'awaiting_approval', 'active']);
      const audited = await services.db.owner.selectFrom('audit_log').select('action').where('action', '=', 'agreement.transition').execute();
      assert.equal(audited.length, transitions.length);
      // Each named approver got a decision request, and the other three were notified when the last approval came in.
      const mail = await services.db.owner.selectFrom('outbox').select(['recipient', 'subject', 'text_body']).execute();
      const requests = mail.filter((row) => row.subject === `Decision needed: information sharing agreement ${AGREEMENT_REFERENCE}`);
      assert.equal(requests.length, 4);
      assert.ok(requests.every((row) => row.text_body.includes(`/agreements/${AGREEMENT_REFERENCE}/review`)));
      assert.equal(mail.filter((row) => row.subject === `In force: information sharing agreement ${AGREEMENT_REFERENCE}`).length, 3);
    });

    test('trust subscribes a webhook', async () => {
      const response = await fetch(`${server.url}/api/v1/exchange/subscriptions`, {
        method: 'POST',
        headers: { ...trust(), 'content-type': 'application/json' },
        body: JSON.stringify({ url: receiver.url, agreement: AGREEMENT_REFERENCE }),
      });
      assert.equal(response.status, 201);
      const body = (await response.json()) as { id: string; secret: string };
      webhookSecret = body.secret;
      subscriptionId = body.id;
      assert.ok(webhookSecret.length >= 40);
      const insecure = await fetch(`${server.url}/api/v1/exchange/subscriptions`, {
        method: 'POST',
        headers: { ...trust(), 'content-type': 'application/json' },
        body: JSON.stringify({ url: 'http://partner.example.org/hooks' }),
      });
      assert.equal(insecure.status, 400);
    });

    test('trust pulls records', async () => {
      clock.now = new Date(IN_FORCE);
      const response = await fetch(`${server.url}${base}/records?limit=100`, { headers: trust() });
      assert.equal(response.status, 200);
      const body = (await response.json()) as { records: Array<Record<string, unknown>> };
      // The page is encoded without the schema's serializer, so check it still has the documented shape and no more.
      const page: unknown = body;
      assert.ok(Value.Check(RecordsPage, page), [...Value.Errors(RecordsPage, page)].map((error) => `${error.path}: ${error.message}`).join('; '));
      assert.deepEqual(Object.keys(body).sort(), Object.keys(RecordsPage.properties).sort());
      assert.equal(body.records.length, 60);
      for (const record of body.records) {
        assert.equal('name' in record, false);
        assert.equal('social_worker_notes' in record, false);
        assert.match(String(record.nhs_number), /^[0-9a-f]{64}$/);
      }
    });

    test('trust exports and verifies the signature offline', async () => {
      clock.now = new Date(IN_FORCE);
      const response = await getWithTrailers(`${server.url}${base}/export?format=csv`, trust());
      assert.equal(response.status, 200);
      const file = path.join(folder, 'export.csv');
      fs.writeFileSync(file, response.body);
      const signature = String(response.trailers['civic-signature']);
      // Asynchronous, because the server that --server names runs in this process.
      const civic = (args: string[]) =>
        new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
          execFile(process.execPath, ['bin/civic.mjs', 'verify-export', ...args], { encoding: 'utf8' }, (error, stdout, stderr) => {
            let status = 0;
            if (error) status = typeof error.code === 'number' ? error.code : 1;
            resolve({ status, stdout, stderr });
          });
        });
      const valid = await civic([file, '--signature', signature, '--server', server.url]);
      assert.equal(valid.status, 0, valid.stderr);
      assert.match(valid.stdout, /Signature: valid/);

      const keyFile = path.join(folder, 'key.json');
      fs.writeFileSync(keyFile, JSON.stringify(services.exchange.signer.publishedKey()));
      fs.appendFileSync(file, 'THR999999,forged,,,,,,\r\n');
      const tampered = await civic([file, '--signature', signature, '--public-key', keyFile]);
      assert.equal(tampered.status, 1);
      assert.match(tampered.stdout, /INVALID/);
    });

    test('withheld field is refused with the reason', async () => {
      clock.now = new Date(IN_FORCE);
      const response = await fetch(`${server.url}${base}/records?fields=person_id,name`, { headers: trust() });
      assert.equal(response.status, 403);
      const body = (await response.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'field_not_agreed');
      assert.match(body.error.message, /"name"/);
    });

    test('request after the end date is refused with the reason', async () => {
      clock.now = new Date('2028-01-01T09:00:00Z');
      const response = await fetch(`${server.url}${base}/records`, { headers: trust() });
      assert.equal(response.status, 403);
      const body = (await response.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'agreement_expired');
      assert.match(body.error.message, /ended on 2027-12-31/);
      clock.now = new Date(IN_FORCE);
    });

    test('disclosure records exist for every release', async () => {
      const disclosures = await services.db.owner.selectFrom('disclosures').selectAll().where('recipient_organisation_id', '=', scenario.trust.id).execute();
      const released = disclosures.reduce((total, row) => total + Number(row.row_count), 0);
      assert.equal(released, 120);
      for (const row of disclosures) {
        assert.equal(row.organisation_id, scenario.council.id);
        assert.equal(row.purpose, 'direct_care');
        assert.equal(row.fields.includes('name'), false);
      }
      const subjects = await services.db.owner.selectFrom('disclosure_subjects').select('subject_hash').where('recipient_organisation_id', '=', scenario.trust.id).execute();
      assert.equal(subjects.length, 120);
    });

    test('new version reaches the webhook after a retry', async () => {
      clock.now = new Date();
      await services.exchange.worker.runDue();
      receiver.failures = 1;
      await services.imports.importFile(
        { path: SOCIAL_CARE_CSV, filename: 'adult-social-care-packages.csv' },
        { organisation: scenario.council.slug, dataset: DATASET_SLUG, actor: { kind: 'organisation', organisationId: scenario.council.id } },
      );
      // The importing transaction queues its event at the database's time, so the worker's clock moves there.
      clock.now = new Date(Date.now() + 1000);
      await services.exchange.worker.runDue();
      const versionTwo = () => receiver.received.filter((item) => item.body.includes('dataset.version_created') && item.body.includes('"version":2'));
      assert.equal(versionTwo().length, 0);
      clock.now = new Date(clock.now.getTime() + 60 * 60 * 1000);
      await services.exchange.worker.runDue();
      const delivered = versionTwo();
      assert.equal(delivered.length, 1);
      assert.equal(verifyWebhookSignature(webhookSecret, delivered[0]!.body, delivered[0]!.signature), true);
      const event = JSON.parse(delivered[0]!.body) as { data: { dataset: { version: number }; agreement: { reference: string } } };
      assert.equal(event.data.dataset.version, 2);
      assert.equal(event.data.agreement.reference, AGREEMENT_REFERENCE);
      const attempts = await services.db.owner.selectFrom('webhook_deliveries').select(['attempt', 'status_code']).where('event_id', '=', (JSON.parse(delivered[0]!.body) as { id: string }).id).orderBy('id').execute();
      assert.deepEqual(attempts.map((row) => [row.attempt, row.status_code]), [[1, 500], [2, 204]]);
      // The failed attempt is logged once, by the job queue, with the subscription and event ids.
      const eventId = (JSON.parse(delivered[0]!.body) as { id: string }).id;
      const failures = logLines.map((line) => JSON.parse(line) as { msg: string; err?: { eventId?: string; subscriptionId?: string; statusCode?: number } }).filter((line) => line.err?.eventId === eventId || line.msg === 'webhook delivery failed');
      assert.equal(failures.length, 1, JSON.stringify(failures));
      assert.equal(failures[0]!.msg, 'job will be retried');
      assert.equal(failures[0]!.err!.subscriptionId, subscriptionId);
      assert.equal(failures[0]!.err!.statusCode, 500);
    });

    test('trust lists its deliveries; unknown and other organisations\' subscriptions are not found', async () => {
      const deliveries = (id: string, token: string) => fetch(`${server.url}/api/v1/exchange/subscriptions/${id}/deliveries`, { headers: { authorization: `Bearer ${token}` } });
      const own = await deliveries(subscriptionId, scenario.trust.token);
      assert.equal(own.status, 200);
      const listed = (await own.json()) as { deliveries: Array<{ event_type: string; attempt: number; status_code: number | null }> };
      const versionEvents = listed.deliveries.filter((item) => item.event_type === 'dataset.version_created');
      assert.deepEqual(versionEvents.slice(-2).map((item) => [item.attempt, item.status_code]), [[1, 500], [2, 204]]);
      for (const [id, token] of [['00000000-0000-4000-8000-000000000000', scenario.trust.token], [subscriptionId, scenario.police.token]] as const) {
        const response = await deliveries(id, token);
        assert.equal(response.status, 404);
        const body = (await response.json()) as { error: { code: string; message: string } };
        assert.equal(body.error.code, 'subscription_not_found');
        assert.match(body.error.message, new RegExp(id));
      }
    });

    test('review reminder three months ahead', async () => {
      clock.now = new Date('2027-04-01T08:00:00Z');
      const counts = await services.exchange.workflow.runDailyCheck();
      assert.equal(counts.reminded, 1);
      const again = await services.exchange.workflow.runDailyCheck();
      assert.equal(again.reminded, 0);
      const mail = await services.db.owner.selectFrom('outbox').select(['subject']).execute();
      assert.equal(mail.filter((row) => row.subject === `Review due: information sharing agreement ${AGREEMENT_REFERENCE}`).length, 4);
      await services.exchange.worker.runDue();
      assert.equal(receiver.received.filter((item) => item.body.includes('agreement.review_due')).length, 1);
      clock.now = new Date('2027-07-01T08:00:00Z');
      const lapsed = await services.exchange.workflow.runDailyCheck();
      assert.equal(lapsed.lapsed, 1);
      const detail = await services.exchange.agreements.getDetail(scenario.council.id, AGREEMENT_REFERENCE);
      assert.equal(detail.status, 'lapsed_review');
      clock.now = new Date(IN_FORCE);
    });

    test('logs hold no personal data or secrets', () => {
      const log = logLines.join('');
      assert.ok(logLines.length > 20, `only ${logLines.length} log lines`);
      const rows = fs.readFileSync(SOCIAL_CARE_CSV, 'utf8').trim().split('\n').slice(1).map((line) => line.split(','));
      for (const [, nhsNumber, name] of rows) {
        assert.equal(log.includes(nhsNumber!), false, nhsNumber);
        assert.equal(log.includes(nhsNumber!.replaceAll(' ', '')), false, nhsNumber);
        assert.equal(log.includes(name!), false, name);
      }
      assert.equal(log.includes(scenario.trust.token), false, 'exchange token');
      assert.equal(log.includes(webhookSecret), false, 'webhook secret');
      for (const line of logLines) assert.equal(typeof (JSON.parse(line) as { time?: string }).time, 'string', line);
    });
  });
}
