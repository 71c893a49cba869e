import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { RunningServer } from '../../src/main.ts';
import { insertPortalCatalogue } from '../../src/portal/portal.test-data.ts';
import { checkPage, launchBrowser, mainText, visitAndCheck, type BrowserHarness } from '../helpers/browser.ts';
import { testEngines } from '../helpers/engines.ts';
import { startTestServer, testServices } from '../helpers/services.ts';

// Browser journeys run on the embedded engine only, to keep the run short; the route tests cover both engines.
const engine = testEngines()[0]!;

describe('portal journeys in Chromium', () => {
  let harness: BrowserHarness;
  let server: RunningServer;
  let drop: () => Promise<void>;
  let page: Page;

  before(async () => {
    const created = await engine.create();
    drop = created.drop;
    await insertPortalCatalogue(created.db);
    server = await startTestServer(testServices(created.db, { publicUrl: 'http://127.0.0.1' }));
    harness = await launchBrowser();
    page = await harness.context.newPage();
  });

  after(async () => {
    await harness?.close();
    await server?.close();
    await drop?.();
  });

  test('every page passes checks', async () => {
    const pages: Array<[string, string, number?]> = [
      ['/', 'Recently updated'],
      ['/datasets', '2 datasets'],
      ['/datasets?q=zebra', 'There are no matching results'],
      ['/dataset/spending-over-500', 'Use this data in your code'],
      ['/dataset/spending-over-500/preview', 'Showing rows 1 to 25 of 60'],
      ['/dataset/spending-over-500/chart', 'Total Amount (£) by Supplier Name'],
      ['/dataset/spending-over-500/chart?group=month:payment_date&type=line&agg=count', 'Number of rows by month of Payment Date'],
      ['/organisations', 'Thurrock Council'],
      ['/organisation/thurrock-council', 'Land and building assets'],
      ['/accessibility', 'Enforcement procedure'],
      ['/cookies', 'civic_session'],
      ['/api-guide', 'CKAN API'],
      ['/dataset/no-such-dataset', 'Page not found', 404],
      ['/dataset/spending-over-500/preview?sort=salary', 'is not a column of this dataset', 400],
      ['/dataset/spending-over-500/preview?filter-amount=lots', 'There is a problem', 400],
    ];
    for (const [path, text, status] of pages) {
      await visitAndCheck(page, `${server.url}${path}`, { expectText: text, status });
    }
  });

  test('search and filter', async () => {
    await page.goto(`${server.url}/`);
    await page.getByLabel('Search datasets').fill('spending');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/\/datasets\?q=spending/);
    await checkPage(page, page.url(), { expectText: '1 dataset found for “spending”' });

    await page.goto(`${server.url}/datasets`);
    await page.getByLabel(/Creative Commons Attribution 4.0/).check();
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/licence=CC-BY-4.0/);
    await checkPage(page, page.url(), { expectText: '1 dataset' });
    assert.match(await mainText(page), /Land and building assets/);
    assert.doesNotMatch(await mainText(page), /Spending over £500/);
  });

  test('search results read once', async () => {
    await checkPage(page, `${server.url}/datasets?q=spending`, { expectText: '1 dataset found for “spending”' });
    // The accessibility tree is what a screen reader reads out, so each phrase must appear in it exactly once.
    const result = page.locator('.civic-result-list > li').first();
    const spoken = (await result.ariaSnapshot()).replace(/\s+/g, ' ');
    const occurrences = (phrase: string) => spoken.split(phrase).length - 1;
    assert.equal(occurrences('Published by'), 1, spoken);
    assert.equal(occurrences('Last updated'), 1, spoken);
    assert.match(spoken, /Published by Thurrock Council/);
    assert.match(spoken, /Last updated 2 April 2026/);
    assert.match(spoken, /CSV file, 60 rows/);
  });

  test('open a dataset and page the preview', async () => {
    await page.goto(`${server.url}/datasets`);
    await page.getByRole('link', { name: 'Spending over £500' }).click();
    await page.waitForURL(/\/dataset\/spending-over-500$/);
    await checkPage(page, page.url(), { expectText: 'Version 2, loaded 2 April 2026: 60 rows, 4 columns.' });

    await page.getByRole('link', { name: /Preview the data/ }).click();
    await page.waitForURL(/\/preview$/);
    await page.getByRole('link', { name: /Next/ }).click();
    await page.waitForURL(/page=2/);
    await checkPage(page, page.url(), { expectText: 'Showing rows 26 to 50 of 60' });

    await page.getByLabel('Supplier Name').fill('bright');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/filter-supplier=bright/);
    await checkPage(page, page.url(), { expectText: 'Showing rows 1 to 15 of 15' });
  });

  test('draw a chart', async () => {
    await page.goto(`${server.url}/dataset/spending-over-500/chart`);
    await page.getByLabel('Grouped by').selectOption('service');
    await page.getByLabel('Chart type').selectOption('line');
    await page.getByRole('button', { name: 'Draw chart' }).click();
    await page.waitForURL(/group=service/);
    await checkPage(page, page.url(), { expectText: 'Total Amount (£) by Service Area' });
    const chart = page.locator('svg.civic-chart');
    assert.equal(await chart.getAttribute('role'), 'img');
    assert.match(await chart.locator('desc').textContent() ?? '', /The largest is Libraries at 8,405/);
  });

  test('download a CSV', async () => {
    await page.goto(`${server.url}/dataset/spending-over-500`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: /Download the latest version as CSV/ }).click()]);
    assert.equal(download.suggestedFilename(), 'spending-over-500-v2.csv');
    const file = await download.path();
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    assert.equal(lines[0], 'Payment Date,Supplier Name,Service Area,Amount (£)\r');
    assert.equal(lines[1], '2026-01-01,Acme Roads Ltd,Highways,100');
    assert.equal(lines.filter((line) => line !== '').length, 61);
  });

  test('filters work without JavaScript', async () => {
    const noScript = await harness.noScriptContext.newPage();
    await noScript.goto(`${server.url}/datasets`);
    await noScript.getByLabel(/^transparency/).check();
    await noScript.getByRole('button', { name: 'Apply filters' }).click();
    await noScript.waitForURL(/tag=transparency/);
    assert.match(await mainText(noScript), /1 dataset/);
    await noScript.goto(`${server.url}/dataset/spending-over-500/preview`);
    await noScript.getByLabel('Amount (£)').fill('lots');
    await noScript.getByRole('button', { name: 'Apply filters' }).click();
    await noScript.waitForURL(/filter-amount=lots/);
    assert.match(await mainText(noScript), /Amount \(£\) must be a number/);
    assert.equal(await noScript.getByLabel('Amount (£)').inputValue(), 'lots');
    await noScript.close();
  });
});
