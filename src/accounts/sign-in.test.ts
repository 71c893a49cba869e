import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { generate } from 'otplib';
import { buildOrganisation, buildUser, signedInClient, startCompleteSession } from '../../test/helpers/accounts.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { testServices } from '../../test/helpers/services.ts';
import { awaitFreshWindow } from '../../test/helpers/rate-limit-window.ts';
import { WebClient } from '../../test/helpers/web-client.ts';
import { buildApp } from '../http/app.ts';
import { SECOND_FACTOR_BY_USER, SIGN_IN_BY_EMAIL, VERIFICATION_BY_USER } from '../http/rate-limit.ts';
import type { Services } from '../services.ts';
import { SIGN_IN_FAILED_MESSAGE } from './sign-in.service.ts';
import { totpQrCode } from './totp-qr-code.ts';

const escapedFailure = SIGN_IN_FAILED_MESSAGE.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

for (const engine of testEngines()) {
  describe(`sign-in on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let services: Services;
    let app: FastifyInstance;
    let organisationId: string;

    before(async () => {
      handle = await engine.create();
      services = testServices(handle.db);
      app = await buildApp(services);
      await app.ready();
      organisationId = (await buildOrganisation(handle.db)).id;
    });
    after(async () => {
      await app.close();
      await handle.drop();
    });

    const userRow = (id: string) => handle.db.owner.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

    test('empty form shows the error summary', async () => {
      const client = new WebClient(app);
      await client.get('/sign-in');
      const response = await client.post('/sign-in', { email: 'not-an-email', password: '' });
      assert.equal(response.statusCode, 400);
      assert.match(response.body, /govuk-error-summary/);
      assert.match(response.body, /<title>Error: Sign in/);
      assert.match(response.body, /href="#email">Enter an email address in the correct format/);
      assert.match(response.body, /href="#password">Enter your password/);
      assert.match(response.body, /value="not-an-email"/);
    });

    test('long email addresses are rejected', async () => {
      const longEmail = `${'a'.repeat(5000)}@example.org`;
      const client = new WebClient(app);
      await client.get('/sign-in');
      const signIn = await client.post('/sign-in', { email: longEmail, password: 'whatever password' });
      assert.equal(signIn.statusCode, 400);
      assert.match(signIn.body, /href="#email">Email address must be 254 characters or fewer/);
      await client.get('/account/reset-password');
      const reset = await client.post('/account/reset-password', { email: longEmail });
      assert.equal(reset.statusCode, 400);
      assert.match(reset.body, /href="#email">Email address must be 254 characters or fewer/);
      const empty = await client.post('/account/reset-password', { email: '' });
      assert.match(empty.body, /href="#email">Enter your email address/);
      const counters = await handle.db.owner.selectFrom('rate_limit_counters').select('hits').where('bucket', '=', 'reset_email').execute();
      assert.equal(counters.length, 0, 'a rejected address is not counted');
    });

    test('unknown and wrong password read the same', async () => {
      const user = await buildUser(handle.db, { member: { organisationId, role: 'analyst' } });
      const client = new WebClient(app);
      await client.get('/sign-in');
      const unknown = await client.post('/sign-in', { email: 'nobody@example.org', password: 'whatever password' });
      const wrong = await client.post('/sign-in', { email: user.email, password: 'wrong password here' });
      assert.equal(unknown.statusCode, 400);
      assert.equal(wrong.statusCode, 400);
      assert.match(unknown.body, new RegExp(escapedFailure));
      assert.match(wrong.body, new RegExp(escapedFailure));
      assert.equal(wrong.body.includes('wrong password here'), false, 'the password is never echoed');
    });

    test('lockout doubles after repeated failures', async () => {
      const user = await buildUser(handle.db, { member: { organisationId, role: 'viewer' } });
      for (let attempt = 0; attempt < 5; attempt += 1) {
        await assert.rejects(services.accounts.signIn.signIn(user.email, 'not the password'));
      }
      const first = await userRow(user.id);
      assert.equal(first.lockout_count, 1);
      assert.equal(first.locked_until!.getTime() - first.last_failed_sign_in_at!.getTime() >= 59_000, true);
      assert.equal(first.locked_until!.getTime() - first.last_failed_sign_in_at!.getTime() <= 61_000, true);
      await assert.rejects(services.accounts.signIn.signIn(user.email, user.password), /Enter a correct email address/);

      await handle.db.owner.updateTable('users').set({ locked_until: sql<Date>`now() - interval '1 second'` }).where('id', '=', user.id).execute();
      for (let attempt = 0; attempt < 5; attempt += 1) {
        await assert.rejects(services.accounts.signIn.signIn(user.email, 'not the password'));
      }
      const second = await userRow(user.id);
      assert.equal(second.lockout_count, 2);
      const seconds = (second.locked_until!.getTime() - second.last_failed_sign_in_at!.getTime()) / 1000;
      assert.ok(seconds >= 119 && seconds <= 121, `second lock lasts 2 minutes, got ${seconds}s`);

      await handle.db.owner.updateTable('users').set({ locked_until: sql<Date>`now() - interval '1 second'` }).where('id', '=', user.id).execute();
      const result = await services.accounts.signIn.signIn(user.email, user.password);
      assert.equal(result.stage, 'complete');
      const cleared = await userRow(user.id);
      assert.equal(cleared.lockout_count, 0);
      assert.equal(cleared.locked_until, null);
    });

    test('administrator sets up and then uses TOTP', async () => {
      const admin = await buildUser(handle.db, { member: { organisationId, role: 'administrator' } });
      const client = new WebClient(app);
      await client.get('/sign-in');
      const signedIn = await client.post('/sign-in', { email: admin.email, password: admin.password });
      assert.equal(signedIn.statusCode, 303);
      assert.equal(signedIn.headers.location, '/account/two-factor/setup');
      const early = await client.get('/account');
      assert.equal(early.statusCode, 303, 'no access before the second factor is set up');
      assert.equal(early.headers.location, '/account/two-factor/setup');

      const setup = await client.get('/account/two-factor/setup');
      const secret = /id="totp-secret">([A-Z2-7]+)</.exec(setup.body)?.[1];
      assert.ok(secret, 'the secret is shown as text');
      const uri = /<code>(otpauth:\/\/[^<]+)<\/code>/.exec(setup.body)?.[1]?.replaceAll('&amp;', '&');
      assert.ok(uri !== undefined, 'the page shows the set-up link');
      assert.ok(uri.includes(`secret=${secret}`), `the set-up link carries the secret: ${uri}`);
      assert.ok(setup.body.includes(await totpQrCode(uri)), 'the QR code draws the set-up link');
      const badCode = await client.post('/account/two-factor/setup', { code: '000000' });
      assert.equal(badCode.statusCode, 400);
      assert.match(badCode.body, /href="#code"/);
      assert.match(badCode.body, /The code is not correct or has already been used/);
      assert.match((await client.post('/account/two-factor/setup', { code: '' })).body, /Enter the 6-digit code shown in your authenticator app/);
      assert.match((await client.post('/account/two-factor/setup', { code: '12345' })).body, /Enter the code as 6 digits, such as 123456/);
      const code = await generate({ secret });
      const confirmed = await client.post('/account/two-factor/setup', { code });
      assert.equal(confirmed.statusCode, 303);
      assert.equal((await client.get('/account')).statusCode, 200);
      assert.ok((await userRow(admin.id)).totp_enabled_at instanceof Date);

      const later = new WebClient(app);
      await later.get('/sign-in');
      const again = await later.post('/sign-in', { email: admin.email, password: admin.password });
      assert.equal(again.headers.location, '/sign-in/two-factor');
      assert.equal((await later.get('/sign-in/two-factor')).statusCode, 200);
      const replay = await later.post('/sign-in/two-factor', { code });
      assert.equal(replay.statusCode, 400, 'a code is accepted once only');
      const nextCode = await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 });
      const accepted = await later.post('/sign-in/two-factor', { code: nextCode });
      assert.equal(accepted.statusCode, 303);
      assert.equal((await later.get('/account')).statusCode, 200);
    });

    test('password reset link works once', async () => {
      const user = await buildUser(handle.db, { member: { organisationId, role: 'viewer' } });
      const client = new WebClient(app);
      await client.get('/account/reset-password');
      const requested = await client.post('/account/reset-password', { email: user.email });
      assert.equal(requested.statusCode, 200);
      const unknown = await client.post('/account/reset-password', { email: 'nobody-here@example.org' });
      const mainContent = (body: string) => /<main[\s\S]*<\/main>/.exec(body)?.[0];
      assert.ok(mainContent(requested.body)?.includes('Check your email'));
      assert.equal(mainContent(unknown.body), mainContent(requested.body), 'the response does not reveal whether an account exists');
      const mail = await handle.db.owner.selectFrom('outbox').selectAll().where('recipient', '=', user.email).executeTakeFirstOrThrow();
      const link = /\/account\/reset-password\/([A-Za-z0-9_-]{43})/.exec(mail.text_body)?.[0];
      assert.ok(link);

      const form = await client.get(link);
      assert.equal(form.statusCode, 200);
      const weak = await client.post(link, { password: 'short' });
      assert.equal(weak.statusCode, 400);
      assert.match(weak.body, /Password must be 12 characters or more/);
      const changed = await client.post(link, { password: 'a brand new passphrase' });
      assert.equal(changed.statusCode, 200);
      const reused = await client.post(link, { password: 'another new passphrase' });
      assert.equal(reused.statusCode, 400);
      assert.equal((await client.get(link)).statusCode, 404);
      const result = await services.accounts.signIn.signIn(user.email, 'a brand new passphrase');
      assert.equal(result.stage, 'complete');
      await assert.rejects(services.accounts.signIn.signIn(user.email, 'another new passphrase'));
    });

    test('using a reset link ends the older ones', async () => {
      const user = await buildUser(handle.db, { member: { organisationId, role: 'viewer' } });
      await services.accounts.links.requestPasswordReset(user.email);
      await services.accounts.links.requestPasswordReset(user.email);
      const mails = await handle.db.owner.selectFrom('outbox').select('text_body').where('recipient', '=', user.email).orderBy('created_at').execute();
      const links = mails.map((mail) => /\/account\/reset-password\/([A-Za-z0-9_-]{43})/.exec(mail.text_body)?.[0]).filter((link) => link !== undefined);
      assert.equal(links.length, 2);
      const client = new WebClient(app);
      await client.get(links[1]!);
      assert.equal((await client.post(links[1]!, { password: 'the newer passphrase' })).statusCode, 200);
      assert.equal((await client.get(links[0]!)).statusCode, 404, 'the older link no longer works');
      assert.equal((await client.post(links[0]!, { password: 'the older passphrase' })).statusCode, 400);
      assert.equal((await services.accounts.signIn.signIn(user.email, 'the newer passphrase')).stage, 'complete');
    });

    test('confirmation email can be sent again', async () => {
      const user = await buildUser(handle.db, { member: { organisationId, role: 'viewer' } });
      await handle.db.owner.updateTable('users').set({ email_verified_at: null }).where('id', '=', user.id).execute();
      const verificationLinks = async () => {
        const mails = await handle.db.owner.selectFrom('outbox').select('text_body').where('recipient', '=', user.email).where('subject', '=', 'Confirm your email address').orderBy('id').execute();
        return mails.map((mail) => /\/account\/verify-email\/[A-Za-z0-9_-]{43}/.exec(mail.text_body)![0]);
      };
      await services.accounts.links.resendVerification(user.id);
      const [first] = await verificationLinks();

      const client = await signedInClient(app, services, user.id, organisationId);
      const account = await client.get('/account');
      assert.match(account.body, /Send a new confirmation email/);
      const sent = await client.post('/account/confirm-email', {});
      assert.equal(sent.statusCode, 200);
      assert.match(sent.body, new RegExp(`We have sent a new confirmation email to ${user.email}`));
      const links = await verificationLinks();
      assert.equal(links.length, 2);
      const second = links[1]!;

      const anonymous = new WebClient(app);
      const replaced = await anonymous.get(first!);
      assert.equal(replaced.statusCode, 404, 'the earlier link stops working');
      assert.match(replaced.body, /This link has expired/);
      assert.match(replaced.body, /Sign in, then send a new confirmation email from your account page/);
      assert.equal((await userRow(user.id)).email_verified_at, null);

      const opened = await anonymous.get(second);
      assert.equal(opened.statusCode, 200);
      assert.match(opened.body, /<button[^>]*>\s*Confirm email address/);
      assert.equal((await userRow(user.id)).email_verified_at, null, 'opening the link alone, as a mail scanner does, confirms nothing');
      const forged = await new WebClient(app).post(second, { _csrf: null });
      assert.equal(forged.statusCode, 403, 'the confirmation form needs its CSRF token');
      assert.equal((await userRow(user.id)).email_verified_at, null);
      const confirmed = await anonymous.post(second, {});
      assert.equal(confirmed.statusCode, 200);
      assert.match(confirmed.body, /Email address confirmed/);
      assert.match(confirmed.body, /a platform administrator reviews the registration next/);
      assert.ok((await userRow(user.id)).email_verified_at instanceof Date);

      const usedAgain = await anonymous.post(second, {});
      assert.equal(usedAgain.statusCode, 200);
      assert.match(usedAgain.body, /Your email address is already confirmed/);
      assert.match((await anonymous.get(first!)).body, /Your email address is already confirmed/);
      const madeUp = await anonymous.get(`/account/verify-email/${'x'.repeat(43)}`);
      assert.equal(madeUp.statusCode, 404);
      assert.match(madeUp.body, /This link is not valid/);
      assert.equal((await anonymous.get('/account/verify-email/short')).statusCode, 404);

      const after = await client.get('/account');
      assert.doesNotMatch(after.body, /Send a new confirmation email/);
      const notNeeded = await client.post('/account/confirm-email', {});
      assert.match(notNeeded.body, /Your email address is already confirmed/);
      assert.equal((await verificationLinks()).length, 2, 'a confirmed address gets no new email');
    });

    test('confirmation email is rate limited', async () => {
      const user = await buildUser(handle.db, { member: { organisationId, role: 'viewer' } });
      await handle.db.owner.updateTable('users').set({ email_verified_at: null }).where('id', '=', user.id).execute();
      const client = await signedInClient(app, services, user.id, organisationId);
      await client.get('/account');
      await awaitFreshWindow(VERIFICATION_BY_USER);
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 3; attempt += 1) statuses.push((await client.post('/account/confirm-email', {})).statusCode);
      assert.deepEqual(statuses, [200, 200, 200]);
      const limited = await client.post('/account/confirm-email', {});
      assert.equal(limited.statusCode, 429);
      assert.match(limited.body, /href="#send-confirmation">You have asked for 3 confirmation emails in the last hour/);
      const mails = await handle.db.owner.selectFrom('outbox').select('id').where('recipient', '=', user.email).execute();
      assert.equal(mails.length, 3);
    });

    test('CSRF token is required', async () => {
      const user = await buildUser(handle.db, { member: { organisationId, role: 'viewer' } });
      const client = new WebClient(app);
      await client.get('/sign-in');
      const forged = await client.post('/sign-in', { _csrf: null, email: user.email, password: user.password });
      assert.equal(forged.statusCode, 403);
      await client.post('/sign-in', { email: user.email, password: user.password });
      await client.get('/account');
      const noToken = await client.post('/account/sign-out-everywhere', { _csrf: null });
      assert.equal(noToken.statusCode, 403);
      const wrongToken = await client.post('/account/sign-out-everywhere', { _csrf: 'x'.repeat(43) });
      assert.equal(wrongToken.statusCode, 403);
      assert.equal((await client.get('/account')).statusCode, 200, 'the rejected requests changed nothing');
    });

    test('sign out everywhere revokes all sessions', async () => {
      const user = await buildUser(handle.db, { member: { organisationId, role: 'viewer' } });
      const laptop = new WebClient(app);
      const phone = new WebClient(app);
      for (const client of [laptop, phone]) {
        await client.get('/sign-in');
        await client.post('/sign-in', { email: user.email, password: user.password });
      }
      await laptop.get('/account');
      const done = await laptop.post('/account/sign-out-everywhere', {});
      assert.equal(done.statusCode, 200);
      assert.equal((await phone.get('/account')).statusCode, 401);
      assert.equal((await laptop.get('/account')).statusCode, 401);
      const open = await handle.db.owner.selectFrom('sessions').select('id').where('user_id', '=', user.id).where('revoked_at', 'is', null).execute();
      assert.deepEqual(open, []);
    });

    test('session id rotates at sign-in', async () => {
      const user = await buildUser(handle.db, { member: { organisationId, role: 'viewer' } });
      const client = new WebClient(app);
      await client.get('/sign-in');
      await client.post('/sign-in', { email: user.email, password: user.password });
      const firstCookie = client.cookies.get('civic_session');
      await client.get('/sign-in');
      await client.post('/sign-in', { email: user.email, password: user.password });
      const secondCookie = client.cookies.get('civic_session');
      assert.ok(firstCookie && secondCookie);
      assert.notEqual(firstCookie, secondCookie);
      const sessions = await handle.db.owner.selectFrom('sessions').select(['revoked_at']).where('user_id', '=', user.id).orderBy('created_at').execute();
      assert.equal(sessions.length, 2);
      assert.ok(sessions[0]!.revoked_at instanceof Date, 'the earlier session is revoked');
    });

    test('second factor limited per account', async () => {
      const officer = await buildUser(handle.db, { member: { organisationId, role: 'data_protection_officer' } });
      await startCompleteSession(services, officer.id, organisationId);
      const first = new WebClient(app);
      await first.get('/sign-in');
      const signedIn = await first.post('/sign-in', { email: officer.email, password: officer.password });
      assert.equal(signedIn.headers.location, '/sign-in/two-factor');
      await first.get('/sign-in/two-factor');

      // Each guess comes from another client address, with the same waiting session.
      await awaitFreshWindow(SECOND_FACTOR_BY_USER);
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 11; attempt += 1) {
        const guesser = new WebClient(app);
        for (const [name, value] of first.cookies) guesser.cookies.set(name, value);
        guesser.csrfToken = first.csrfToken;
        statuses.push((await guesser.post('/sign-in/two-factor', { code: '000000' })).statusCode);
      }
      assert.deepEqual(statuses.slice(0, 10), Array(10).fill(400));
      assert.equal(statuses[10], 429);
      const account = await first.get('/account');
      assert.equal(account.headers.location, '/sign-in/two-factor', 'the session still waits for its second factor');
    });

    test('sign-in is rate limited', async () => {
      const client = new WebClient(app);
      await client.get('/sign-in');
      await awaitFreshWindow(SIGN_IN_BY_EMAIL);
      const statuses: number[] = [];
      let last: Awaited<ReturnType<WebClient['post']>> | undefined;
      for (let attempt = 0; attempt < 11; attempt += 1) {
        last = await client.post('/sign-in', { email: 'limited@example.org', password: 'wrong password' });
        statuses.push(last.statusCode);
      }
      assert.deepEqual(statuses.slice(0, 10), Array(10).fill(400));
      assert.equal(statuses[10], 429);
      const retryAfter = Number(last!.headers['retry-after']);
      assert.ok(Number.isInteger(retryAfter), `Retry-After is ${last!.headers['retry-after']}`);
      assert.ok(retryAfter >= 1, `Retry-After is ${retryAfter}`);
      assert.ok(retryAfter <= 300, `Retry-After is ${retryAfter}`);
      assert.match(last!.body, /Wait \d+ minutes? and try again/);
      const counters = await handle.db.owner.selectFrom('rate_limit_counters').selectAll().where('bucket', '=', 'sign_in_email').execute();
      assert.ok(counters.every((row) => !row.key_hash.includes('limited')));
    });
  });
}
