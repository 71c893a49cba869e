import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { RunningServer } from '../../src/main.ts';
import { assertAccessible, launchBrowser, visitAndCheck, type BrowserHarness } from '../helpers/browser.ts';
import { testEngines } from '../helpers/engines.ts';
import { startTestServer, testServices } from '../helpers/services.ts';

// Browser suites run on the embedded engine only, to keep the run short; the route tests cover both engines.
const engine = testEngines()[0]!;

describe('shared layout in Chromium', () => {
  let harness: BrowserHarness;
  let server: RunningServer;
  let drop: () => Promise<void>;
  let page: Page;

  before(async () => {
    const created = await engine.create();
    drop = created.drop;
    server = await startTestServer(testServices(created.db));
    harness = await launchBrowser();
    page = await harness.context.newPage();
  });

  after(async () => {
    await harness?.close();
    await server?.close();
    await drop?.();
  });

  test('404 page passes checks', async () => {
    await visitAndCheck(page, `${server.url}/no-such-page`, { status: 404, expectText: 'Page not found', label: 'not-found' });
    const font = await page.evaluate(() => getComputedStyle(document.body).fontFamily);
    assert.doesNotMatch(font, /GDS Transport/);
    assert.equal(await page.locator('html').getAttribute('lang'), 'en-GB');
    assert.equal(await page.locator('body.js-enabled').count(), 1, 'the nonce-carrying inline script ran');
  });

  test('axe check catches violations', async () => {
    const scratch = await harness.context.newPage();
    await scratch.setContent('<html><body><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><input type="text"></body></html>');
    await assert.rejects(assertAccessible(scratch), (error: Error) => /image-alt/.test(error.message) && /html-has-lang/.test(error.message));
    await scratch.close();
  });
});
