import type { Page } from 'playwright-core';
import { PLATFORM_SCOPE } from '../../src/catalogue/catalogue.types.ts';
import type { RunningServer } from '../../src/main.ts';
import { insertPortalCatalogue } from '../../src/portal/portal.test-data.ts';
import type { Services } from '../../src/services.ts';
import { buildUser, startSessionFor } from './accounts.ts';
import { assertAccessible, launchBrowser, type BrowserHarness } from './browser.ts';
import type { TestEngine } from './engines.ts';
import { startTestServer, testServices } from './services.ts';

/** The portal's test catalogue served on loopback, with Chromium signed in as a data steward of Thurrock Council. */
export interface StewardBrowser {
  harness: BrowserHarness;
  server: RunningServer;
  services: Services;
  /** A page in the context with JavaScript; `harness.noScriptContext` is signed in too. */
  page: Page;
  close(): Promise<void>;
}

/** Starts the catalogue, the server and Chromium, with the steward's session cookie in both browser contexts. */
export async function startStewardBrowser(engine: TestEngine): Promise<StewardBrowser> {
  const created = await engine.create();
  await insertPortalCatalogue(created.db);
  const services = testServices(created.db, { publicUrl: 'http://127.0.0.1' });
  const server = await startTestServer(services);
  const council = await services.catalogue.getOrganisation(PLATFORM_SCOPE, 'thurrock-council');
  const steward = await buildUser(created.db, { member: { organisationId: council.id, role: 'data_steward' } });
  const harness = await launchBrowser();
  const value = await startSessionFor(services, steward.id, council.id);
  for (const context of [harness.context, harness.noScriptContext]) {
    await context.addCookies([{ name: services.accounts.sessions.cookieName, value, url: server.url }]);
  }
  const page = await harness.context.newPage();
  return {
    harness,
    server,
    services,
    page,
    async close() {
      await harness.close();
      await server.close();
      await created.drop();
    },
  };
}

/** A page that renders as a browser without JavaScript does, and can still run axe-core. */
export interface ScriptlessPage {
  page: Page;
  /** Runs axe-core on the page as rendered, after removing the classes the service's inline script adds. */
  checkAsRendered(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens a page with the signed-in cookies of `harness.noScriptContext` in a context that blocks the service's scripts.
 * axe-core cannot run in a context with JavaScript turned off, so accessibility checks use this page in its place.
 */
export async function openScriptlessPage(harness: BrowserHarness, serverUrl: string): Promise<ScriptlessPage> {
  const context = await harness.browser.newContext({ locale: 'en-GB', viewport: { width: 1280, height: 900 } });
  await context.addCookies(await harness.noScriptContext.cookies(serverUrl));
  await context.route(/\.js(\?|$)/, (route) => route.abort());
  const page = await context.newPage();
  return {
    page,
    async checkAsRendered() {
      await page.evaluate(() => document.body.classList.remove('js-enabled', 'govuk-frontend-supported'));
      await assertAccessible(page);
    },
    close: () => context.close(),
  };
}
