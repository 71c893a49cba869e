import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { OrganisationRole } from '../accounts/accounts.tables.ts';
import { buildUser } from '../../test/helpers/accounts.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { testServices } from '../../test/helpers/services.ts';
import { activeAgreement, AGREEMENT_REFERENCE, buildScenario, type Scenario } from '../../test/fixtures/social-care/scenario.ts';
import { AppError } from '../errors.ts';
import type { Services } from '../services.ts';
import type { Actor } from './agreement.types.ts';

/** Asserts that `work` is refused with a 403 carrying `code`, and returns the message. */
async function refused(work: Promise<unknown>, code: string): Promise<string> {
  try {
    await work;
  } catch (error) {
    assert.ok(error instanceof AppError, String(error));
    assert.equal(error.kind, 'forbidden');
    assert.equal(error.code, code);
    return error.message;
  }
  assert.fail(`expected a refusal with ${code}`);
}

for (const engine of testEngines()) {
  describe(`agreement status rules on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let services: Services;
    let scenario: Scenario;
    /** Members who are not named as approvers in the agreement. */
    const unnamed: Record<string, Actor> = {};

    async function member(organisationId: string, role: OrganisationRole): Promise<Actor> {
      const user = await buildUser(handle.db, { member: { organisationId, role } });
      return { userId: user.id, organisationId, roles: [role], kind: 'user', requestId: null };
    }

    const status = async () => (await handle.db.owner.selectFrom('agreements').select('status').where('reference', '=', AGREEMENT_REFERENCE).executeTakeFirstOrThrow()).status;

    before(async () => {
      handle = await engine.create();
      services = testServices(handle.db);
      scenario = await buildScenario(services);
      await activeAgreement(services, scenario);
      unnamed.councilAdministrator = await member(scenario.council.id, 'administrator');
      unnamed.councilDpo = await member(scenario.council.id, 'data_protection_officer');
      unnamed.trustAdministrator = await member(scenario.trust.id, 'administrator');
      unnamed.trustDpo = await member(scenario.trust.id, 'data_protection_officer');
    });
    after(async () => {
      await handle.drop();
    });

    test('administrator alone cannot suspend', async () => {
      const message = await refused(services.exchange.workflow.suspend(unnamed.trustAdministrator!, AGREEMENT_REFERENCE, 'Concerns'), 'agreement_role');
      assert.match(message, /data protection officer or senior information risk owner/);
      assert.equal(await status(), 'active');
    });

    test('recipient SIRO can suspend', async () => {
      // The trust's SIRO is an administrator named as the senior information risk owner approver.
      await services.exchange.workflow.suspend(scenario.trust.siro.actor, AGREEMENT_REFERENCE, 'Breach reported at the trust');
      assert.equal(await status(), 'suspended');
    });

    test('recipient cannot resume', async () => {
      const message = await refused(services.exchange.workflow.resume(scenario.trust.dpo.actor, AGREEMENT_REFERENCE, 'Fixed'), 'agreement_not_provider');
      assert.match(message, /Only the provider of THR-ISA-2026-014 can resume it/);
      assert.match(message, /Council data protection officer or Council SIRO/);
      assert.equal(await status(), 'suspended');
    });

    test('unnamed provider DPO cannot resume', async () => {
      const message = await refused(services.exchange.workflow.resume(unnamed.councilDpo!, AGREEMENT_REFERENCE, 'Fixed'), 'not_named_approver');
      assert.match(message, /approvers named for the provider/);
      assert.equal(await status(), 'suspended');
    });

    test('provider approver can resume', async () => {
      await services.exchange.workflow.resume(scenario.council.siro.actor, AGREEMENT_REFERENCE, 'Investigation closed');
      assert.equal(await status(), 'active');
    });

    test('unnamed recipient DPO can suspend', async () => {
      await services.exchange.workflow.suspend(unnamed.trustDpo!, AGREEMENT_REFERENCE, 'Our own concerns');
      assert.equal(await status(), 'suspended');
      await services.exchange.workflow.resume(scenario.council.dpo.actor, AGREEMENT_REFERENCE, 'Concerns answered');
      assert.equal(await status(), 'active');
    });

    test('recipient cannot terminate', async () => {
      await refused(services.exchange.workflow.terminate(scenario.trust.dpo.actor, AGREEMENT_REFERENCE, 'No longer needed'), 'agreement_not_provider');
      assert.equal(await status(), 'active');
    });

    test('unnamed provider administrator cannot terminate', async () => {
      await refused(services.exchange.workflow.terminate(unnamed.councilAdministrator!, AGREEMENT_REFERENCE, 'No longer needed'), 'not_named_approver');
      assert.equal(await status(), 'active');
    });

    test('non-party cannot suspend', async () => {
      const police = await member(scenario.police.id, 'data_protection_officer');
      await assert.rejects(services.exchange.workflow.suspend(police, AGREEMENT_REFERENCE, 'Not ours'), (error: unknown) => error instanceof AppError && error.code === 'agreement_not_found');
      assert.equal(await status(), 'active');
    });

    test('provider approver can terminate', async () => {
      await services.exchange.workflow.terminate(scenario.council.dpo.actor, AGREEMENT_REFERENCE, 'Service decommissioned');
      assert.equal(await status(), 'terminated');
      const transitions = await handle.db.owner.selectFrom('agreement_transitions').select(['actor_user_id', 'reason']).where('to_status', '=', 'terminated').execute();
      assert.deepEqual(transitions, [{ actor_user_id: scenario.council.dpo.userId, reason: 'Service decommissioned' }]);
    });
  });
}
