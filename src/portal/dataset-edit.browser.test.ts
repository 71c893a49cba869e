import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { checkPage, mainText, visitAndCheck, type BrowserHarness } from '../../test/helpers/browser.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { startStewardBrowser } from '../../test/helpers/steward-browser.ts';
import type { RunningServer } from '../main.ts';

// Browser suites run on the embedded engine only; the route tests cover both engines.
const engine = testEngines()[0]!;

describe('edit dataset details in Chromium', () => {
  let harness: BrowserHarness;
  let server: RunningServer;
  let close: () => Promise<void>;
  let page: Page;

  before(async () => {
    ({ harness, server, page, close } = await startStewardBrowser(engine));
  });

  after(async () => {
    await close?.();
  });

  test('steward edits details from the dataset page', async () => {
    await visitAndCheck(page, `${server.url}/dataset/land-and-building-assets`, { expectText: 'Edit dataset details', label: 'dataset-with-edit-link' });
    await page.getByRole('link', { name: /Edit dataset details/ }).click();
    await page.waitForURL(/\/dataset\/land-and-building-assets\/edit$/);
    await checkPage(page, page.url(), { expectText: 'Time period covered', label: 'dataset-edit' });

    await page.getByLabel('Description').fill('Land and buildings the council owns.');
    await page.getByLabel('Tags').fill('assets, land, property');
    await page.getByLabel('Quarterly').check();
    await page.getByRole('group', { name: 'Start date' }).getByLabel('Day').fill('1');
    await page.getByRole('group', { name: 'Start date' }).getByLabel('Month').fill('4');
    await page.getByRole('group', { name: 'Start date' }).getByLabel('Year').fill('2025');
    await page.getByRole('group', { name: 'End date' }).getByLabel('Day').fill('31');
    await page.getByRole('group', { name: 'End date' }).getByLabel('Month').fill('13');
    await page.getByRole('group', { name: 'End date' }).getByLabel('Year').fill('2026');
    await page.getByLabel('Area covered').fill('Thurrock');
    await page.getByRole('button', { name: 'Save details' }).click();

    await page.locator('.govuk-error-summary').waitFor();
    assert.match(await page.title(), /^Error: Edit dataset details/);
    assert.match(await page.locator('.govuk-error-summary').innerText(), /End date must be a real date/);
    assert.equal(await page.getByLabel('Description').inputValue(), 'Land and buildings the council owns.');
    assert.equal(await page.getByRole('group', { name: 'End date' }).getByLabel('Month').inputValue(), '13');
    await checkPage(page, page.url(), { label: 'dataset-edit-errors' });

    await page.getByRole('link', { name: 'End date must be a real date' }).click();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'temporalEnd-day');
    await page.getByRole('group', { name: 'End date' }).getByLabel('Month').fill('3');
    await page.getByRole('button', { name: 'Save details' }).click();
    await page.waitForURL(/\/dataset\/land-and-building-assets\?saved=details$/);
    await checkPage(page, page.url(), { expectText: 'Dataset details saved.', label: 'dataset-details-saved' });
    const text = await mainText(page);
    assert.match(text, /Update frequency\s+Quarterly/);
    assert.match(text, /Time period covered\s+1 April 2025 to 31 March 2026/);
    assert.match(text, /Tags\s+assets, land, property/);
  });

  test('form works without JavaScript', async () => {
    const noScript = await harness.noScriptContext.newPage();
    await noScript.goto(`${server.url}/dataset/spending-over-500/edit`);
    await noScript.getByLabel('Title').fill('');
    await noScript.getByRole('button', { name: 'Save details' }).click();
    await noScript.locator('.govuk-error-summary').waitFor();
    assert.match(await mainText(noScript), /Enter a title/);
    await noScript.getByLabel('Title').fill('Council spending over £500');
    await noScript.getByRole('button', { name: 'Save details' }).click();
    await noScript.waitForURL(/\/dataset\/spending-over-500\?saved=details$/);
    assert.match(await mainText(noScript), /Council spending over £500/);
    await noScript.close();
  });
});
