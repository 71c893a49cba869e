import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { buildOrganisation, buildUser, memberAuth, signedInClient } from '../../test/helpers/accounts.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { testServices } from '../../test/helpers/services.ts';
import { runVerify } from '../audit/audit-cli.ts';
import type { SubjectIdentifier } from '../audit/subject-index.ts';
import { withOrganisation } from '../db/tenant.ts';
import { Pseudonymiser } from '../exchange/pseudonym.ts';
import { buildApp } from '../http/app.ts';
import type { Services } from '../services.ts';
import { insertActiveAgreement, insertDataset } from './gdpr.test-support.ts';
import { parseRectification, RectificationService } from './rectification.service.ts';

// Valid NHS numbers (modulus 11) made up for these tests.
const ALICE = '9434765919';
const BOB = '4010232137';

interface Received {
  type: string;
  body: { type: string; data: { notice_id: string; agreements: Array<{ reference: string; subject_pseudonym: string }> } };
  raw: string;
}

for (const engine of testEngines()) {
  describe(`correction and erasure notices (${engine.name})`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let services: Services;
    let council: string;
    let trust: string;
    let police: string;
    let dpoId: string;
    let trustStewardId: string;
    let policeStewardId: string;
    let careAgreement: string;
    let safeguardingAgreement: string;
    let receiver: http.Server;
    const received: Received[] = [];
    const start = new Date('2026-11-02T10:00:00Z');

    async function release(provider: string, recipient: string, agreementId: string, datasetId: string, subjects: SubjectIdentifier[]): Promise<void> {
      await withOrganisation(services.db.app, provider, (trx) =>
        services.audit.disclosures.appendDisclosure(trx, {
          recipientOrganisationId: recipient,
          agreementId,
          agreementVersion: 1,
          purpose: 'direct_care',
          datasetId,
          resourceId: datasetId,
          fields: ['nhs_number', 'care_package'],
          rowCount: subjects.length,
          occurredAt: new Date('2026-11-01T09:30:00Z'),
          requestId: null,
          subjects,
        }),
      );
    }

    before(async () => {
      handle = await engine.create();
      services = testServices(handle.db);
      council = (await buildOrganisation(handle.db, { slug: 'thurrock-council' })).id;
      trust = (await buildOrganisation(handle.db, { slug: 'basildon-trust' })).id;
      police = (await buildOrganisation(handle.db, { slug: 'essex-police' })).id;
      dpoId = (await buildUser(handle.db, { member: { organisationId: council, role: 'data_protection_officer' } })).id;
      trustStewardId = (await buildUser(handle.db, { member: { organisationId: trust, role: 'data_steward' } })).id;
      policeStewardId = (await buildUser(handle.db, { member: { organisationId: police, role: 'data_steward' } })).id;
      const dataset = await insertDataset(handle.db, council, 'adult-social-care', 'Adult social care clients');
      careAgreement = await insertActiveAgreement(handle.db, { reference: 'THR-ISA-2026-001', provider: council, recipients: [trust], datasetId: dataset, approverUserId: dpoId });
      safeguardingAgreement = await insertActiveAgreement(handle.db, { reference: 'THR-ISA-2026-002', provider: council, recipients: [police], datasetId: dataset, approverUserId: dpoId });
      await release(council, trust, careAgreement, dataset, [{ kind: 'nhs_number', value: ALICE }, { kind: 'nhs_number', value: BOB }]);
      await release(council, trust, careAgreement, dataset, [{ kind: 'nhs_number', value: ALICE }]);
      await release(council, police, safeguardingAgreement, dataset, [{ kind: 'nhs_number', value: ALICE }]);

      receiver = http.createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          received.push({ type: String(request.headers['civic-webhook-event']), body: JSON.parse(raw) as Received['body'], raw });
          response.writeHead(204).end();
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      const port = (receiver.address() as AddressInfo).port;
      await services.exchange.webhooks.subscribe({ organisationId: trust, userId: trustStewardId }, { url: `http://127.0.0.1:${port}/hooks` });
    });

    after(async () => {
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
      await handle.drop();
    });

    const actor = (organisationId: string, userId: string) => ({ organisationId, userId, actorKind: 'user' as const, requestId: 'test-request' });

    it('sends one notice per recipient with its pseudonym', async () => {
      const rectifications = new RectificationService(services.db, services.keys, services.audit.disclosures, { clock: () => start });
      const input = parseRectification({ action: 'rectified', kind: 'nhs_number', identifier: '943 476 5919', description: 'Date of birth corrected' });
      const result = await rectifications.record(actor(council, dpoId), input);
      assert.equal(result.noticeIds.length, 2);

      const sent = await rectifications.listSent(council);
      assert.equal(sent.length, 2);
      const toTrust = sent.find((notice) => notice.recipientOrganisationId === trust)!;
      const toPolice = sent.find((notice) => notice.recipientOrganisationId === police)!;
      assert.deepEqual(toTrust.agreements.map((agreement) => agreement.reference), ['THR-ISA-2026-001']);
      assert.deepEqual(toPolice.agreements.map((agreement) => agreement.reference), ['THR-ISA-2026-002']);
      assert.equal(toTrust.agreements[0]!.pseudonym, new Pseudonymiser(services.keys, careAgreement).pseudonymise(ALICE, 'nhs_number'));
      assert.equal(toPolice.agreements[0]!.pseudonym, new Pseudonymiser(services.keys, safeguardingAgreement).pseudonymise(ALICE, 'nhs_number'));
      assert.notEqual(toTrust.agreements[0]!.pseudonym, toPolice.agreements[0]!.pseudonym);
      assert.deepEqual(toTrust.agreements[0]!.pseudonymFields, ['nhs_number']);
      assert.deepEqual(toTrust.agreements[0]!.datasets.map((dataset) => dataset.title), ['Adult social care clients']);

      const stored = JSON.stringify(await handle.db.owner.selectFrom('rectification_notices').selectAll().execute());
      assert.doesNotMatch(stored, new RegExp(ALICE));
      const audit = await handle.db.owner.selectFrom('audit_log').select(['details']).where('action', '=', 'subject.rectified').execute();
      assert.equal(audit.length, 1);
      assert.doesNotMatch(JSON.stringify(audit), new RegExp(ALICE));
    });

    it('delivers the notice by webhook', async () => {
      const ran = await services.exchange.worker.runDue(20);
      assert.ok(ran >= 2, `jobs run: ${ran}`);
      assert.equal(received.length, 1, 'only the trust subscribed');
      const event = received[0]!;
      assert.equal(event.type, 'subject.rectified');
      assert.equal(event.body.data.agreements[0]!.reference, 'THR-ISA-2026-001');
      assert.equal(event.body.data.agreements[0]!.subject_pseudonym, new Pseudonymiser(services.keys, careAgreement).pseudonymise(ALICE, 'nhs_number'));
      assert.doesNotMatch(event.raw, new RegExp(ALICE));
      const deliveries = await handle.db.owner.selectFrom('webhook_deliveries').select(['event_type', 'status_code']).execute();
      assert.deepEqual(deliveries, [{ event_type: 'subject.rectified', status_code: 204 }]);
    });

    it('lets only the recipient acknowledge', async () => {
      const app = await buildApp(services);
      try {
        const trustToken = await services.tokens.create(memberAuth(trustStewardId, trust, 'data_steward'), { name: 'trust', scopes: ['read', 'write'] });
        const policeToken = await services.tokens.create(memberAuth(policeStewardId, police, 'data_steward'), { name: 'police', scopes: ['read', 'write'] });
        const listed = await app.inject({ method: 'GET', url: '/api/v1/gdpr/notices', headers: { authorization: `Bearer ${trustToken.token}` } });
        assert.equal(listed.statusCode, 200, listed.body);
        const notices = (listed.json() as { notices: Array<{ id: string; agreements: Array<{ subjectPseudonym: string }>; acknowledgedAt: string | null }> }).notices;
        assert.equal(notices.length, 1);
        assert.equal(notices[0]!.acknowledgedAt, null);
        assert.doesNotMatch(listed.body, new RegExp(ALICE));
        const noticeId = notices[0]!.id;

        const byPolice = await app.inject({ method: 'POST', url: `/api/v1/gdpr/notices/${noticeId}/acknowledge`, headers: { authorization: `Bearer ${policeToken.token}` } });
        assert.equal(byPolice.statusCode, 404, byPolice.body);
        const garbage = await app.inject({ method: 'POST', url: '/api/v1/gdpr/notices/not-an-id/acknowledge', headers: { authorization: `Bearer ${trustToken.token}` } });
        assert.equal(garbage.statusCode, 404, garbage.body);

        const acknowledged = await app.inject({ method: 'POST', url: `/api/v1/gdpr/notices/${noticeId}/acknowledge`, headers: { authorization: `Bearer ${trustToken.token}` } });
        assert.equal(acknowledged.statusCode, 200, acknowledged.body);
        assert.equal((acknowledged.json() as { alreadyAcknowledged: boolean }).alreadyAcknowledged, false);
        const again = await app.inject({ method: 'POST', url: `/api/v1/gdpr/notices/${noticeId}/acknowledge`, headers: { authorization: `Bearer ${trustToken.token}` } });
        assert.equal((again.json() as { alreadyAcknowledged: boolean }).alreadyAcknowledged, true);
        const audit = await handle.db.owner.selectFrom('audit_log').select(['organisation_id', 'subject_id']).where('action', '=', 'subject_notice.acknowledged').execute();
        assert.deepEqual(audit, [{ organisation_id: trust, subject_id: noticeId }]);
      } finally {
        await app.close();
      }
    });

    it('lists unacknowledged notices as overdue after a month', async () => {
      const dayMs = 24 * 60 * 60 * 1000;
      const later = new RectificationService(services.db, services.keys, services.audit.disclosures, { clock: () => new Date(start.getTime() + 31 * dayMs) });
      const overdue = await later.listSent(council, { overdueOnly: true });
      assert.deepEqual(overdue.map((notice) => notice.recipientOrganisationId), [police]);
      const early = new RectificationService(services.db, services.keys, services.audit.disclosures, { clock: () => new Date(start.getTime() + 10 * dayMs) });
      assert.deepEqual(await early.listSent(council, { overdueOnly: true }), []);
      const shortPeriod = new RectificationService(services.db, services.keys, services.audit.disclosures, { clock: () => new Date(start.getTime() + 10 * dayMs), overdueAfterDays: 7 });
      assert.equal((await shortPeriod.listSent(council, { overdueOnly: true })).length, 1);
      assert.deepEqual(await later.listSent(trust, { overdueOnly: true }), [], 'the recipient sent nothing');
    });

    it('rejects bad input with field errors', () => {
      assert.throws(() => parseRectification({ action: 'rectified', kind: 'nhs_number', identifier: '943 476 5918', description: 'Address corrected' }), /Enter a valid NHS number/);
      assert.throws(() => parseRectification({ action: 'changed', kind: 'email', identifier: 'a@example.org', description: 'x' }), /Select whether the data was corrected or erased/);
      assert.throws(() => parseRectification({ action: 'erased', kind: 'nhs_number', identifier: ALICE, description: 'Removed 943 476 5919 from the file' }), /must not contain the person’s identifier/);
      assert.throws(() => parseRectification({ action: 'erased', kind: 'nhs_number', identifier: ALICE, description: '  ' }), /Enter what was changed/);
    });

    it('serves the notice pages', async () => {
      const app = await buildApp(services);
      try {
        const dpo = await signedInClient(app, services, dpoId, council);
        const form = await dpo.get('/privacy/notices/new');
        assert.equal(form.statusCode, 200);
        const invalid = await dpo.post('/privacy/notices/new', { action: 'erased', kind: 'nhs_number', identifier: '401 023 2138', description: 'Record erased' });
        assert.equal(invalid.statusCode, 400);
        assert.match(invalid.body, /govuk-error-summary/);
        assert.match(invalid.body, /href="#identifier">Enter a valid NHS number/);
        assert.match(invalid.body, /Record erased/);
        const recorded = await dpo.post('/privacy/notices/new', { action: 'erased', kind: 'nhs_number', identifier: '401 023 2137', description: 'Record erased on request' });
        assert.equal(recorded.statusCode, 303);
        const list = await dpo.get(String(recorded.headers.location));
        assert.equal(list.statusCode, 200);
        assert.match(list.body, /Notices sent: 1/);
        assert.match(list.body, /Record erased on request/);

        const steward = await signedInClient(app, services, trustStewardId, trust);
        assert.equal((await steward.get('/privacy/notices')).statusCode, 403);
        const inbox = await steward.get('/privacy/notices/received');
        assert.equal(inbox.statusCode, 200);
        assert.match(inbox.body, /Erasure from/);
        const erasure = (await services.gdpr.rectifications.listReceived(trust)).find((notice) => notice.action === 'erased')!;
        assert.match(inbox.body, new RegExp(erasure.agreements[0]!.pseudonym!));
        const acknowledged = await steward.post(`/privacy/notices/${erasure.id}/acknowledge`, {});
        assert.equal(acknowledged.statusCode, 303);
        assert.ok((await services.gdpr.rectifications.listReceived(trust)).every((notice) => notice.acknowledgedAt !== null));
      } finally {
        await app.close();
      }
    });

    it('keeps the chain intact', async () => {
      const lines: string[] = [];
      const status = await runVerify(handle.db, { publicKey: services.audit.checkpoints.signer.publicKey }, (line) => lines.push(line));
      assert.equal(status, 0, lines.join('\n'));
    });
  });
}
