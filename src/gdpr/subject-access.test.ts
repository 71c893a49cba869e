import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generate } from 'otplib';
import type { Database } from '../db/database.ts';
import { setPlatformScope, withOrganisation } from '../db/tenant.ts';
import { buildOrganisation, buildUser, memberAuth } from '../../test/helpers/accounts.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { pdfText } from '../../test/helpers/pdf-text.ts';
import { testServices } from '../../test/helpers/services.ts';
import { WebClient } from '../../test/helpers/web-client.ts';
import { buildApp } from '../http/app.ts';
import type { Services } from '../services.ts';
import { runVerify } from '../audit/audit-cli.ts';
import type { SubjectIdentifier } from '../audit/subject-index.ts';
import { parseNhsNumber } from './nhs-number.ts';
import { subjectAccessCsv } from './subject-access.export.ts';
import { parseSubjectQuery, SubjectAccessService } from './subject-access.service.ts';

// Valid NHS numbers (modulus 11) made up for these tests.
const ALICE = '943 476 5919';
const BOB = '401 023 2137';
const CAROL_EMAIL = 'Carol.Example@Example.org';

async function insertAgreement(db: Database, organisationId: string, reference: string, title: string): Promise<string> {
  return db.app.transaction().execute(async (trx) => {
    await setPlatformScope(trx);
    const row = await trx.insertInto('agreements').values({ organisation_id: organisationId, reference, title }).returning('id').executeTakeFirstOrThrow();
    return row.id;
  });
}

async function insertDataset(db: Database, organisationId: string, slug: string): Promise<string> {
  return db.app.transaction().execute(async (trx) => {
    await setPlatformScope(trx);
    const row = await trx.insertInto('datasets').values({ organisation_id: organisationId, slug, title: 'Adult social care clients' }).returning('id').executeTakeFirstOrThrow();
    return row.id;
  });
}

/** Signs a DPO in through the pages; DPOs must set up TOTP before anything else. */
async function signInWithSecondFactor(client: WebClient, user: { email: string; password: string }): Promise<void> {
  await client.get('/sign-in');
  const signedIn = await client.post('/sign-in', { email: user.email, password: user.password });
  assert.equal(signedIn.headers.location, '/account/two-factor/setup');
  const setup = await client.get('/account/two-factor/setup');
  const secret = /id="totp-secret">([A-Z2-7]+)</.exec(setup.body)?.[1];
  assert.ok(secret, 'the TOTP secret is on the setup page');
  const confirmed = await client.post('/account/two-factor/setup', { code: await generate({ secret }) });
  assert.equal(confirmed.statusCode, 303);
}

for (const engine of testEngines()) {
  describe(`subject access (${engine.name})`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let services: Services;
    let subjectAccess: SubjectAccessService;
    let council: string;
    let trust: string;
    let police: string;
    const releases: Record<string, string> = {};

    async function release(name: string, provider: string, recipient: string, agreementId: string, datasetId: string, purpose: string, subjects: SubjectIdentifier[]): Promise<void> {
      const appended = await withOrganisation(services.db.app, provider, (trx) =>
        services.audit.disclosures.appendDisclosure(trx, {
          recipientOrganisationId: recipient,
          agreementId,
          agreementVersion: 1,
          purpose,
          datasetId,
          resourceId: datasetId,
          fields: ['nhs_number_pseudonym', 'care_package', 'start_date'],
          rowCount: subjects.length,
          occurredAt: new Date(Date.UTC(2026, 10, Object.keys(releases).length + 1, 9, 30)),
          requestId: `request-${name}`,
          subjects,
        }),
      );
      releases[name] = appended.id;
    }

    const actor = (organisationId: string) => ({ organisationId, userId: null, actorKind: 'user' as const, requestId: 'test-request' });

    before(async () => {
      handle = await engine.create();
      services = testServices(handle.db);
      subjectAccess = new SubjectAccessService(services.db, services.audit.disclosures);
      council = (await buildOrganisation(handle.db, { slug: 'thurrock-council' })).id;
      trust = (await buildOrganisation(handle.db, { slug: 'basildon-trust' })).id;
      police = (await buildOrganisation(handle.db, { slug: 'essex-police' })).id;
      const careDataset = await insertDataset(handle.db, council, 'adult-social-care');
      const policeDataset = await insertDataset(handle.db, police, 'police-contacts');
      const directCare = await insertAgreement(handle.db, council, 'THR-ISA-2026-001', 'Direct care with the trust');
      const safeguarding = await insertAgreement(handle.db, council, 'THR-ISA-2026-002', 'Safeguarding with the police');
      const policeShare = await insertAgreement(handle.db, police, 'EP-ISA-2026-009', 'Police to council');

      await release('first', council, trust, directCare, careDataset, 'direct_care', [{ kind: 'nhs_number', value: ALICE }, { kind: 'nhs_number', value: BOB }]);
      await release('second', council, police, safeguarding, careDataset, 'safeguarding', [{ kind: 'nhs_number', value: '9434765919' }, { kind: 'email', value: CAROL_EMAIL }]);
      await release('third', council, trust, directCare, careDataset, 'direct_care', [{ kind: 'nhs_number', value: BOB }]);
      await release('other-controller', police, council, policeShare, policeDataset, 'safeguarding', [{ kind: 'nhs_number', value: ALICE }]);
    });

    after(async () => {
      await handle.drop();
    });

    it('finds exactly the releases of a person', async () => {
      const alice = await subjectAccess.search(actor(council), parseSubjectQuery({ kind: 'nhs_number', identifier: ALICE }));
      assert.deepEqual(alice.map((row) => row.disclosureId), [releases.first, releases.second]);
      assert.deepEqual(alice.map((row) => row.recipientOrganisationId), [trust, police]);
      assert.deepEqual(alice.map((row) => row.agreementReference), ['THR-ISA-2026-001', 'THR-ISA-2026-002']);
      assert.deepEqual(alice.map((row) => row.purposeLabel), ['Direct care', 'Safeguarding']);
      assert.deepEqual(alice[0]!.fields, ['nhs_number_pseudonym', 'care_package', 'start_date']);
      assert.equal(alice[0]!.occurredAt.toISOString(), '2026-11-01T09:30:00.000Z');

      const bob = await subjectAccess.search(actor(council), parseSubjectQuery({ kind: 'nhs_number', identifier: BOB }));
      assert.deepEqual(bob.map((row) => row.disclosureId), [releases.first, releases.third]);

      const carol = await subjectAccess.search(actor(council), parseSubjectQuery({ kind: 'email', identifier: '  carol.example@example.ORG ' }));
      assert.deepEqual(carol.map((row) => row.disclosureId), [releases.second]);

      const nobody = await subjectAccess.search(actor(council), parseSubjectQuery({ kind: 'person_id', identifier: 'P-000001' }));
      assert.deepEqual(nobody, []);
    });

    it('lists only the searching controller', async () => {
      const byPolice = await subjectAccess.search(actor(police), parseSubjectQuery({ kind: 'nhs_number', identifier: ALICE }));
      assert.deepEqual(byPolice.map((row) => row.disclosureId), [releases['other-controller']]);
      const byTrust = await subjectAccess.search(actor(trust), parseSubjectQuery({ kind: 'nhs_number', identifier: ALICE }));
      assert.deepEqual(byTrust, []);
    });

    it('stores no identifier in clear', async () => {
      const subjects = await handle.db.owner.selectFrom('disclosure_subjects').select('subject_hash').execute();
      assert.equal(subjects.length, 6);
      for (const row of subjects) assert.equal(Buffer.from(row.subject_hash).length, 32);
      const logText = JSON.stringify(await handle.db.owner.selectFrom('audit_log').select(['details', 'subject_id']).execute());
      assert.doesNotMatch(logText, /9434765919|4010232137|carol/i);
      const searches = await handle.db.owner.selectFrom('audit_log').select(['action', 'details']).where('action', '=', 'subject_access.searched').execute();
      assert.ok(searches.length >= 4);
      assert.deepEqual(searches[0]!.details, { identifierKind: 'nhs_number', disclosureCount: 2 });
    });

    it('keeps the chain intact', async () => {
      const lines: string[] = [];
      const status = await runVerify(handle.db, { publicKey: services.audit.checkpoints.signer.publicKey }, (line) => lines.push(line));
      assert.equal(status, 0, lines.join('\n'));
    });

    it('validates NHS numbers by check digit', () => {
      assert.equal(parseNhsNumber('943 476 5919'), '9434765919');
      assert.equal(parseNhsNumber('943-476-5919'), '9434765919');
      assert.equal(parseNhsNumber('9434765918'), null);
      assert.equal(parseNhsNumber('943476591'), null);
      assert.equal(parseNhsNumber('94347659190'), null);
      assert.equal(parseNhsNumber('abc4765919'), null);
      // Check digit 10 is never valid: 1, 2, 3, 4, 5, 6, 7, 8, 1 give a weighted sum of 221, remainder 1.
      assert.equal(parseNhsNumber('1234567810'), null);
      assert.throws(() => parseSubjectQuery({ kind: 'nhs_number', identifier: '943 476 5918' }), /Enter a valid NHS number\. Its last number is a check digit/);
      assert.throws(() => parseSubjectQuery({ kind: 'nhs_number', identifier: '943-476-591' }), /NHS number must be 10 numbers\. You entered 9$/);
      assert.throws(() => parseSubjectQuery({ kind: 'nhs_number', identifier: '943 476 59190' }), /NHS number must be 10 numbers\. You entered 11$/);
      assert.throws(() => parseSubjectQuery({ kind: 'nhs_number', identifier: '943 476 591O' }), /must contain only numbers, spaces and hyphens/);
      assert.throws(() => parseSubjectQuery({ kind: 'email', identifier: 'not an email' }), /correct format/);
      assert.throws(() => parseSubjectQuery({ kind: 'passport', identifier: 'x' }), /Select the kind of identifier/);
    });

    it('serves the search pages to a DPO', async () => {
      const app = await buildApp(services);
      try {
        const dpo = await buildUser(handle.db, { member: { organisationId: council, role: 'data_protection_officer' } });
        const analyst = await buildUser(handle.db, { member: { organisationId: council, role: 'analyst' } });

        const analystClient = new WebClient(app);
        await analystClient.get('/sign-in');
        await analystClient.post('/sign-in', { email: analyst.email, password: analyst.password });
        assert.equal((await analystClient.get('/privacy/subject-access')).statusCode, 403);

        const client = new WebClient(app);
        await client.get('/sign-in');
        await signInWithSecondFactor(client, dpo);
        const form = await client.get('/privacy/subject-access');
        assert.equal(form.statusCode, 200);
        assert.match(form.body, /Find who received a person’s data/);

        const invalid = await client.post('/privacy/subject-access', { kind: 'nhs_number', identifier: '943 476 5918' });
        assert.equal(invalid.statusCode, 400);
        assert.match(invalid.body, /govuk-error-summary/);
        assert.match(invalid.body, /href="#identifier">Enter a valid NHS number/);
        assert.match(invalid.body, /value="943 476 5918"/);

        const missing = await client.post('/privacy/subject-access', { identifier: '' });
        assert.equal(missing.statusCode, 400);
        assert.match(missing.body, /href="#kind">Select the kind of identifier/);

        const found = await client.post('/privacy/subject-access', { kind: 'nhs_number', identifier: ALICE });
        assert.equal(found.statusCode, 200);
        assert.match(found.body, /released this person’s data 2 times/);
        assert.match(found.body, /Organisation basildon-trust/);
        assert.match(found.body, /THR-ISA-2026-002 version 1/);
        assert.match(found.body, /<td class="govuk-table__cell">Adult social care clients<\/td>/);
        assert.match(found.body, /Search with every identifier you hold for the person/);

        const byEmail = await client.post('/privacy/subject-access', { kind: 'email', identifier: 'nobody@example.org' });
        assert.equal(byEmail.statusCode, 200);
        assert.match(byEmail.body, /has no release of this person’s data recorded under this email address\./);
        assert.doesNotMatch(byEmail.body, /has not released this person’s data/);

        const csv = await client.post('/privacy/subject-access/download', { kind: 'nhs_number', identifier: ALICE, format: 'csv' });
        assert.equal(csv.statusCode, 200);
        assert.match(String(csv.headers['content-type']), /text\/csv/);
        const csvLines = csv.body.trimEnd().split('\r\n');
        assert.equal(csvLines.length, 3);
        assert.equal(csvLines[0]!.split(',')[0], 'Date and time (UK time)');
        assert.match(csvLines[1]!, /^1 November 2026 at 9:30am,Organisation basildon-trust,THR-ISA-2026-001,/);
        assert.doesNotMatch(csv.body, /9434765919/);

        const changed = await client.post('/privacy/subject-access/download', { kind: 'nhs_number', identifier: '943 476 591', format: 'csv' });
        assert.equal(changed.statusCode, 400);
        assert.match(changed.body, /href="#identifier">NHS number must be 10 numbers\. You entered 9/);
        assert.match(changed.body, /action="\/privacy\/subject-access"/);
        assert.doesNotMatch(changed.body, /problem with the web address/);

        const pdf = await client.post('/privacy/subject-access/download', { kind: 'nhs_number', identifier: ALICE, format: 'pdf' });
        assert.equal(pdf.statusCode, 200);
        assert.equal(pdf.rawPayload.subarray(0, 5).toString('latin1'), '%PDF-');
        const letter = pdfText(pdf.rawPayload);
        assert.match(letter, /Subject access response: who we shared your information\s+with/);
        assert.match(letter, /Dear resident,/);
        assert.ok(!letter.includes(ALICE), 'the letter shows only the end of the identifier');
      } finally {
        await app.close();
      }
    });

    it('answers the API with a DPO token', async () => {
      const app = await buildApp(services);
      try {
        const dpo = await buildUser(handle.db, { member: { organisationId: council, role: 'data_protection_officer' } });
        const token = await services.tokens.create(memberAuth(dpo.id, council, 'data_protection_officer'), { name: 'dpo api', scopes: ['read'] });
        const response = await app.inject({
          method: 'POST',
          url: '/api/v1/privacy/subject-access',
          headers: { authorization: `Bearer ${token.token}` },
          payload: { kind: 'nhs_number', identifier: BOB },
        });
        assert.equal(response.statusCode, 200, response.body);
        const body = response.json() as { disclosures: { disclosureId: string }[] };
        assert.deepEqual(body.disclosures.map((row) => row.disclosureId), [releases.first, releases.third]);

        const invalid = await app.inject({
          method: 'POST',
          url: '/api/v1/privacy/subject-access',
          headers: { authorization: `Bearer ${token.token}` },
          payload: { kind: 'nhs_number', identifier: '401 023 2138' },
        });
        assert.equal(invalid.statusCode, 400);
        assert.match(invalid.body, /Enter a valid NHS number/);
      } finally {
        await app.close();
      }
    });
  });
}

describe('subject access CSV', () => {
  it('writes times in UK summer time', () => {
    const csv = subjectAccessCsv([
      {
        disclosureId: '00000000-0000-4000-8000-000000000001',
        occurredAt: new Date('2026-07-01T08:30:00Z'),
        recipientOrganisationId: '00000000-0000-4000-8000-000000000002',
        recipientName: 'Basildon Trust',
        agreementId: '00000000-0000-4000-8000-000000000003',
        agreementReference: 'THR-ISA-2026-001',
        agreementTitle: 'Hospital discharge',
        agreementVersion: 1,
        purpose: 'direct_care',
        purposeLabel: 'Direct care',
        datasetTitle: 'Adult social care clients',
        fields: ['nhs_number', 'care_package'],
        pseudonymisedFields: ['nhs_number'],
      },
    ]);
    const [, row] = csv.split('\r\n');
    assert.match(row!, /^1 July 2026 at 9:30am,Basildon Trust,/);
    assert.match(row!, /,nhs_number \(pseudonymised\); care_package$/);
  });
});
