import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { activeAgreement, AGREEMENT_REFERENCE, buildScenario, directCareTerms, type Scenario } from '../../test/fixtures/social-care/scenario.ts';
import { startSessionFor } from '../../test/helpers/accounts.ts';
import { checkPage, launchBrowser, mainText, visitAndCheck, type BrowserHarness } from '../../test/helpers/browser.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { startTestServer } from '../../test/helpers/services.ts';
import { exchangeTestServices, TestClock } from '../exchange/exchange.test-support.ts';
import type { RunningServer } from '../main.ts';
import type { Services } from '../services.ts';

// Browser suites run on the embedded engine only; the route tests cover both engines.
const engine = testEngines()[0]!;
const AWAITING = 'THR-ISA-2026-030';
const DRAFT = 'THR-ISA-2026-031';

describe('agreement pages in Chromium', () => {
  let harness: BrowserHarness;
  let server: RunningServer;
  let services: Services;
  let scenario: Scenario;
  let drop: () => Promise<void>;

  /** Signs both browser contexts in as a member of the scenario. */
  const signIn = async (who: Scenario['council']['dpo']) => {
    const value = await startSessionFor(services, who.userId, who.actor.organisationId);
    for (const context of [harness.context, harness.noScriptContext]) {
      await context.clearCookies();
      await context.addCookies([{ name: services.accounts.sessions.cookieName, value, url: server.url }]);
    }
  };

  before(async () => {
    const created = await engine.create();
    drop = created.drop;
    ({ services } = exchangeTestServices(created.db, new TestClock('2026-12-04T12:00:00Z')));
    scenario = await buildScenario(services);
    await activeAgreement(services, scenario);
    const { agreements, workflow } = services.exchange;
    await agreements.createDraft(scenario.council.dpo.actor, AWAITING, directCareTerms(scenario, { title: 'Care packages for community nursing' }));
    await workflow.submit(scenario.council.dpo.actor, AWAITING);
    await agreements.createDraft(scenario.council.dpo.actor, DRAFT, directCareTerms(scenario, { title: 'Care packages for falls prevention' }));
    server = await startTestServer(services);
    harness = await launchBrowser();
  });

  after(async () => {
    await harness?.close();
    await server?.close();
    await drop?.();
  });

  test('provider pages pass axe', async () => {
    await signIn(scenario.council.steward);
    const page = await harness.context.newPage();
    await visitAndCheck(page, `${server.url}/agreements/manage`, { expectText: AGREEMENT_REFERENCE });
    await visitAndCheck(page, `${server.url}/agreements/manage/new`, { expectText: 'Choose the dataset first' });
    await visitAndCheck(page, `${server.url}/agreements/manage/new?dataset=${scenario.datasetId}`, { expectText: 'Fields released' });
    await visitAndCheck(page, `${server.url}/agreements/${AGREEMENT_REFERENCE}/manage`, { expectText: 'Version 1 is in force.' });
    await visitAndCheck(page, `${server.url}/agreements/${DRAFT}/edit`, { expectText: 'Edit the draft of' });
    await page.close();
  });

  test('special category reveals conditions', async () => {
    await signIn(scenario.council.steward);
    const page = await harness.context.newPage();
    await page.goto(`${server.url}/agreements/manage/new?dataset=${scenario.datasetId}`);
    assert.equal(await page.locator('#article9').isVisible(), false, 'hidden until special category data is ticked');
    await page.locator('#specialCategory').check();
    assert.equal(await page.locator('#article9').isVisible(), true);
    assert.equal(await page.locator('#schedule1').isVisible(), true);
    await page.close();
  });

  test('approver and oversight pages pass axe', async () => {
    await signIn(scenario.trust.dpo);
    const page = await harness.context.newPage();
    await visitAndCheck(page, `${server.url}/agreements/${AWAITING}/review`, { expectText: 'Your decision' });
    await visitAndCheck(page, `${server.url}/exchange`, { expectText: 'Civic-Purpose: direct_care' });
    await signIn(scenario.council.dpo);
    await visitAndCheck(page, `${server.url}/agreements/${AGREEMENT_REFERENCE}/suspend`, { expectText: 'Reason' });
    await page.close();
  });

  test('form without JavaScript shows errors', async () => {
    await signIn(scenario.council.steward);
    const fillAndSave = async (page: Page) => {
      await page.goto(`${server.url}/agreements/manage/new?dataset=${scenario.datasetId}`);
      await page.locator('#reference').fill('THR-ISA-2026-040');
      await page.locator('#title').fill('Kept after the error');
      await page.locator('#retentionMonths').fill('twelve');
      const [response] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Save draft' }).click()]);
      return response;
    };

    const page = await harness.noScriptContext.newPage();
    const response = await fillAndSave(page);
    assert.equal(response?.status(), 400);
    assert.match((await response?.text()) ?? '', /<title>Error: /);
    const summary = await page.locator('.govuk-error-summary').innerText();
    assert.match(summary, /There is a problem/);
    assert.match(summary, /Enter the retention period/);
    assert.match(summary, /Select at least one purpose/);
    assert.equal(await page.locator('#title').inputValue(), 'Kept after the error');
    assert.equal(await page.locator('#retentionMonths').inputValue(), 'twelve');
    await page.close();

    // axe-core runs as a script, so the same error page is checked again with JavaScript on.
    const scripted = await harness.context.newPage();
    assert.equal((await fillAndSave(scripted))?.status(), 400);
    await checkPage(scripted, scripted.url(), { label: 'agreement-form-errors' });
    await scripted.close();
  });

  test('review posted without JavaScript', async () => {
    await signIn(scenario.trust.dpo);
    const page = await harness.noScriptContext.newPage();
    await page.goto(`${server.url}/agreements/${AWAITING}/review`);
    await page.locator('#decision').check();
    const [response] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Record decision' }).click()]);
    assert.equal(response?.status(), 200);
    assert.match(await mainText(page), /Your approval has been recorded/);
  });

  test('discard pages pass axe', async () => {
    await signIn(scenario.council.steward);
    await services.exchange.agreements.amend(scenario.council.steward.actor, AGREEMENT_REFERENCE);
    const page = await harness.context.newPage();
    await visitAndCheck(page, `${server.url}/agreements/${AGREEMENT_REFERENCE}/discard`, { expectText: 'Are you sure you want to discard the draft of version 2?' });
    await visitAndCheck(page, `${server.url}/agreements/${AWAITING}/discard`, { status: 409, expectText: 'What you can do now' });
    await page.close();
  });

  test('discard without JavaScript', async () => {
    await signIn(scenario.council.steward);
    const page = await harness.noScriptContext.newPage();
    await page.goto(`${server.url}/agreements/${AGREEMENT_REFERENCE}/manage`);
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Discard this draft' }).click()]);
    assert.equal(new URL(page.url()).pathname, `/agreements/${AGREEMENT_REFERENCE}/discard`);
    await page.locator('#reason').fill('Started by mistake');
    const [response] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Discard draft' }).click()]);
    assert.equal(response?.status(), 200);
    const text = await mainText(page);
    assert.match(text, /The draft has been discarded/);
    assert.match(text, /Version 1 is in force\./);
    assert.match(text, /Draft version 2 discarded: Started by mistake/);

    // The first draft of an agreement never in force takes the agreement off the list.
    await page.goto(`${server.url}/agreements/${DRAFT}/discard`);
    const [listed] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Discard draft' }).click()]);
    assert.equal(listed?.status(), 200);
    assert.equal(new URL(page.url()).pathname, '/agreements/manage');
    const list = await mainText(page);
    assert.match(list, /The draft agreement has been discarded/);
    assert.doesNotMatch(list, new RegExp(DRAFT));
    await page.close();
  });
});
