import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { buildOrganisation, buildUser, startSessionFor } from '../../test/helpers/accounts.ts';
import { checkPage, launchBrowser, mainText, visitAndCheck, type BrowserHarness } from '../../test/helpers/browser.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { startOidcProvider, type RunningProvider } from '../../test/helpers/oidc-provider.ts';
import { startTestServer, testServices } from '../../test/helpers/services.ts';
import { setPlatformScope } from '../db/tenant.ts';
import type { RunningServer } from '../main.ts';
import type { Services } from '../services.ts';
import { SSO_CALLBACK_PATH } from './sso.service.ts';

// Browser suites run on the embedded engine only; the route tests cover both engines.
const engine = testEngines()[0]!;

describe('tenancy pages in Chromium', () => {
  let harness: BrowserHarness;
  let server: RunningServer;
  let services: Services;
  let provider: RunningProvider;
  let drop: () => Promise<void>;
  let page: Page;
  let organisationId: string;
  let adminId: string;

  before(async () => {
    const created = await engine.create();
    drop = created.drop;
    services = testServices(created.db);
    server = await startTestServer(services);
    services.config.publicUrl = server.url;
    provider = await startOidcProvider({
      accounts: [{ login: 'alex', password: 'provider password', email: 'alex.morgan@essex-police.test', emailVerified: true }],
      clients: [{ clientId: 'civic-exchange', clientSecret: 'browser-test-secret', redirectUri: `${server.url}${SSO_CALLBACK_PATH}` }],
    });
    const organisation = await buildOrganisation(created.db, { slug: 'essex-police' });
    organisationId = organisation.id;
    await created.db.app.transaction().execute(async (trx) => {
      await setPlatformScope(trx);
      await trx.updateTable('organisations').set({ name: 'Essex Police', email_domains: ['essex-police.test'], type: 'police' }).where('id', '=', organisationId).execute();
    });
    adminId = (await buildUser(created.db, { member: { organisationId, role: 'administrator' } })).id;
    harness = await launchBrowser();
    page = await harness.context.newPage();
  });

  after(async () => {
    await harness?.close();
    await provider?.close();
    await server?.close();
    await drop?.();
  });

  /** Signs both browser contexts in as `userId` through a session cookie. */
  const signIn = async (userId: string, organisation: string | null) => {
    const value = await startSessionFor(services, userId, organisation);
    for (const context of [harness.context, harness.noScriptContext]) {
      await context.clearCookies();
      await context.addCookies([{ name: services.accounts.sessions.cookieName, value, url: server.url }]);
    }
  };

  test('register page and its errors', async () => {
    await visitAndCheck(page, `${server.url}/register`, { expectText: 'Register an organisation', label: 'register' });
    await page.getByLabel('Organisation name').fill('Tilbury Youth Club');
    await page.getByLabel('School', { exact: true }).check();
    await page.getByRole('button', { name: 'Register organisation' }).click();
    await page.locator('.govuk-error-summary').waitFor();
    assert.match(await page.title(), /^Error: Register an organisation/);
    const summary = await page.locator('.govuk-error-summary').innerText();
    assert.match(summary, /Enter the school unique reference number of the organisation/);
    assert.match(summary, /Enter the email domain your organisation uses/);
    assert.equal(await page.getByLabel('Organisation name').inputValue(), 'Tilbury Youth Club');
    await checkPage(page, page.url(), { label: 'register-errors' });
  });

  test('administrator pages pass checks', async () => {
    await signIn(adminId, organisationId);
    await visitAndCheck(page, `${server.url}/organisation`, { expectText: 'Essex Police', label: 'organisation' });
    assert.equal(await page.getByRole('link', { name: 'Data you can receive' }).getAttribute('href'), '/exchange');
    await visitAndCheck(page, `${server.url}/organisation/members`, { expectText: 'Invite someone', label: 'organisation-members' });
    await visitAndCheck(page, `${server.url}/organisation/settings`, { expectText: 'Single sign-on', label: 'organisation-settings' });
    await visitAndCheck(page, `${server.url}/account/two-factor/setup`, { expectText: 'Scan this QR code', label: 'two-factor-setup' });
    assert.equal(await page.getByRole('img', { name: 'QR code of the set-up link for your authenticator app' }).count(), 1);
  });

  test('account page with two organisations', async () => {
    const second = await buildOrganisation(services.db, { status: 'pending', slug: 'tilbury-allotments' });
    const volunteer = await buildUser(services.db, { member: { organisationId, role: 'viewer' } });
    await services.db.app.transaction().execute(async (trx) => {
      await setPlatformScope(trx);
      await trx.insertInto('memberships').values({ organisation_id: second.id, user_id: volunteer.id, role: 'analyst' }).execute();
    });
    await signIn(volunteer.id, organisationId);
    await visitAndCheck(page, `${server.url}/account`, { expectText: 'Your organisations', label: 'account-organisations' });
    await page.getByRole('button', { name: 'Act for Organisation tilbury-allotments' }).click();
    await page.waitForURL(`${server.url}/organisation`);
    assert.match(await mainText(page), /Organisation tilbury-allotments/);
  });

  test('platform pages pass checks', async () => {
    const platformAdmin = await buildUser(services.db, { platformAdmin: true });
    await buildOrganisation(services.db, { status: 'pending', slug: 'grays-allotments' });
    await signIn(platformAdmin.id, null);
    await visitAndCheck(page, `${server.url}/admin/organisations`, { expectText: 'Waiting for review', label: 'admin-organisations' });
    await visitAndCheck(page, `${server.url}/admin/outbox`, { expectText: 'Outbox', label: 'admin-outbox' });
  });

  test('single sign-on end to end', async () => {
    await signIn(adminId, organisationId);
    await page.goto(`${server.url}/organisation/settings`);
    await page.getByLabel('Issuer URL').fill(provider.issuer);
    await page.getByLabel('Client ID').fill('civic-exchange');
    await page.getByLabel('Client secret').fill('browser-test-secret');
    await page.getByLabel('Create accounts at first sign-in').check();
    await page.getByRole('button', { name: 'Save single sign-on' }).click();
    await page.getByText('Single sign-on settings saved.').waitFor();

    await harness.context.clearCookies();
    await visitAndCheck(page, `${server.url}/sign-in`, { expectText: 'Sign in with your organisation', label: 'sign-in' });
    await page.getByLabel('Work email address').fill('alex.morgan@essex-police.test');
    await page.getByRole('button', { name: 'Continue with single sign-on' }).click();
    await page.waitForURL(`${provider.issuer}/interaction/**`);
    await page.getByLabel('User name').fill('alex');
    await page.getByLabel('Password').fill('provider password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${server.url}/organisation`);
    // The provider's own pages are not ours to check; only problems seen from here on count.
    harness.takeProblems();
    assert.match(await mainText(page), /Essex Police/);
    await checkPage(page, page.url(), { label: 'organisation-after-sso' });
    const user = await services.db.owner.selectFrom('users').innerJoin('memberships', 'memberships.user_id', 'users.id').select(['memberships.role']).where('users.email', '=', 'alex.morgan@essex-police.test').executeTakeFirstOrThrow();
    assert.equal(user.role, 'viewer');
  });
});
