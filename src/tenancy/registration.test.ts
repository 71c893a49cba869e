import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildOrganisation, buildUser, signedInClient } from '../../test/helpers/accounts.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { testServices } from '../../test/helpers/services.ts';
import { awaitFreshWindow } from '../../test/helpers/rate-limit-window.ts';
import { WebClient } from '../../test/helpers/web-client.ts';
import { buildApp } from '../http/app.ts';
import { REGISTRATION_BY_ADDRESS } from '../http/rate-limit.ts';
import type { Services } from '../services.ts';
import { checkRegistrationNumbers } from './registration-numbers.ts';

const validForm = (suffix: string) => ({
  name: `Grays Food Bank ${suffix}`,
  type: 'charity',
  charity_number: '1123456',
  emailDomains: `graysfood${suffix}.org.uk`,
  displayName: 'Amira Khan',
  email: `amira@graysfood${suffix}.org.uk`,
  password: 'lantern orchard pebble',
});

describe('registration numbers', () => {
  test('valid formats are accepted and normalised', () => {
    const cases: Array<[Parameters<typeof checkRegistrationNumbers>[1], string, string]> = [
      [{ charity_number: '1123456-01' }, 'charity_number', '1123456-01'],
      [{ scottish_charity_number: 'sc 012345' }, 'scottish_charity_number', 'SC012345'],
      [{ company_number: '01234567' }, 'company_number', '01234567'],
      [{ company_number: 'ni123456' }, 'company_number', 'NI123456'],
      [{ ods_code: 'RWK' }, 'ods_code', 'RWK'],
      [{ ods_code: 'RWK01' }, 'ods_code', 'RWK01'],
      [{ ods_code: 'A81001' }, 'ods_code', 'A81001'],
      [{ school_urn: '100001' }, 'school_urn', '100001'],
    ];
    for (const [input, field, expected] of cases) {
      const { numbers, errors } = checkRegistrationNumbers('council', input);
      assert.deepEqual(errors, [], `${JSON.stringify(input)} should be valid`);
      assert.equal(numbers[field as keyof typeof numbers], expected);
    }
  });

  test('invalid formats name the field', () => {
    const cases: Array<[Parameters<typeof checkRegistrationNumbers>[1], string]> = [
      [{ charity_number: '12345' }, 'charity_number'],
      [{ charity_number: '1123456-1' }, 'charity_number'],
      [{ scottish_charity_number: 'SC12345' }, 'scottish_charity_number'],
      [{ company_number: '1234567' }, 'company_number'],
      [{ company_number: 'S1234567' }, 'company_number'],
      [{ ods_code: 'RW' }, 'ods_code'],
      [{ ods_code: 'RWK0' }, 'ods_code'],
      [{ school_urn: '10001' }, 'school_urn'],
    ];
    for (const [input, field] of cases) {
      const { errors } = checkRegistrationNumbers('council', input);
      assert.equal(errors.length, 1, `${JSON.stringify(input)} should be invalid`);
      assert.equal(errors[0]!.field, field);
    }
  });

  test('type requires its number', () => {
    assert.equal(checkRegistrationNumbers('charity', {}).errors[0]?.field, 'charity_number');
    assert.deepEqual(checkRegistrationNumbers('charity', { scottish_charity_number: 'SC012345' }).errors, []);
    assert.equal(checkRegistrationNumbers('school', {}).errors[0]?.field, 'school_urn');
    assert.equal(checkRegistrationNumbers('nhs_body', {}).errors[0]?.field, 'ods_code');
    assert.equal(checkRegistrationNumbers('business', {}).errors[0]?.field, 'company_number');
    assert.deepEqual(checkRegistrationNumbers('community_group', {}).errors, []);
  });
});

for (const engine of testEngines()) {
  describe(`organisation registration on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let services: Services;
    let app: FastifyInstance;
    let adminId: string;

    before(async () => {
      handle = await engine.create();
      services = testServices(handle.db);
      app = await buildApp(services);
      await app.ready();
      adminId = (await buildUser(handle.db, { platformAdmin: true })).id;
    });
    after(async () => {
      await app.close();
      await handle.drop();
    });

    const organisationRow = (slug: string) => handle.db.owner.selectFrom('organisations').selectAll().where('slug', '=', slug).executeTakeFirst();
    const outboxFor = (recipient: string) => handle.db.owner.selectFrom('outbox').selectAll().where('recipient', '=', recipient).orderBy('id').execute();
    const auditActions = (organisationId: string) => handle.db.owner.selectFrom('audit_log').select(['action', 'actor_kind']).where('organisation_id', '=', organisationId).orderBy('id').execute();

    test('bad form shows every error', async () => {
      const client = new WebClient(app);
      await client.get('/register');
      const response = await client.post('/register', { ...validForm('x'), name: '', type: 'school', school_urn: '12', emailDomains: 'not a domain', email: 'someone@elsewhere.org', password: 'short' });
      assert.equal(response.statusCode, 400);
      assert.match(response.body, /<title>Error: Register an organisation/);
      assert.match(response.body, /href="#name">Enter the name of the organisation/);
      assert.match(response.body, /href="#school_urn">Enter a school URN of 6 digits/);
      assert.match(response.body, /href="#emailDomains">&quot;not&quot; is not an email domain/);
      assert.match(response.body, /href="#password">Password must be 12 characters or more/);
      assert.match(response.body, /value="12"/, 'the URN typed is kept');
      assert.equal(response.body.includes('short'), false, 'the password is never echoed');
    });

    test('email outside the domains is rejected', async () => {
      const client = new WebClient(app);
      await client.get('/register');
      const response = await client.post('/register', { ...validForm('y'), email: 'amira@gmail.com' });
      assert.equal(response.statusCode, 400);
      assert.match(response.body, /href="#email">Enter an email address in one of the organisation&#39;s domains/);
      assert.equal(await organisationRow('grays-food-bank-y'), undefined);
    });

    test('long email address is rejected', async () => {
      const client = new WebClient(app);
      await client.get('/register');
      const response = await client.post('/register', { ...validForm('long'), email: `${'a'.repeat(5000)}@graysfoodlong.org.uk` });
      assert.equal(response.statusCode, 400);
      assert.match(response.body, /href="#email">Email address must be 254 characters or fewer/);
      assert.equal(await organisationRow('grays-food-bank-long'), undefined);
    });

    test('registration without CSRF token is rejected', async () => {
      const client = new WebClient(app);
      const response = await client.post('/register', { ...validForm('z'), _csrf: null });
      assert.equal(response.statusCode, 403);
      assert.equal(await organisationRow('grays-food-bank-z'), undefined);
    });

    test('registration then approval end to end', async () => {
      const form = validForm('a');
      const client = new WebClient(app);
      await client.get('/register');
      const response = await client.post('/register', form);
      assert.equal(response.statusCode, 200, response.body);
      assert.match(response.body, /Check your email/);

      const organisation = await organisationRow('grays-food-bank-a');
      assert.ok(organisation);
      assert.equal(organisation.status, 'pending');
      assert.equal(organisation.type, 'charity');
      assert.equal(organisation.charity_number, '1123456');
      assert.deepEqual(organisation.email_domains, ['graysfooda.org.uk']);
      assert.equal(organisation.plan, 'community');
      const applicant = await handle.db.owner.selectFrom('users').selectAll().where('email', '=', form.email).executeTakeFirstOrThrow();
      assert.match(applicant.password_hash ?? '', /^\$argon2id\$/);
      assert.equal(organisation.applicant_user_id, applicant.id);
      const membership = await handle.db.owner.selectFrom('memberships').selectAll().where('organisation_id', '=', organisation.id).execute();
      assert.deepEqual(membership.map((row) => [row.user_id, row.role]), [[applicant.id, 'administrator']]);
      const received = await outboxFor(form.email);
      assert.ok(received.some((message) => /received the registration/.test(message.subject)));

      // The applicant's own sign-in sees the pending status.
      const applicantClient = await signedInClient(app, services, applicant.id, organisation.id);
      const status = await applicantClient.get('/organisation');
      assert.equal(status.statusCode, 200);
      assert.match(status.body, /reviewing this registration/);
      const members = await applicantClient.get('/organisation/members');
      assert.equal(members.statusCode, 200);

      const admin = await signedInClient(app, services, adminId, null);
      const queue = await admin.get('/admin/organisations');
      assert.equal(queue.statusCode, 200);
      assert.match(queue.body, /Grays Food Bank a/);
      const missingReason = await admin.post(`/admin/organisations/${organisation.id}/review`, { decision: 'decline', reason: '', plan: 'community' });
      assert.equal(missingReason.statusCode, 400);
      assert.match(missingReason.body, new RegExp(`href="#reason-${organisation.id}">Enter the reason for declining`));
      const approval = { decision: 'approve', reason: 'Charity number checked with the Charity Commission.', plan: 'community' };
      const unconfirmed = await admin.post(`/admin/organisations/${organisation.id}/review`, approval);
      assert.equal(unconfirmed.statusCode, 400);
      assert.match(unconfirmed.body, /cannot be approved until the applicant confirms their email address/);
      assert.equal((await organisationRow('grays-food-bank-a'))!.status, 'pending');
      const confirmation = (await outboxFor(form.email)).find((message) => message.subject === 'Confirm your email address');
      const link = /\/account\/verify-email\/\S+/.exec(confirmation?.text_body ?? '')?.[0];
      assert.ok(link, 'the registration sent a confirmation link');
      const browser = new WebClient(app);
      assert.equal((await browser.get(link)).statusCode, 200);
      assert.equal((await browser.post(link, {})).statusCode, 200);

      const approved = await admin.post(`/admin/organisations/${organisation.id}/review`, approval);
      assert.equal(approved.statusCode, 200, approved.body);
      assert.equal((await organisationRow('grays-food-bank-a'))!.status, 'active');
      const decision = (await outboxFor(form.email)).find((message) => /approved/.test(message.subject));
      assert.ok(decision);
      assert.match(decision.text_body, /Charity number checked with the Charity Commission\./);
      const actions = await auditActions(organisation.id);
      assert.deepEqual(actions.map((row) => row.action), ['organisation.registered', 'organisation.approved']);
      assert.equal(actions[1]!.actor_kind, 'platform');

      const again = await admin.post(`/admin/organisations/${organisation.id}/review`, { decision: 'decline', reason: 'Changed my mind', plan: '' });
      assert.equal(again.statusCode, 409);
    });

    test('existing account email reveals nothing', async () => {
      const existing = await buildUser(handle.db, { email: 'amira@graysfoodc.org.uk' });
      const mainContent = (body: string) => /<main[\s\S]*<\/main>/.exec(body)![0];
      const client = new WebClient(app);
      await client.get('/register');
      const existingAccount = await client.post('/register', validForm('c'));
      assert.equal(existingAccount.statusCode, 200, existingAccount.body);
      assert.equal(await organisationRow('grays-food-bank-c'), undefined, 'nothing is registered');
      const fresh = await client.post('/register', { ...validForm('c'), email: 'bilal@graysfoodc.org.uk' });
      assert.equal(fresh.statusCode, 200, fresh.body);
      assert.ok(await organisationRow('grays-food-bank-c'));
      const sameShape = (body: string, email: string) => mainContent(body).replace(email, 'EMAIL');
      assert.equal(sameShape(existingAccount.body, existing.email), sameShape(fresh.body, 'bilal@graysfoodc.org.uk'), 'the page does not reveal whether an account exists');
      assert.match(existingAccount.body, /Check your email/);

      const [warning, ...others] = await outboxFor(existing.email);
      assert.equal(others.length, 0);
      assert.equal(warning!.subject, 'Someone tried to register with your email address');
      assert.match(warning!.text_body, /Someone tried to register Grays Food Bank c/);
      assert.match(warning!.text_body, /\/sign-in\n/);
      assert.match(warning!.text_body, /\/account\/reset-password\n/);
      const users = await handle.db.owner.selectFrom('users').select('password_hash').where('email', '=', existing.email).execute();
      assert.equal(users.length, 1);
      const audited = await handle.db.owner.selectFrom('audit_log').select('subject_id').where('action', '=', 'user.registration_with_existing_email').execute();
      assert.deepEqual(audited, [{ subject_id: existing.id }]);
    });

    test('same form sent twice registers once', async () => {
      const form = validForm('d');
      const client = new WebClient(app);
      await client.get('/register');
      assert.equal((await client.post('/register', form)).statusCode, 200);
      const again = await client.post('/register', { ...form, name: 'GRAYS FOOD BANK D' });
      assert.equal(again.statusCode, 200, again.body);
      assert.match(again.body, /Check your email/);
      const subjects = (await outboxFor(form.email)).map((message) => message.subject);
      assert.deepEqual(subjects.filter((subject) => /Someone tried/.test(subject)), [], 'no email says that nothing was registered');
      const applicant = await handle.db.owner.selectFrom('users').select('id').where('email', '=', form.email).executeTakeFirstOrThrow();

      const signedIn = await signedInClient(app, services, applicant.id, null);
      await signedIn.get('/register');
      const second = { ...validForm('e'), email: '', password: '', displayName: '' };
      for (let attempt = 0; attempt < 2; attempt += 1) {
        const response = await signedIn.post('/register', second);
        assert.equal(response.statusCode, 200, response.body);
        assert.match(response.body, /Registration received/);
      }
      const registered = await handle.db.owner.selectFrom('organisations').select('slug').where('applicant_user_id', '=', applicant.id).orderBy('slug').execute();
      assert.deepEqual(registered.map((row) => row.slug), ['grays-food-bank-d', 'grays-food-bank-e']);
    });

    test('decline emails the reason', async () => {
      const form = validForm('b');
      const client = new WebClient(app);
      await client.get('/register');
      assert.equal((await client.post('/register', form)).statusCode, 200);
      const organisation = (await organisationRow('grays-food-bank-b'))!;
      const admin = await signedInClient(app, services, adminId, null);
      await admin.get('/admin/organisations');
      const declined = await admin.post(`/admin/organisations/${organisation.id}/review`, { decision: 'decline', reason: 'The charity number belongs to another charity.', plan: '' });
      assert.equal(declined.statusCode, 200);
      const row = (await organisationRow('grays-food-bank-b'))!;
      assert.equal(row.status, 'declined');
      assert.equal(row.review_reason, 'The charity number belongs to another charity.');
      const message = (await outboxFor(form.email)).find((item) => /declined/.test(item.subject));
      assert.match(message?.text_body ?? '', /belongs to another charity/);
    });

    test('non-administrators cannot review', async () => {
      const organisation = await buildOrganisation(handle.db, { status: 'pending' });
      const member = await buildUser(handle.db, { member: { organisationId: organisation.id, role: 'administrator' } });
      const client = await signedInClient(app, services, member.id, organisation.id);
      assert.equal((await client.get('/admin/organisations')).statusCode, 403);
      await client.get('/organisation');
      const response = await client.post(`/admin/organisations/${organisation.id}/review`, { decision: 'approve', reason: '', plan: '' });
      assert.equal(response.statusCode, 403);
      assert.equal((await organisationRow(organisation.slug))!.status, 'pending');
    });

    test('registration is rate limited per address', async () => {
      const client = new WebClient(app);
      await client.get('/register');
      await awaitFreshWindow(REGISTRATION_BY_ADDRESS);
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 7; attempt += 1) {
        const response = await client.post('/register', { ...validForm(`r${attempt}`), email: `taken${attempt}@graysfoodr${attempt}.org.uk` });
        statuses.push(response.statusCode);
      }
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429]);
    });
  });
}
