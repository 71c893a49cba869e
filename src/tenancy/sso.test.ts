import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildOrganisation, buildUser, memberAuth, signedInClient } from '../../test/helpers/accounts.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { CookieJar, startOidcProvider, type RunningProvider } from '../../test/helpers/oidc-provider.ts';
import { testServices, startTestServer } from '../../test/helpers/services.ts';
import { setPlatformScope } from '../db/tenant.ts';
import type { RunningServer } from '../main.ts';
import type { Services } from '../services.ts';
import { issuerProblem, SSO_CALLBACK_PATH } from './sso.service.ts';

const CLIENT_SECRET = 'test-client-secret-of-thurrock-partners';

describe('issuer URLs', () => {
  test('https and loopback http only', () => {
    assert.equal(issuerProblem('https://login.microsoftonline.com/abc/v2.0'), null);
    assert.equal(issuerProblem('http://127.0.0.1:4000'), null);
    assert.equal(issuerProblem('http://localhost:4000'), null);
    assert.match(issuerProblem('http://idp.example.org') ?? '', /starts with https/);
    assert.match(issuerProblem('not a url') ?? '', /full URL/);
    assert.match(issuerProblem('https://user:pass@idp.example.org') ?? '', /without a user name/);
  });
});

for (const engine of testEngines()) {
  describe(`single sign-on on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let services: Services;
    let server: RunningServer;
    let provider: RunningProvider;
    let organisationId: string;
    let adminId: string;

    before(async () => {
      handle = await engine.create();
      services = testServices(handle.db);
      server = await startTestServer(services);
      services.config.publicUrl = server.url;
      provider = await startOidcProvider({
        accounts: [
          { login: 'sam', password: 'provider password', email: 'sam.jones@nhs-partner.test', emailVerified: true },
          { login: 'invited', password: 'provider password', email: 'lee.invited@nhs-partner.test', emailVerified: true },
          { login: 'unverified', password: 'provider password', email: 'kim@nhs-partner.test', emailVerified: false },
          { login: 'outsider', password: 'provider password', email: 'pat@elsewhere.test', emailVerified: true },
          { login: 'officer', password: 'provider password', email: 'dee.officer@nhs-partner.test', emailVerified: true, amr: ['pwd'] },
          { login: 'officer-mfa', password: 'provider password', email: 'ash.officer@nhs-partner.test', emailVerified: true, amr: ['pwd', 'otp'] },
          { login: 'promoted', password: 'provider password', email: 'ray.promoted@nhs-partner.test', emailVerified: true },
        ],
        clients: [{ clientId: 'civic-exchange', clientSecret: CLIENT_SECRET, redirectUri: `${server.url}${SSO_CALLBACK_PATH}` }],
      });
      const organisation = await buildOrganisation(handle.db, { slug: 'nhs-partner' });
      organisationId = organisation.id;
      await handle.db.app.transaction().execute(async (trx) => {
        await setPlatformScope(trx);
        await trx.updateTable('organisations').set({ email_domains: ['nhs-partner.test'] }).where('id', '=', organisationId).execute();
      });
      adminId = (await buildUser(handle.db, { member: { organisationId, role: 'administrator' } })).id;
    });
    after(async () => {
      await provider.close();
      await server.close();
      await handle.drop();
    });

    const saveSettings = async (justInTime: boolean) => {
      const admin = await signedInClient(server.app, services, adminId, organisationId);
      await admin.get('/organisation/settings');
      const options = ['enabled', ...(justInTime ? ['justInTime'] : [])];
      const form = new URLSearchParams({ _csrf: admin.csrfToken!, issuer: provider.issuer, clientId: 'civic-exchange', clientSecret: CLIENT_SECRET });
      for (const option of options) form.append('options', option);
      const response = await server.app.inject({
        method: 'POST',
        url: '/organisation/settings/sso',
        headers: { cookie: [...admin.cookies].map(([name, value]) => `${name}=${value}`).join('; '), 'content-type': 'application/x-www-form-urlencoded' },
        payload: form.toString(),
      });
      assert.equal(response.statusCode, 200, response.body);
    };

    /** Signs on through the provider as `login`, returning the final response from Civic Exchange. */
    const signOn = async (login: string, emailOrOrganisation: string) => {
      const jar = new CookieJar();
      const signInPage = await jar.fetch(new URL('/sign-in', server.url));
      const csrf = /name="_csrf" value="([^"]+)"/.exec(await signInPage.text())![1]!;
      const start = await jar.fetch(new URL('/sign-in/sso', server.url), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: csrf, email: emailOrOrganisation }).toString(),
      });
      const continuePage = await start.text();
      assert.equal(start.status, 200, continuePage);
      const href = /id="continue-sign-in"[^>]*href="([^"]+)"|href="([^"]+)"[^>]*id="continue-sign-in"/.exec(continuePage);
      const authorizationUrl = new URL((href![1] ?? href![2])!.replace(/&amp;/g, '&'));
      assert.equal(authorizationUrl.origin, provider.issuer);
      assert.equal(authorizationUrl.searchParams.get('code_challenge_method'), 'S256');
      assert.ok(authorizationUrl.searchParams.get('nonce'));
      const loginForm = await jar.follow(authorizationUrl);
      assert.match(await loginForm.response.text(), /Sign in to the test identity provider/);
      const submitted = await jar.fetch(new URL(`${loginForm.url.pathname}/login`, provider.issuer), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ login, password: 'provider password' }).toString(),
      });
      assert.equal(submitted.status, 303);
      const finished = await jar.follow(new URL(submitted.headers.get('location')!, provider.issuer));
      return { jar, ...finished };
    };

    test('settings keep the secret sealed', async () => {
      await saveSettings(false);
      const row = await handle.db.owner.selectFrom('organisation_sso').selectAll().where('organisation_id', '=', organisationId).executeTakeFirstOrThrow();
      assert.equal(row.issuer, provider.issuer);
      assert.match(row.client_secret_encrypted, /^v1\./);
      assert.equal(row.client_secret_encrypted.includes(CLIENT_SECRET), false);
      const admin = await signedInClient(server.app, services, adminId, organisationId);
      const page = await admin.get('/organisation/settings');
      assert.equal(page.body.includes(CLIENT_SECRET), false, 'the secret is never shown again');
      assert.match(page.body, /value="civic-exchange"/);
      const audit = await handle.db.owner.selectFrom('audit_log').select('details').where('action', '=', 'organisation.sso_updated').execute();
      assert.equal(JSON.stringify(audit).includes(CLIENT_SECRET), false);
    });

    test('bad settings show the error summary', async () => {
      const admin = await signedInClient(server.app, services, adminId, organisationId);
      await admin.get('/organisation/settings');
      const response = await admin.post('/organisation/settings/sso', { issuer: 'http://idp.example.org', clientId: '', clientSecret: '' });
      assert.equal(response.statusCode, 400);
      assert.match(response.body, /href="#issuer">Enter an issuer URL that starts with https:\/\//);
      assert.match(response.body, /href="#clientId">Enter the client ID/);
      assert.match(response.body, /value="http:\/\/idp.example.org"/);
    });

    test('without an invitation sign-on is refused', async () => {
      await saveSettings(false);
      const { response, url } = await signOn('sam', 'sam.jones@nhs-partner.test');
      assert.equal(url.pathname, SSO_CALLBACK_PATH);
      assert.equal(response.status, 403);
      assert.match(await response.text(), /You need an invitation to join/);
      const user = await handle.db.owner.selectFrom('users').select('id').where('email', '=', 'sam.jones@nhs-partner.test').executeTakeFirst();
      assert.equal(user, undefined);
    });

    test('invited member signs on', async () => {
      await saveSettings(false);
      await services.tenancy.members.invite(memberAuth(adminId, organisationId, 'administrator'), 'lee.invited@nhs-partner.test', 'analyst');
      const message = await handle.db.owner.selectFrom('outbox').select('text_body').where('recipient', '=', 'lee.invited@nhs-partner.test').executeTakeFirstOrThrow();
      const token = /\/invitations\/([A-Za-z0-9_-]{43})/.exec(message.text_body)![1]!;
      await services.tenancy.members.accept(token, null, { displayName: 'Lee', password: 'granite meadow kettle' });
      const { response, url } = await signOn('invited', 'nhs-partner');
      assert.equal(url.pathname, '/organisation');
      assert.equal(response.status, 200);
      assert.match(await response.text(), /Organisation nhs-partner/);
      const session = await handle.db.owner.selectFrom('sessions').innerJoin('users', 'users.id', 'sessions.user_id').select(['sessions.via', 'sessions.current_organisation_id']).where('users.email', '=', 'lee.invited@nhs-partner.test').executeTakeFirstOrThrow();
      assert.equal(session.via, 'single_sign_on');
      assert.equal(session.current_organisation_id, organisationId);
    });

    test('just-in-time account becomes a viewer', async () => {
      await saveSettings(true);
      const before = provider.logins();
      const { response } = await signOn('sam', 'sam.jones@nhs-partner.test');
      assert.equal(response.status, 200);
      assert.equal(provider.logins(), before + 1);
      const user = await handle.db.owner.selectFrom('users').selectAll().where('email', '=', 'sam.jones@nhs-partner.test').executeTakeFirstOrThrow();
      assert.equal(user.password_hash, null);
      assert.notEqual(user.email_verified_at, null);
      const membership = await handle.db.owner.selectFrom('memberships').select('role').where('user_id', '=', user.id).where('organisation_id', '=', organisationId).executeTakeFirstOrThrow();
      assert.equal(membership.role, 'viewer');
      const audit = await handle.db.owner.selectFrom('audit_log').select('details').where('action', '=', 'user.signed_in').where('actor_user_id', '=', user.id).executeTakeFirstOrThrow();
      assert.deepEqual(audit.details, { via: 'single_sign_on', new_account: true, new_membership: true, provider_second_factor: false });
    });

    /** Invites `email` with `role` and accepts the invitation with a password, as the person would. */
    const inviteMember = async (email: string, role: 'analyst' | 'data_protection_officer') => {
      await services.tenancy.members.invite(memberAuth(adminId, organisationId, 'administrator'), email, role);
      const message = await handle.db.owner.selectFrom('outbox').select('text_body').where('recipient', '=', email).executeTakeFirstOrThrow();
      const token = /\/invitations\/([A-Za-z0-9_-]{43})/.exec(message.text_body)![1]!;
      await services.tenancy.members.accept(token, null, { displayName: email.split('@')[0]!, password: 'granite meadow kettle' });
    };
    const ssoSession = (email: string) =>
      handle.db.owner.selectFrom('sessions').innerJoin('users', 'users.id', 'sessions.user_id').select(['sessions.stage', 'sessions.second_factor_at']).where('users.email', '=', email).orderBy('sessions.created_at', 'desc').executeTakeFirstOrThrow();

    test('officer without provider factors sets up TOTP', async () => {
      await saveSettings(false);
      await inviteMember('dee.officer@nhs-partner.test', 'data_protection_officer');
      const { jar, response, url } = await signOn('officer', 'dee.officer@nhs-partner.test');
      assert.equal(url.pathname, '/account/two-factor/setup');
      assert.equal(response.status, 200);
      const session = await ssoSession('dee.officer@nhs-partner.test');
      assert.equal(session.stage, 'second_factor_setup');
      assert.equal(session.second_factor_at, null);
      const organisationPage = await jar.fetch(new URL('/organisation', server.url));
      assert.notEqual(organisationPage.status, 200, 'the organisation page waits for the second factor');
      const audit = await handle.db.owner.selectFrom('audit_log').select(['action', 'details']).where('action', 'like', 'user.sso%').orderBy('occurred_at', 'desc').executeTakeFirstOrThrow();
      assert.equal(audit.action, 'user.sso_accepted');
      assert.equal((audit.details as { stage: string }).stage, 'second_factor_setup');
    });

    test('provider with several factors counts as second', async () => {
      await saveSettings(false);
      await inviteMember('ash.officer@nhs-partner.test', 'data_protection_officer');
      const { response, url } = await signOn('officer-mfa', 'ash.officer@nhs-partner.test');
      assert.equal(url.pathname, '/organisation');
      assert.equal(response.status, 200);
      const session = await ssoSession('ash.officer@nhs-partner.test');
      assert.equal(session.stage, 'complete');
      assert.notEqual(session.second_factor_at, null);
    });

    test('promotion during a sign-on session asks for TOTP', async () => {
      await saveSettings(false);
      await inviteMember('ray.promoted@nhs-partner.test', 'analyst');
      const { jar, url } = await signOn('promoted', 'ray.promoted@nhs-partner.test');
      assert.equal(url.pathname, '/organisation');
      const user = await handle.db.owner.selectFrom('users').select('id').where('email', '=', 'ray.promoted@nhs-partner.test').executeTakeFirstOrThrow();
      await handle.db.owner.updateTable('memberships').set({ role: 'administrator' }).where('user_id', '=', user.id).where('organisation_id', '=', organisationId).execute();
      const after = await jar.fetch(new URL('/organisation', server.url));
      assert.notEqual(after.status, 200, 'the administrator must give a second factor first');
      assert.equal((await ssoSession('ray.promoted@nhs-partner.test')).stage, 'second_factor_setup');
    });

    test('unverified email is refused', async () => {
      await saveSettings(true);
      const { response } = await signOn('unverified', 'kim@nhs-partner.test');
      assert.equal(response.status, 403);
      assert.match(await response.text(), /did not confirm a verified email address/);
      assert.equal(await handle.db.owner.selectFrom('users').select('id').where('email', '=', 'kim@nhs-partner.test').executeTakeFirst(), undefined);
    });

    test('email outside the domains is refused', async () => {
      await saveSettings(true);
      const { response } = await signOn('outsider', 'nhs-partner');
      assert.equal(response.status, 403);
      assert.match(await response.text(), /not in a domain of/);
      assert.equal(await handle.db.owner.selectFrom('users').select('id').where('email', '=', 'pat@elsewhere.test').executeTakeFirst(), undefined);
    });

    test('callback from another browser is refused', async () => {
      await saveSettings(true);
      const started = await services.tenancy.sso.start('sam.jones@nhs-partner.test');
      const callback = new URL(SSO_CALLBACK_PATH, server.url);
      callback.searchParams.set('state', started.state);
      callback.searchParams.set('code', 'made-up-code');
      const response = await new CookieJar().fetch(callback);
      assert.equal(response.status, 401);
      assert.match(await response.text(), /Single sign-on did not complete/);
    });

    test('unknown domain shows the form error', async () => {
      const jar = new CookieJar();
      const page = await jar.fetch(new URL('/sign-in', server.url));
      const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]!;
      const response = await jar.fetch(new URL('/sign-in/sso', server.url), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: csrf, email: 'someone@unknown-domain.test' }).toString(),
      });
      assert.equal(response.status, 400);
      const body = await response.text();
      assert.match(body, /href="#sso-email">Single sign-on is not set up for that email address/);
      assert.match(body, /value="someone@unknown-domain.test"/);
    });
  });
}
