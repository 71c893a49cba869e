import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { activeAgreement, AGREEMENT_REFERENCE, buildScenario, type Scenario } from '../../test/fixtures/social-care/scenario.ts';
import { launchBrowser, visitAndCheck, type BrowserHarness } from '../../test/helpers/browser.ts';
import { pdfText } from '../../test/helpers/pdf-text.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { startTestServer } from '../../test/helpers/services.ts';
import { exchangeTestServices, TestClock } from '../exchange/exchange.test-support.ts';
import type { RunningServer } from '../main.ts';
import type { Services } from '../services.ts';

for (const engine of testEngines()) {
  describe(`agreements register on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let services: Services;
    let server: RunningServer;
    let scenario: Scenario;
    let browser: BrowserHarness;

    before(async () => {
      handle = await engine.create();
      ({ services } = exchangeTestServices(handle.db, new TestClock('2026-12-04T12:00:00Z')));
      scenario = await buildScenario(services);
      await activeAgreement(services, scenario);
      await services.exchange.agreements.createDraft(scenario.council.dpo.actor, 'THR-ISA-2026-777', (await import('../../test/fixtures/social-care/scenario.ts')).directCareTerms(scenario, { title: 'Unapproved draft' }));
      server = await startTestServer(services);
      browser = await launchBrowser();
    });
    after(async () => {
      await browser.close();
      await server.close();
      await handle.drop();
    });

    test('register lists active agreements only', async () => {
      const page = await browser.context.newPage();
      await visitAndCheck(page, `${server.url}/agreements`, { expectText: AGREEMENT_REFERENCE });
      const text = await page.locator('main').innerText();
      assert.match(text, /Direct care/);
      assert.match(text, /Organisation thurrock-council/);
      assert.match(text, /30 June 2027/);
      assert.doesNotMatch(text, /THR-ISA-2026-777/);
      await page.close();
    });

    test('agreement page shows the terms', async () => {
      const page = await browser.context.newPage();
      await visitAndCheck(page, `${server.url}/agreements/${AGREEMENT_REFERENCE}`, { expectText: 'Adult social care packages for hospital discharge planning' });
      const text = await page.locator('main').innerText();
      assert.match(text, /Article 9\(2\)\(h\)/);
      assert.match(text, /Schedule 1 Part 1, paragraph 2/);
      assert.match(text, /Pseudonymised before release: nhs_number/);
      assert.match(text, /In force from \d{1,2} [A-Z][a-z]+ \d{4} to \d{1,2} [A-Z][a-z]+ \d{4}\./, 'dates in the GOV.UK style');
      assert.doesNotMatch(text, /social_worker_notes/);
      await page.close();
    });

    test('draft is hidden from the public', async () => {
      const response = await fetch(`${server.url}/agreements/THR-ISA-2026-777`);
      assert.equal(response.status, 404);
      assert.match(await response.text(), /The register lists agreements in force only/);
      const missing = await fetch(`${server.url}/agreements/THR-ISA-0000-000.pdf`);
      assert.equal(missing.status, 404);
    });

    test('lower-case reference redirects', async () => {
      for (const suffix of ['', '.pdf']) {
        const response = await fetch(`${server.url}/agreements/${AGREEMENT_REFERENCE.toLowerCase()}${suffix}`, { redirect: 'manual' });
        assert.equal(response.status, 301);
        assert.equal(response.headers.get('location'), `/agreements/${AGREEMENT_REFERENCE}${suffix}`);
      }
    });

    test('malformed reference is not found', async () => {
      const response = await fetch(`${server.url}/agreements/not%20a%20reference`);
      assert.equal(response.status, 404);
      const text = await response.text();
      assert.match(text, /&quot;not a reference&quot; is not an agreement reference/);
      assert.match(text, /such as THR-ISA-2026-014/);
      assert.doesNotMatch(text, /must match pattern/);
    });

    test('agreement PDF has selectable text', async () => {
      const response = await fetch(`${server.url}/agreements/${AGREEMENT_REFERENCE}.pdf`);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), 'application/pdf');
      const pdf = Buffer.from(await response.arrayBuffer());
      assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
      const text = pdfText(pdf);
      assert.match(text, /THR-ISA-2026-014/);
      assert.match(text, /Lawful basis/);
      assert.match(text, /Health and Social Care Act 2012 s\.251B/);

      // A tagged PDF: the catalogue marks it as tagged and contains a structure tree of the title, section headings and lists.
      const raw = pdf.toString('latin1');
      assert.match(raw, /\/MarkInfo \d+ 0 R/);
      assert.match(raw, /<<\s*\/Marked true\s*>>/);
      assert.match(raw, /\/StructTreeRoot/);
      for (const type of ['Document', 'H1', 'Sect', 'H2', 'P', 'L', 'LI', 'LBody']) assert.match(raw, new RegExp(`/S /${type}\\b`), `structure element ${type}`);
      // Summary, parties, purposes, lawful basis, data shared, conditions, security requirements, dates and approvers.
      assert.equal((raw.match(/\/S \/H2\b/g) ?? []).length, 9, 'one heading per section');
    });
  });
}
