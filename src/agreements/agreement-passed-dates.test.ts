import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testEngines } from '../../test/helpers/engines.ts';
import { AGREEMENT_REFERENCE, buildScenario, directCareTerms, type Scenario } from '../../test/fixtures/social-care/scenario.ts';
import { AppError } from '../errors.ts';
import { exchangeTestServices, TestClock } from '../exchange/exchange.test-support.ts';
import type { Services } from '../services.ts';

/** Agreements whose end or review date passes before they could come into force. */
for (const engine of testEngines()) {
  describe(`agreement with passed dates on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let services: Services;
    let scenario: Scenario;
    const clock = new TestClock('2026-12-04T12:00:00Z');

    const statusOf = async (reference: string) =>
      (await handle.db.owner.selectFrom('agreements').select('status').where('reference', '=', reference).executeTakeFirstOrThrow()).status;

    const approveByAll = async (reference: string) => {
      const { workflow } = services.exchange;
      await workflow.decide(scenario.council.dpo.actor, reference, 'data_protection_officer', 'approved', '');
      await workflow.decide(scenario.council.siro.actor, reference, 'senior_information_risk_owner', 'approved', '');
      await workflow.decide(scenario.trust.dpo.actor, reference, 'data_protection_officer', 'approved', '');
      await workflow.decide(scenario.trust.siro.actor, reference, 'senior_information_risk_owner', 'approved', '');
    };

    before(async () => {
      handle = await engine.create();
      ({ services } = exchangeTestServices(handle.db, clock));
      scenario = await buildScenario(services);
    });
    after(async () => {
      await handle.drop();
    });

    test('submit rejects a passed end date', async () => {
      clock.now = new Date('2026-12-04T12:00:00Z');
      const reference = 'THR-ISA-2026-PAST';
      await services.exchange.agreements.createDraft(scenario.council.dpo.actor, reference, directCareTerms(scenario, { end_date: '2026-06-30', review_date: '2026-03-31' }));

      await assert.rejects(services.exchange.workflow.submit(scenario.council.dpo.actor, reference), (error: unknown) => {
        assert.ok(error instanceof AppError);
        assert.equal(error.kind, 'validation');
        const fields = Object.fromEntries(error.fields.map((field) => [field.field, field.message]));
        assert.match(fields.end_date ?? '', /The end date 2026-06-30 has passed/);
        assert.match(fields.end_date ?? '', /today \(2026-12-04\) or later/);
        assert.match(fields.review_date ?? '', /The review date 2026-03-31 has passed/);
        return true;
      });
      assert.equal(await statusOf(reference), 'draft');
    });

    test('end date passing before approval expires it', async () => {
      clock.now = new Date('2027-12-30T12:00:00Z');
      await services.exchange.agreements.createDraft(scenario.council.dpo.actor, AGREEMENT_REFERENCE, directCareTerms(scenario, { review_date: '2027-12-31' }));
      await services.exchange.workflow.submit(scenario.council.dpo.actor, AGREEMENT_REFERENCE);

      // The last approval arrives after the end date of 2027-12-31.
      clock.now = new Date('2028-01-02T09:00:00Z');
      await approveByAll(AGREEMENT_REFERENCE);

      assert.equal(await statusOf(AGREEMENT_REFERENCE), 'expired');
      const transition = await handle.db.owner.selectFrom('agreement_transitions').select('reason').where('to_status', '=', 'expired').executeTakeFirstOrThrow();
      assert.match(transition.reason, /end date 2027-12-31 has passed/);
      const register = await services.exchange.agreements.listRegister();
      assert.deepEqual(register.map((agreement) => agreement.reference), []);
    });

    test('register leaves out ended agreements', async () => {
      clock.now = new Date('2026-12-04T12:00:00Z');
      const reference = 'THR-ISA-2026-ENDS';
      await services.exchange.agreements.createDraft(scenario.council.dpo.actor, reference, directCareTerms(scenario, { end_date: '2026-12-31', review_date: '2026-12-31' }));
      await services.exchange.workflow.submit(scenario.council.dpo.actor, reference);
      await approveByAll(reference);
      assert.equal(await statusOf(reference), 'active');
      assert.deepEqual((await services.exchange.agreements.listRegister()).map((agreement) => agreement.reference), [reference]);

      // After the end date and before the daily check has run, the status is still active.
      clock.now = new Date('2027-01-01T09:00:00Z');
      assert.equal(await statusOf(reference), 'active');
      assert.deepEqual((await services.exchange.agreements.listRegister()).map((agreement) => agreement.reference), []);
    });
  });
}
