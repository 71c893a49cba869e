import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildScenario, directCareTerms, type Scenario } from '../../test/fixtures/social-care/scenario.ts';
import { signedInClient } from '../../test/helpers/accounts.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import type { WebClient } from '../../test/helpers/web-client.ts';
import { exchangeTestServices, TestClock } from '../exchange/exchange.test-support.ts';
import { buildApp } from '../http/app.ts';
import type { Services } from '../services.ts';
import { termsToJson } from './agreement.terms.ts';

const REFERENCE = 'THR-ISA-2026-020';

/** Builds the drafting form as a user fills it in for the worked example's direct care agreement. */
export function draftForm(scenario: Scenario, overrides: Record<string, string | null> = {}): Record<string, string | null> {
  return {
    dataset: scenario.datasetId,
    reference: REFERENCE,
    title: 'Care packages for discharge planning',
    summary: 'The council shares current care packages with the trust for discharge planning.',
    providerController: 'controller',
    providerDpo: scenario.council.dpo.userId,
    providerSiro: scenario.council.siro.userId,
    'recipient-0-organisation': scenario.trust.id,
    'recipient-0-controller': 'controller',
    'recipient-0-dpo': scenario.trust.dpo.userId,
    'recipient-0-siro': scenario.trust.siro.userId,
    purposes: 'direct_care',
    purposeDescription: 'Planning safe discharge from hospital.',
    specialCategory: 'yes',
    article6: 'e',
    article9: 'h',
    schedule1: '2',
    statutoryPowers: 'Care Act 2014 s.6\nHealth and Social Care Act 2012 s.251B',
    fields: 'person_id',
    'pseudonymise-0-field': '',
    'pseudonymise-0-normalise': 'text',
    subjectField: '',
    subjectKind: '',
    'filter-0-field': 'weekly_cost',
    'filter-0-op': 'gt',
    'filter-0-value': '100',
    linkingAllowed: 'no',
    retentionMonths: '24',
    retentionNote: 'Deleted 24 months after discharge.',
    securityRequirements: 'Data Security and Protection Toolkit standards met',
    'startDate-day': '1',
    'startDate-month': '1',
    'startDate-year': '2026',
    'endDate-day': '31',
    'endDate-month': '12',
    'endDate-year': '2027',
    'reviewDate-day': '30',
    'reviewDate-month': '6',
    'reviewDate-year': '2027',
    ...overrides,
  };
}

/** Reads the error summary's links and messages from a rendered page. */
function errorSummary(html: string): Array<{ href: string; text: string }> {
  const summary = /<div class="govuk-error-summary"[\s\S]*?<\/ul>/.exec(html)?.[0] ?? '';
  return [...summary.matchAll(/<a href="([^"]+)">([^<]+)<\/a>/g)].map((match) => ({ href: match[1]!, text: match[2]!.trim() }));
}

for (const engine of testEngines()) {
  describe(`agreement pages on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let services: Services;
    let app: FastifyInstance;
    let scenario: Scenario;
    let steward: WebClient;
    const clock = new TestClock('2026-12-04T12:00:00Z');

    const client = (who: { userId: string; actor: { organisationId: string } }) => signedInClient(app, services, who.userId, who.actor.organisationId);

    /** Opens the review page as `who` and posts a decision. */
    const decide = async (who: Scenario['trust']['dpo'], decision: string, comment = '') => {
      const approver = await client(who);
      const page = await approver.get(`/agreements/${REFERENCE}/review`);
      assert.equal(page.statusCode, 200, page.body);
      const role = /name="role" value="([a-z_]+)"/.exec(page.body)?.[1] ?? '';
      return approver.post(`/agreements/${REFERENCE}/review`, { role, decision, comment });
    };

    before(async () => {
      handle = await engine.create();
      clock.stepMs = 1000;
      ({ services } = exchangeTestServices(handle.db, clock));
      scenario = await buildScenario(services);
      app = await buildApp(services);
      await app.ready();
      steward = await client(scenario.council.steward);
    });
    after(async () => {
      await app.close();
      await handle.drop();
    });

    test('dataset chosen before the form', async () => {
      const choose = await steward.get('/agreements/manage/new');
      assert.equal(choose.statusCode, 200);
      assert.match(choose.body, /Adult social care packages/);
      assert.doesNotMatch(choose.body, /name="title"/);
      const form = await steward.get(`/agreements/manage/new?dataset=${scenario.datasetId}`);
      assert.equal(form.statusCode, 200);
      for (const field of ['nhs_number', 'care_package', 'weekly_cost']) assert.match(form.body, new RegExp(`name="fields" type="checkbox" value="${field}"`));
      assert.match(form.body, /Organisation basildon-thurrock-hospitals/);

      for (const chosen of ['', 'not-a-dataset']) {
        const unknown = await steward.get(`/agreements/manage/new?dataset=${chosen}`);
        assert.equal(unknown.statusCode, 400, `dataset "${chosen}"`);
        assert.deepEqual(errorSummary(unknown.body).map((item) => item.href), ['#choose-dataset']);
        assert.match(unknown.body, /Select one of your organisation’s datasets/);
      }
    });

    test('empty form errors in page order', async () => {
      await steward.get(`/agreements/manage/new?dataset=${scenario.datasetId}`);
      const response = await steward.post('/agreements/manage/new', { _csrf: steward.csrfToken, dataset: scenario.datasetId });
      assert.equal(response.statusCode, 400);
      const summary = errorSummary(response.body);
      const hrefs = summary.map((item) => item.href);
      assert.equal(hrefs[0], '#reference', hrefs.join(', '));
      assert.ok(!summary.some((item) => /provider organisation/.test(item.text)), 'the drafter’s own organisation is the provider');
      assert.ok(hrefs.indexOf('#providerController') < hrefs.indexOf('#linkingAllowed'), hrefs.join(', '));
    });

    test('bad form shows error summary', async () => {
      await steward.get(`/agreements/manage/new?dataset=${scenario.datasetId}`);
      const response = await steward.post(
        '/agreements/manage/new',
        draftForm(scenario, { reference: 'bad ref', title: '', purposes: null, article6: 'c', statutoryPowers: '', 'endDate-day': '31', 'endDate-month': '2', 'filter-0-value': 'lots' }),
      );
      assert.equal(response.statusCode, 400);
      const summary = errorSummary(response.body);
      const hrefs = summary.map((item) => item.href);
      for (const href of ['#reference', '#title', '#purposes', '#statutoryPowers', '#endDate-day', '#filter-0-value']) assert.ok(hrefs.includes(href), `${href} in ${hrefs.join(', ')}`);
      // The summary follows the page: the reference comes first and the end date after the row filter.
      assert.equal(hrefs[0], '#reference');
      assert.ok(hrefs.indexOf('#filter-0-value') < hrefs.indexOf('#endDate-day'), hrefs.join(', '));
      assert.match(response.body, /<title>Error: /);
      assert.match(response.body, /value="Planning safe discharge from hospital."|>Planning safe discharge from hospital.</);
      assert.match(response.body, /id="retentionMonths" name="retentionMonths" type="text" value="24"/);
      const rows = await handle.db.owner.selectFrom('agreements').select('id').execute();
      assert.equal(rows.length, 0, 'nothing stored');
    });

    test('form without CSRF token rejected', async () => {
      const response = await steward.post('/agreements/manage/new', { ...draftForm(scenario), _csrf: null });
      assert.equal(response.statusCode, 403);
      assert.match(response.body, /<h1[^>]*>\s*This form has expired\s*</);
      assert.doesNotMatch(response.body, /You do not have permission/);
    });

    test('valid form saves a draft', async () => {
      await steward.get(`/agreements/manage/new?dataset=${scenario.datasetId}`);
      const response = await steward.post('/agreements/manage/new', draftForm(scenario, { fields: null, 'pseudonymise-0-field': 'nhs_number', 'pseudonymise-0-normalise': 'nhs_number', subjectField: 'nhs_number', subjectKind: 'nhs_number' }));
      // A form can repeat a field, which the client's record cannot, so the fields are posted again below.
      assert.equal(response.statusCode, 400, 'no field selected');
      assert.ok(errorSummary(response.body).some((item) => item.href === '#fields'));

      const body = new URLSearchParams();
      for (const [name, value] of Object.entries(draftForm(scenario, { 'pseudonymise-0-field': 'nhs_number', 'pseudonymise-0-normalise': 'nhs_number', subjectField: 'nhs_number', subjectKind: 'nhs_number' }))) {
        if (value !== null && name !== 'fields') body.append(name, value);
      }
      for (const field of ['person_id', 'nhs_number', 'care_package', 'weekly_cost']) body.append('fields', field);
      body.append('_csrf', steward.csrfToken!);
      const saved = await app.inject({
        method: 'POST',
        url: '/agreements/manage/new',
        headers: { cookie: [...steward.cookies].map(([name, value]) => `${name}=${value}`).join('; '), 'content-type': 'application/x-www-form-urlencoded' },
        payload: body.toString(),
      });
      assert.equal(saved.statusCode, 303, saved.body);
      assert.equal(saved.headers.location, `/agreements/${REFERENCE}/manage?done=saved`);
      const version = await handle.db.owner.selectFrom('agreement_versions').select(['status', 'terms']).executeTakeFirstOrThrow();
      const terms = version.terms as { datasets: Array<{ fields: string[]; row_filter: unknown; pseudonymise: unknown; subject: unknown }>; start_date: string; lawful_basis: { statutory_powers: string[] } };
      assert.equal(version.status, 'draft');
      assert.deepEqual(terms.datasets[0]!.fields, ['person_id', 'nhs_number', 'care_package', 'weekly_cost']);
      assert.deepEqual(terms.datasets[0]!.row_filter, { and: [{ field: 'weekly_cost', op: 'gt', value: 100 }] });
      assert.deepEqual(terms.datasets[0]!.pseudonymise, [{ field: 'nhs_number', normalise: 'nhs_number' }]);
      assert.deepEqual(terms.datasets[0]!.subject, { field: 'nhs_number', kind: 'nhs_number' });
      assert.equal(terms.start_date, '2026-01-01');
      assert.deepEqual(terms.lawful_basis.statutory_powers, ['Care Act 2014 s.6', 'Health and Social Care Act 2012 s.251B']);
    });

    test('list shows status tags', async () => {
      const list = await steward.get('/agreements/manage');
      assert.equal(list.statusCode, 200);
      assert.match(list.body, new RegExp(`href="/agreements/${REFERENCE}/manage"`));
      assert.match(list.body, /govuk-tag--grey">Draft</);
      const trust = await client(scenario.trust.analyst);
      assert.match((await trust.get('/agreements/manage')).body, /Recipient/);
      const police = await client(scenario.police.analyst);
      assert.doesNotMatch((await police.get('/agreements/manage')).body, new RegExp(REFERENCE));
      assert.equal((await police.get(`/agreements/${REFERENCE}/manage`)).statusCode, 404);
    });

    test('edit keeps the stored terms', async () => {
      const edit = await steward.get(`/agreements/${REFERENCE}/edit`);
      assert.equal(edit.statusCode, 200);
      assert.match(edit.body, /name="fields" type="checkbox" value="weekly_cost" checked/);
      assert.match(edit.body, /id="filter-0-value" name="filter-0-value" type="text" value="100"/);
      assert.match(edit.body, /id="startDate-year" name="startDate-year" type="text" value="2026"/);
    });

    test('submit, approve and amend', async () => {
      const page = await steward.get(`/agreements/${REFERENCE}/manage`);
      assert.match(page.body, /Submit for approval/);
      const trustDpo = await client(scenario.trust.dpo);
      const early = await trustDpo.get(`/agreements/${REFERENCE}/review`);
      assert.equal(early.statusCode, 409);
      assert.match(early.body, /Nothing to review yet/);
      assert.match(early.body, /has not been submitted for approval/);
      const submitted = await steward.post(`/agreements/${REFERENCE}/submit`, {});
      assert.equal(submitted.statusCode, 303);

      const declined = await decide(scenario.trust.dpo, 'declined');
      assert.equal(declined.statusCode, 400, 'a decline needs a comment');
      assert.ok(errorSummary(declined.body).some((item) => item.href === '#comment'));
      const noDecision = await decide(scenario.trust.dpo, '');
      assert.equal(noDecision.statusCode, 400);
      assert.ok(errorSummary(noDecision.body).some((item) => item.href === '#decision'));

      for (const who of [scenario.council.dpo, scenario.council.siro, scenario.trust.dpo]) {
        const approved = await decide(who, 'approved', 'Content with the terms');
        assert.equal(approved.statusCode, 303, approved.body);
      }
      const again = await trustDpo.get(`/agreements/${REFERENCE}/review`);
      assert.equal(again.statusCode, 409);
      assert.match(again.body, /You have already decided/);
      const lastApproval = await decide(scenario.trust.siro, 'approved', 'Content with the terms');
      assert.equal(lastApproval.statusCode, 303, lastApproval.body);
      const agreement = await handle.db.owner.selectFrom('agreements').select(['status', 'version_in_force_id']).where('reference', '=', REFERENCE).executeTakeFirstOrThrow();
      assert.equal(agreement.status, 'active');
      assert.notEqual(agreement.version_in_force_id, null);

      const amended = await steward.post(`/agreements/${REFERENCE}/amend`, {});
      assert.equal(amended.statusCode, 303);
      assert.equal(amended.headers.location, `/agreements/${REFERENCE}/edit`);
      const shown = await steward.get(`/agreements/${REFERENCE}/manage`);
      assert.match(shown.body, /Version 1 is in force\./);
      assert.match(shown.body, /Version 2 is in draft\./);
      const versions = await handle.db.owner.selectFrom('agreement_versions').select(['version', 'status']).orderBy('version').execute();
      assert.deepEqual(versions.map((version) => version.status), ['approved', 'draft']);

      const secondAmendment = await steward.post(`/agreements/${REFERENCE}/amend`, {});
      assert.equal(secondAmendment.statusCode, 409);
      assert.match(secondAmendment.body, /Version 2 of [A-Z0-9-]+ is already a draft\. Edit that draft and submit it/);
      assert.doesNotMatch(secondAmendment.body, /withdraw/);
      assert.doesNotMatch(secondAmendment.body, /Allowed now/, 'the web page names the next steps in words');
      assert.match(secondAmendment.body, new RegExp(`<a class="govuk-link" href="/agreements/${REFERENCE}/edit">Edit the draft of version 2</a>`));
    });

    test('submit lists the draft problems', async () => {
      const reference = 'THR-ISA-2026-PAST';
      await services.exchange.agreements.createDraft(scenario.council.dpo.actor, reference, directCareTerms(scenario, { end_date: '2026-06-30', review_date: '2026-03-31' }));
      const dpo = await client(scenario.council.dpo);
      await dpo.get(`/agreements/${reference}/manage`);
      const submitted = await dpo.post(`/agreements/${reference}/submit`, {});
      assert.equal(submitted.statusCode, 400);
      assert.match(submitted.body, /Version 1 of THR-ISA-2026-PAST cannot be submitted yet/);
      assert.match(submitted.body, /The end date 2026-06-30 has passed/);
      assert.match(submitted.body, /href="\/agreements\/THR-ISA-2026-PAST\/edit"/);
      const status = await handle.db.owner.selectFrom('agreements').select('status').where('reference', '=', reference).executeTakeFirstOrThrow();
      assert.equal(status.status, 'draft');
    });

    test('suspend needs a reason', async () => {
      const dpo = await client(scenario.council.dpo);
      assert.equal((await dpo.get(`/agreements/${REFERENCE}/suspend`)).statusCode, 200);
      const blank = await dpo.post(`/agreements/${REFERENCE}/suspend`, { reason: ' ' });
      assert.equal(blank.statusCode, 400);
      assert.deepEqual(errorSummary(blank.body), [{ href: '#reason', text: 'Enter the reason' }]);
      const done = await dpo.post(`/agreements/${REFERENCE}/suspend`, { reason: 'Breach under investigation' });
      assert.equal(done.statusCode, 303);
      const status = await handle.db.owner.selectFrom('agreements').select('status').where('reference', '=', REFERENCE).executeTakeFirstOrThrow();
      assert.equal(status.status, 'suspended');
      assert.equal((await steward.get(`/agreements/${REFERENCE}/suspend`)).statusCode, 403, 'a data steward cannot suspend');
      const resumed = await dpo.post(`/agreements/${REFERENCE}/resume`, { reason: 'Investigation closed' });
      assert.equal(resumed.statusCode, 303);
    });

    test('recipient page lists pullable data', async () => {
      const trust = await client(scenario.trust.analyst);
      const page = await trust.get('/exchange');
      assert.equal(page.statusCode, 200);
      assert.match(page.body, new RegExp(`${REFERENCE}: Care packages for discharge planning`));
      assert.match(page.body, /person_id, nhs_number, care_package, weekly_cost/);
      assert.match(page.body, /Pseudonymised fields\s*<\/dt>\s*<dd class="govuk-summary-list__value">\s*nhs_number/);
      assert.match(page.body, new RegExp(`/api/v1/exchange/agreements/${REFERENCE}/datasets/adult-social-care-packages/records`));
      assert.match(page.body, /Civic-Purpose: direct_care/);
      const council = await client(scenario.council.dpo);
      assert.match((await council.get('/exchange')).body, /not a recipient under any agreement in force/);
    });

    test('amendment review shows the changes', async () => {
      // Version 2, started above, keeps version 1's terms but for a longer retention period.
      const stored = await services.exchange.agreements.getDetail(scenario.council.id, REFERENCE);
      const terms = { ...termsToJson(stored.latest.terms), retention_months: 36 };
      await services.exchange.agreements.updateDraft(scenario.council.steward.actor, REFERENCE, terms);
      await services.exchange.workflow.submit(scenario.council.steward.actor, REFERENCE);
      const page = await (await client(scenario.trust.dpo)).get(`/agreements/${REFERENCE}/review`);
      assert.equal(page.statusCode, 200);
      const changes = /What changed since version 1<\/h2>([\s\S]*?)<\/div>/.exec(page.body)?.[1] ?? '';
      assert.match(changes, /<h3 class="govuk-heading-s">Conditions<\/h3>/);
      assert.match(changes, /Added or now reads:[\s\S]*at most 36 months/);
      assert.match(changes, /Removed or no longer reads:[\s\S]*at most \d+ months/);
      assert.doesNotMatch(changes, /<h3 class="govuk-heading-s">Parties<\/h3>/, 'unchanged sections are not listed');
    });
  });
}
