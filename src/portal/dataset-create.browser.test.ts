import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { checkPage, mainText, visitAndCheck, type BrowserHarness } from '../../test/helpers/browser.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { openScriptlessPage, startStewardBrowser } from '../../test/helpers/steward-browser.ts';
import { PLATFORM_SCOPE } from '../catalogue/catalogue.types.ts';
import type { RunningServer } from '../main.ts';
import type { Services } from '../services.ts';

// Browser suites run on the embedded engine only; the route tests cover both engines.
const engine = testEngines()[0]!;
const INGEST_FIXTURES = path.resolve(import.meta.dirname, '../../test/fixtures/ingest');
const NEW_PAGE = '/organisation/thurrock-council/datasets/new';

describe('add a dataset in Chromium', () => {
  let harness: BrowserHarness;
  let server: RunningServer;
  let services: Services;
  let close: () => Promise<void>;
  let page: Page;

  before(async () => {
    ({ harness, server, services, page, close } = await startStewardBrowser(engine));
  });

  after(async () => {
    await close?.();
  });

  test('steward adds from the organisation page', async () => {
    await visitAndCheck(page, `${server.url}/organisation/thurrock-council`, { expectText: 'Add a dataset', label: 'organisation-with-add-link' });
    await page.getByRole('button', { name: 'Add a dataset' }).click();
    await page.waitForURL(/\/organisation\/thurrock-council\/datasets\/new$/);
    await checkPage(page, page.url(), { expectText: 'Who can see the data?', label: 'dataset-create' });
    assert.equal(await page.getByLabel('Private').isChecked(), true);

    await page.getByLabel('Dataset slug (optional)').fill('Not a slug');
    await page.getByRole('button', { name: 'Add dataset' }).click();
    await page.locator('.govuk-error-summary').waitFor();
    assert.match(await page.title(), /^Error: Add a dataset/);
    const summary = await page.locator('.govuk-error-summary').innerText();
    assert.match(summary, /Enter a title/);
    assert.match(summary, /The dataset slug "Not a slug" is not valid/);
    assert.match(summary, /Select a CSV, XLSX or ODS file to upload/);
    assert.equal(await page.getByLabel('Dataset slug (optional)').inputValue(), 'Not a slug');
    await checkPage(page, page.url(), { label: 'dataset-create-errors' });
    await page.getByRole('link', { name: 'Enter a title' }).click();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'title');

    await page.getByLabel('Title').fill('Quarterly budget totals');
    await page.getByLabel('Dataset slug (optional)').fill('');
    await page.getByLabel('Upload a file').setInputFiles(path.join(INGEST_FIXTURES, 'totals.csv'));
    await page.getByRole('button', { name: 'Add dataset' }).click();
    await page.waitForURL(/\/dataset\/quarterly-budget-totals\/resource\/[0-9a-f-]+\/report$/);
    await checkPage(page, page.url(), { expectText: 'Version 1 loaded', label: 'dataset-create-report' });
    assert.match(await mainText(page), /Rows loaded\s+2 rows/);
    await page.getByRole('link', { name: 'Edit dataset details' }).click();
    await page.waitForURL(/\/dataset\/quarterly-budget-totals\/edit$/);
  });

  test('add works without JavaScript', async () => {
    const noScript = await harness.noScriptContext.newPage();
    try {
      await noScript.goto(`${server.url}${NEW_PAGE}`);
      await noScript.getByLabel('Title').fill('Asset workbook');
      await noScript.getByLabel('Upload a file').setInputFiles(path.join(INGEST_FIXTURES, 'two-sheets.xlsx'));
      await noScript.getByRole('button', { name: 'Add dataset' }).click();
      await noScript.locator('.govuk-error-summary').waitFor();
      const summary = await noScript.locator('.govuk-error-summary').innerText();
      assert.match(summary, /two-sheets\.xlsx has 2 sheets with data: "([^"]+)"/);
      assert.equal(await noScript.getByLabel('Title').inputValue(), 'Asset workbook');
      assert.equal(await services.catalogue.findDataset(PLATFORM_SCOPE, 'asset-workbook'), undefined);

      const sheet = /sheets with data: "([^"]+)"/.exec(summary)![1]!;
      await noScript.getByLabel('Sheet name (optional)').fill(sheet);
      await noScript.getByLabel('Upload a file').setInputFiles(path.join(INGEST_FIXTURES, 'two-sheets.xlsx'));
      await noScript.getByRole('button', { name: 'Add dataset' }).click();
      await noScript.waitForURL(/\/dataset\/asset-workbook\/resource\/[0-9a-f-]+\/report$/);
      const text = await mainText(noScript);
      assert.match(text, /Version 1 loaded/);
      assert.match(text, new RegExp(`Sheet\\s+${sheet}`));
      assert.deepEqual(harness.takeProblems(), []);
    } finally {
      await noScript.close();
    }
  });

  test('no-script pages pass axe', async () => {
    const { page: scriptless, checkAsRendered, close: closeScriptless } = await openScriptlessPage(harness, server.url);
    try {
      await scriptless.goto(`${server.url}/organisation/thurrock-council`);
      await checkAsRendered();
      await scriptless.goto(`${server.url}${NEW_PAGE}`);
      await checkAsRendered();
      await scriptless.getByLabel('Title').fill('Surplus cells');
      await scriptless.getByLabel('Upload a file').setInputFiles(path.join(INGEST_FIXTURES, 'surplus-cell.csv'));
      await scriptless.getByRole('button', { name: 'Add dataset' }).click();
      await scriptless.locator('.govuk-error-summary').waitFor();
      assert.match(await scriptless.locator('.govuk-error-summary').innerText(), /line 4 of surplus-cell\.csv has a value in column 3/);
      await checkAsRendered();
      await scriptless.getByLabel('Upload a file').setInputFiles(path.join(INGEST_FIXTURES, 'totals.csv'));
      await scriptless.getByRole('button', { name: 'Add dataset' }).click();
      await scriptless.waitForURL(/\/report$/);
      await checkAsRendered();
    } finally {
      await closeScriptless();
    }
  });
});
