import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { activeAgreement, AGREEMENT_REFERENCE, buildScenario, directCareTerms, type Member, type Scenario } from '../../test/fixtures/social-care/scenario.ts';
import { signedInClient } from '../../test/helpers/accounts.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import type { WebClient } from '../../test/helpers/web-client.ts';
import { exchangeTestServices, TestClock } from '../exchange/exchange.test-support.ts';
import { buildApp } from '../http/app.ts';
import type { Services } from '../services.ts';

const FIRST_DRAFT = 'THR-ISA-2026-060';
const AWAITING = 'THR-ISA-2026-061';

/** Reads the error summary's links from a rendered page. */
function errorSummaryLinks(html: string): string[] {
  const summary = /<div class="govuk-error-summary"[\s\S]*?<\/ul>/.exec(html)?.[0] ?? '';
  return [...summary.matchAll(/<a href="([^"]+)">/g)].map((match) => match[1]!);
}

/** Reads the links under "What you can do now" on a conflict page. */
function nextStepLinks(html: string): Array<{ href: string; text: string }> {
  const list = /What you can do now<\/h2>\s*<ul[\s\S]*?<\/ul>/.exec(html)?.[0] ?? '';
  return [...list.matchAll(/<a class="govuk-link" href="([^"]+)">([^<]+)<\/a>/g)].map((match) => ({ href: match[1]!, text: match[2]! }));
}

for (const engine of testEngines()) {
  describe(`discard pages on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let services: Services;
    let app: FastifyInstance;
    let scenario: Scenario;
    let steward: WebClient;
    let logLines: string[];
    const clock = new TestClock('2026-12-04T12:00:00Z');

    const client = (who: Member) => signedInClient(app, services, who.userId, who.actor.organisationId);
    const versionStatuses = async (reference: string) =>
      (
        await handle.db.owner
          .selectFrom('agreement_versions as v')
          .innerJoin('agreements as a', 'a.id', 'v.agreement_id')
          .select('v.status')
          .where('a.reference', '=', reference)
          .orderBy('v.version')
          .execute()
      ).map((row) => row.status);
    const agreementStatus = async (reference: string) => (await handle.db.owner.selectFrom('agreements').select('status').where('reference', '=', reference).executeTakeFirstOrThrow()).status;

    before(async () => {
      handle = await engine.create();
      clock.stepMs = 1000;
      ({ services, logLines } = exchangeTestServices(handle.db, clock));
      scenario = await buildScenario(services);
      await activeAgreement(services, scenario);
      app = await buildApp(services);
      await app.ready();
      steward = await client(scenario.council.steward);
    });
    after(async () => {
      await app.close();
      await handle.drop();
    });

    test('amendment discarded from its page', async () => {
      await services.exchange.agreements.amend(scenario.council.steward.actor, AGREEMENT_REFERENCE);
      const page = await steward.get(`/agreements/${AGREEMENT_REFERENCE}/manage`);
      assert.match(page.body, new RegExp(`href="/agreements/${AGREEMENT_REFERENCE}/discard"[^>]*>\\s*Discard this draft`));

      const confirm = await steward.get(`/agreements/${AGREEMENT_REFERENCE}/discard`);
      assert.equal(confirm.statusCode, 200);
      assert.match(confirm.body, /Are you sure you want to discard the draft of version 2\?/);
      assert.match(confirm.body, /Version 1 stays in force, and data is still released under it\./);

      const withoutToken = await steward.post(`/agreements/${AGREEMENT_REFERENCE}/discard`, { _csrf: null, reason: 'No longer needed' });
      assert.equal(withoutToken.statusCode, 403);
      const tooLong = await steward.post(`/agreements/${AGREEMENT_REFERENCE}/discard`, { reason: 'x'.repeat(2001) });
      assert.equal(tooLong.statusCode, 400);
      assert.deepEqual(errorSummaryLinks(tooLong.body), ['#reason']);
      assert.match(tooLong.body, /Reason must be 2,000 characters or fewer/);
      assert.deepEqual(await versionStatuses(AGREEMENT_REFERENCE), ['approved', 'draft'], 'rejected posts leave the draft');

      const done = await steward.post(`/agreements/${AGREEMENT_REFERENCE}/discard`, { reason: 'Retention unchanged after all' });
      assert.equal(done.statusCode, 303, done.body);
      assert.equal(done.headers.location, `/agreements/${AGREEMENT_REFERENCE}/manage?done=discarded`);
      assert.deepEqual(await versionStatuses(AGREEMENT_REFERENCE), ['approved', 'discarded']);
      assert.equal(await agreementStatus(AGREEMENT_REFERENCE), 'active');
      const after = await steward.get(`/agreements/${AGREEMENT_REFERENCE}/manage?done=discarded`);
      assert.match(after.body, /The draft has been discarded\./);
      assert.match(after.body, /Version 1 is in force\./);
      assert.match(after.body, /Draft version 2 discarded: Retention unchanged after all/);
      assert.doesNotMatch(after.body, /Discard this draft/);
    });

    test('first draft discarded leaves list', async () => {
      await services.exchange.agreements.createDraft(scenario.council.dpo.actor, FIRST_DRAFT, directCareTerms(scenario, { title: 'Care packages for reablement' }));
      assert.match((await steward.get('/agreements/manage')).body, new RegExp(FIRST_DRAFT));
      const confirm = await steward.get(`/agreements/${FIRST_DRAFT}/discard`);
      assert.equal(confirm.statusCode, 200);
      assert.match(confirm.body, /so the whole agreement is discarded/);

      const done = await steward.post(`/agreements/${FIRST_DRAFT}/discard`, { reason: '' });
      assert.equal(done.statusCode, 303, done.body);
      assert.equal(done.headers.location, '/agreements/manage?done=discarded');
      assert.equal(await agreementStatus(FIRST_DRAFT), 'discarded');
      const list = await steward.get('/agreements/manage?done=discarded');
      assert.match(list.body, /The draft agreement has been discarded\./);
      assert.doesNotMatch(list.body, new RegExp(FIRST_DRAFT));
      const recipientList = await (await client(scenario.trust.dpo)).get('/agreements/manage');
      assert.doesNotMatch(recipientList.body, new RegExp(FIRST_DRAFT));

      const again = await steward.get(`/agreements/${FIRST_DRAFT}/discard`);
      assert.equal(again.statusCode, 409);
      assert.match(again.body, /was discarded before it came into force/);
      assert.match(again.body, /There is nothing you can change on this agreement now\./);
    });

    test('discard refused with next steps', async () => {
      await services.exchange.agreements.createDraft(scenario.council.dpo.actor, AWAITING, directCareTerms(scenario));
      await services.exchange.workflow.submit(scenario.council.dpo.actor, AWAITING);
      for (const method of ['get', 'post'] as const) {
        const refused = method === 'get' ? await steward.get(`/agreements/${AWAITING}/discard`) : await steward.post(`/agreements/${AWAITING}/discard`, { reason: '' });
        assert.equal(refused.statusCode, 409, method);
        assert.match(refused.body, /is awaiting approval, so it cannot be discarded\. Withdraw it to draft first, then discard it\./, method);
        assert.deepEqual(nextStepLinks(refused.body), [{ href: `/agreements/${AWAITING}/manage`, text: 'Withdraw version 1 to draft so it can be edited, from the agreement page' }], method);
        assert.doesNotMatch(refused.body, /Allowed now/, method);
      }
      assert.deepEqual(await versionStatuses(AWAITING), ['awaiting_approval']);

      const dpo = await client(scenario.council.dpo);
      const inForce = await dpo.get(`/agreements/${AGREEMENT_REFERENCE}/discard`);
      assert.equal(inForce.statusCode, 409);
      assert.match(inForce.body, /is the version in force, so it cannot be discarded/);
      assert.deepEqual(nextStepLinks(inForce.body).map((step) => step.href), [
        `/agreements/${AGREEMENT_REFERENCE}/manage`,
        `/agreements/${AGREEMENT_REFERENCE}/suspend`,
        `/agreements/${AGREEMENT_REFERENCE}/terminate`,
      ]);
    });

    test('refused discard page sent once', async () => {
      const dpo = await client(scenario.council.dpo);
      const linesBefore = logLines.length;
      const refused = await dpo.get(`/agreements/${AGREEMENT_REFERENCE}/discard`);
      assert.equal(refused.statusCode, 409);
      // The handler must not render the confirmation page after the conflict page has been sent.
      const sentTwice = logLines.slice(linesBefore).filter((line) => line.includes('FST_ERR_REP_ALREADY_SENT'));
      assert.deepEqual(sentTwice, []);
    });

    test('discard needs provider drafter', async () => {
      await services.exchange.agreements.amend(scenario.council.steward.actor, AGREEMENT_REFERENCE);
      assert.equal((await (await client(scenario.trust.dpo)).get(`/agreements/${AGREEMENT_REFERENCE}/discard`)).statusCode, 403, 'a recipient');
      assert.equal((await (await client(scenario.trust.analyst)).get(`/agreements/${AGREEMENT_REFERENCE}/discard`)).statusCode, 403, 'an analyst');
      const recipient = await client(scenario.trust.dpo);
      await recipient.get(`/agreements/${AGREEMENT_REFERENCE}/manage`);
      assert.equal((await recipient.post(`/agreements/${AGREEMENT_REFERENCE}/discard`, {})).statusCode, 403);
      assert.equal((await steward.get('/agreements/THR-ISA-0000-404/discard')).statusCode, 404);
      assert.deepEqual(await versionStatuses(AGREEMENT_REFERENCE), ['approved', 'discarded', 'draft']);
    });

    test('conflict page names steps in words', async () => {
      const dpo = await client(scenario.council.dpo);
      await dpo.get(`/agreements/${AGREEMENT_REFERENCE}/resume`);
      const resumed = await dpo.post(`/agreements/${AGREEMENT_REFERENCE}/resume`, { reason: 'Nothing to resume' });
      assert.equal(resumed.statusCode, 409);
      assert.match(resumed.body, /This change could not be made/);
      assert.match(resumed.body, /THR-ISA-2026-014 is active\. Version 3 is in draft\./);
      assert.doesNotMatch(resumed.body, /Allowed now/);
      assert.doesNotMatch(resumed.body, /update, submit/);
      const links = nextStepLinks(resumed.body);
      assert.ok(links.some((link) => link.href === `/agreements/${AGREEMENT_REFERENCE}/edit` && link.text === 'Edit the draft of version 3'), JSON.stringify(links));
      assert.ok(links.some((link) => link.href === `/agreements/${AGREEMENT_REFERENCE}/discard`), JSON.stringify(links));
      assert.ok(links.some((link) => link.href === `/agreements/${AGREEMENT_REFERENCE}/suspend` && link.text === 'Suspend the agreement'), JSON.stringify(links));

      // A data steward cannot suspend or terminate, so the page offers only the drafting steps.
      await steward.get(`/agreements/${AGREEMENT_REFERENCE}/manage`);
      const amendAgain = await steward.post(`/agreements/${AGREEMENT_REFERENCE}/amend`, {});
      assert.equal(amendAgain.statusCode, 409);
      assert.deepEqual(nextStepLinks(amendAgain.body).map((link) => link.href), [
        `/agreements/${AGREEMENT_REFERENCE}/edit`,
        `/agreements/${AGREEMENT_REFERENCE}/manage`,
        `/agreements/${AGREEMENT_REFERENCE}/discard`,
      ]);
    });
  });
}
