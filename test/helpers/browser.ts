import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page, type Response } from 'playwright-core';

/** Debian's Chromium package; `.ci/run` installs it when missing. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = path.resolve('test-output', 'screenshots');

/** WCAG 2.0, 2.1 and 2.2 levels A and AA, as axe-core tags them. */
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** A headless Chromium with two contexts: one with JavaScript and one without, as some visitors browse. */
export interface BrowserHarness {
  browser: Browser;
  /** JavaScript on; problems reported by the page (console errors, CSP violations, uncaught errors) are collected. */
  context: BrowserContext;
  noScriptContext: BrowserContext;
  /** Console errors and page errors seen in either context since the last `takeProblems`. */
  takeProblems(): string[];
  close(): Promise<void>;
}

/**
 * Launches Chromium headless. Playwright gives every launch a fresh temporary profile (user-data dir) and removes it
 * on close. Throws naming the path when Chromium is missing, because a browser suite that silently skips proves nothing.
 */
export async function launchBrowser(): Promise<BrowserHarness> {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}. Install it with "apt-get install -y chromium" or set CHROMIUM_PATH.`);
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  const problems: string[] = [];
  const context = await browser.newContext({ locale: 'en-GB', viewport: { width: 1280, height: 900 } });
  const noScriptContext = await browser.newContext({ locale: 'en-GB', javaScriptEnabled: false, viewport: { width: 1280, height: 900 } });
  for (const watched of [context, noScriptContext]) {
    watched.on('page', (page) => {
      // A failed load also logs "Failed to load resource". The response listener reports it with its URL instead, and
      // skips the document itself because a 404 page fails on purpose.
      page.on('console', (message) => {
        if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(`console error on ${page.url()}: ${message.text()}`);
      });
      page.on('response', (response) => {
        if (response.status() >= 400 && response.request().resourceType() !== 'document') problems.push(`${response.status()} for ${response.url()} on ${page.url()}`);
      });
      page.on('requestfailed', (request) => problems.push(`request failed for ${request.url()} on ${page.url()}: ${request.failure()?.errorText ?? ''}`));
      page.on('pageerror', (error) => problems.push(`uncaught error on ${page.url()}: ${error.message}`));
    });
  }
  const harness: BrowserHarness = {
    browser,
    context,
    noScriptContext,
    takeProblems: () => problems.splice(0, problems.length),
    close: () => browser.close(),
  };
  harnesses.set(context, harness);
  harnesses.set(noScriptContext, harness);
  return harness;
}

const harnesses = new WeakMap<BrowserContext, BrowserHarness>();

/** The harness a page belongs to; pages must come from `harness.context` or `harness.noScriptContext`. */
function harnessOf(page: Page): BrowserHarness {
  const harness = harnesses.get(page.context());
  if (!harness) throw new Error('The page does not belong to a harness from launchBrowser(); open it with harness.context.newPage().');
  return harness;
}

/** Turns a URL or label into a file name for a screenshot. */
function screenshotName(label: string): string {
  return label.replace(/^https?:\/\/[^/]+/, '').replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 120) || 'home';
}

/** Saves a full-page screenshot under test-output/screenshots for people to review; returns the file path. */
export async function saveScreenshot(page: Page, label: string, suffix = ''): Promise<string> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${screenshotName(label)}${suffix}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown[]; failureSummary?: string }>;
}

/**
 * Runs axe-core on the page with the WCAG 2.2 A and AA rules and fails listing each violated rule and its nodes. The
 * script is evaluated through the DevTools protocol, so the page's content security policy stays in force.
 */
export async function assertAccessible(page: Page): Promise<void> {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async (tags) => {
    const axe = (globalThis as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return result.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      nodes: violation.nodes.map((node) => ({ target: node.target, failureSummary: node.failureSummary })),
    }));
  }, AXE_TAGS);
  const report = violations
    .map((violation) => {
      const nodes = violation.nodes.map((node) => `    ${JSON.stringify(node.target)}: ${node.failureSummary ?? ''}`.replace(/\n/g, ' ')).join('\n');
      return `  ${violation.id} (${violation.impact ?? 'unknown impact'}): ${violation.help}\n${nodes}`;
    })
    .join('\n');
  assert.equal(violations.length, 0, `axe-core found WCAG violations on ${page.url()}:\n${report}`);
}

export interface VisitOptions {
  /** Expected HTTP status; 200 when absent. */
  status?: number;
  /** Text the main content must contain, with and without JavaScript. */
  expectText?: string | RegExp;
  /** Screenshot name; derived from the URL when absent. */
  label?: string;
}

/** The visible text of the main landmark. */
export async function mainText(page: Page): Promise<string> {
  return page.locator('main#main-content').innerText();
}

/**
 * Opens `url` in `page` and checks what every page must satisfy: the expected status, a main landmark with a level
 * one heading, no axe-core WCAG 2.2 A or AA violation, and no console or uncaught error. Saves a screenshot. Use
 * `visitAndCheck`, which also checks the page without JavaScript, unless the page was reached by a form.
 */
export async function checkPage(page: Page, url: string, options: VisitOptions = {}): Promise<Response | null> {
  const harness = harnessOf(page);
  const response = url === page.url() ? null : await page.goto(url);
  if (response) assert.equal(response.status(), options.status ?? 200, `${url} returned ${response.status()}`);
  await assert.doesNotReject(page.locator('main#main-content h1').first().waitFor({ state: 'visible' }), `${url} has no visible h1 in its main content`);
  if (options.expectText) {
    const text = await mainText(page);
    if (typeof options.expectText === 'string') assert.ok(text.includes(options.expectText), `${url} main content lacks "${options.expectText}"`);
    else assert.match(text, options.expectText);
  }
  await assertAccessible(page);
  await saveScreenshot(page, options.label ?? url);
  assert.deepEqual(harness.takeProblems(), [], `${url} reported errors in the browser`);
  return response;
}

/**
 * Opens `url` without JavaScript and checks that the main content still shows (a non-empty h1 and the expected text).
 * It also checks that every form still works. Each form needs a submit button, and each GET form, submitted as it
 * is, must load a page with main content and no server error.
 */
export async function checkWithoutJavaScript(harness: BrowserHarness, url: string, options: VisitOptions = {}): Promise<void> {
  const page = await harness.noScriptContext.newPage();
  try {
    const response = await page.goto(url);
    assert.ok(response, `${url} gave no response without JavaScript`);
    assert.equal(response.status(), options.status ?? 200, `${url} returned ${response.status()} without JavaScript`);
    const heading = await page.locator('main#main-content h1').first().innerText();
    assert.ok(heading.trim().length > 0, `${url} has an empty h1 without JavaScript`);
    if (options.expectText) {
      const text = await mainText(page);
      if (typeof options.expectText === 'string') assert.ok(text.includes(options.expectText), `${url} main content lacks "${options.expectText}" without JavaScript`);
      else assert.match(text, options.expectText);
    }
    await saveScreenshot(page, options.label ?? url, '--no-javascript');

    const forms = page.locator('main#main-content form');
    const count = await forms.count();
    for (let index = 0; index < count; index += 1) {
      const form = forms.nth(index);
      const submit = form.locator('button:not([type="button"]), input[type="submit"]');
      assert.ok((await submit.count()) > 0, `form ${index + 1} on ${url} has no submit button, so it needs JavaScript`);
      const method = ((await form.getAttribute('method')) ?? 'get').toLowerCase();
      if (method !== 'get') continue;
      const formPage = await harness.noScriptContext.newPage();
      try {
        await formPage.goto(url);
        const [navigation] = await Promise.all([formPage.waitForNavigation(), formPage.locator('main#main-content form').nth(index).locator('button:not([type="button"]), input[type="submit"]').first().click()]);
        const status = navigation?.status() ?? 0;
        assert.ok(status > 0, `submitting GET form ${index + 1} on ${url} without JavaScript gave no response`);
        assert.ok(status < 500, `submitting GET form ${index + 1} on ${url} without JavaScript returned ${status}`);
        assert.ok((await mainText(formPage)).trim().length > 0, `GET form ${index + 1} on ${url} led to a page without main content`);
      } finally {
        await formPage.close();
      }
    }
    assert.deepEqual(harness.takeProblems(), [], `${url} reported errors in the browser without JavaScript`);
  } finally {
    await page.close();
  }
}

/** Visits `url` with JavaScript (status, h1, axe-core, screenshot, no errors) and again without it. */
export async function visitAndCheck(page: Page, url: string, options: VisitOptions = {}): Promise<Response | null> {
  const response = await checkPage(page, url, options);
  await checkWithoutJavaScript(harnessOf(page), url, options);
  return response;
}
