import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { checkPage, mainText, visitAndCheck, type BrowserHarness } from '../../test/helpers/browser.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { openScriptlessPage, startStewardBrowser } from '../../test/helpers/steward-browser.ts';
import type { RunningServer } from '../main.ts';

// Browser suites run on the embedded engine only; the route tests cover both engines.
const engine = testEngines()[0]!;
const INGEST_FIXTURES = path.resolve(import.meta.dirname, '../../test/fixtures/ingest');

describe('upload a new version in Chromium', () => {
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

  test('steward uploads from the dataset page', async () => {
    await visitAndCheck(page, `${server.url}/dataset/spending-over-500`, { expectText: 'Upload a new version', label: 'dataset-with-upload-link' });
    await page.getByRole('link', { name: /Upload a new version/ }).click();
    await page.waitForURL(/\/dataset\/spending-over-500\/upload$/);
    await checkPage(page, page.url(), { expectText: 'Who can see the data?', label: 'dataset-upload' });

    await page.getByLabel('Private').check();
    await page.getByRole('button', { name: 'Upload file' }).click();
    await page.locator('.govuk-error-summary').waitFor();
    assert.match(await page.title(), /^Error: Upload a new version/);
    assert.match(await page.locator('.govuk-error-summary').innerText(), /Select a CSV, XLSX or ODS file to upload/);
    assert.equal(await page.getByLabel('Private').isChecked(), true);
    await checkPage(page, page.url(), { label: 'dataset-upload-errors' });
    await page.getByRole('link', { name: 'Select a CSV, XLSX or ODS file to upload' }).click();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'file');

    await page.getByLabel('Upload a file').setInputFiles(path.join(INGEST_FIXTURES, 'totals.csv'));
    await page.getByLabel('Open').check();
    await page.getByRole('button', { name: 'Upload file' }).click();
    await page.waitForURL(/\/dataset\/spending-over-500\/resource\/[0-9a-f-]+\/report$/);
    await checkPage(page, page.url(), { expectText: 'Version 3 loaded', label: 'dataset-load-report' });
    const text = await mainText(page);
    assert.match(text, /Rows loaded\s+2 rows/);
    assert.match(text, /Delimiter\s+Comma \(,\)/);
    assert.match(text, /Character encoding\s+UTF-8/);
    assert.match(text, /Amount\s+amount\s+Number/);
    assert.match(text, /Warnings[\s\S]*total/i);
  });

  test('upload works without JavaScript', async () => {
    const noScript = await harness.noScriptContext.newPage();
    try {
      await noScript.goto(`${server.url}/dataset/land-and-building-assets/upload`);
      await noScript.getByLabel('Upload a file').setInputFiles(path.join(INGEST_FIXTURES, 'two-sheets.xlsx'));
      await noScript.getByRole('button', { name: 'Upload file' }).click();
      await noScript.locator('.govuk-error-summary').waitFor();
      const summary = await noScript.locator('.govuk-error-summary').innerText();
      assert.match(summary, /two-sheets\.xlsx has 2 sheets with data: "([^"]+)"/);

      const sheet = /sheets with data: "([^"]+)"/.exec(summary)![1]!;
      await noScript.getByLabel('Sheet name (optional)').fill(sheet);
      await noScript.getByLabel('Upload a file').setInputFiles(path.join(INGEST_FIXTURES, 'two-sheets.xlsx'));
      await noScript.getByRole('button', { name: 'Upload file' }).click();
      await noScript.waitForURL(/\/report$/);
      const text = await mainText(noScript);
      assert.match(text, /Version \d+ loaded/);
      assert.match(text, new RegExp(`Sheet\\s+${sheet}`));
      assert.deepEqual(harness.takeProblems(), []);
    } finally {
      await noScript.close();
    }
  });

  test('no-script pages pass axe', async () => {
    const { page: scriptless, checkAsRendered, close: closeScriptless } = await openScriptlessPage(harness, server.url);
    try {
      await scriptless.goto(`${server.url}/dataset/spending-over-500/upload`);
      await checkAsRendered();
      await scriptless.getByLabel('Upload a file').setInputFiles(path.join(INGEST_FIXTURES, 'surplus-cell.csv'));
      await scriptless.getByRole('button', { name: 'Upload file' }).click();
      await scriptless.locator('.govuk-error-summary').waitFor();
      assert.match(await scriptless.locator('.govuk-error-summary').innerText(), /line 4 of surplus-cell\.csv has a value in column 3/);
      await checkAsRendered();
      await scriptless.getByLabel('Upload a file').setInputFiles(path.join(INGEST_FIXTURES, 'totals.csv'));
      await scriptless.getByRole('button', { name: 'Upload file' }).click();
      await scriptless.waitForURL(/\/report$/);
      await checkAsRendered();
    } finally {
      await closeScriptless();
    }
  });
});
