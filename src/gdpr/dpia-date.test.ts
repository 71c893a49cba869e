import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildOrganisation, buildUser } from '../../test/helpers/accounts.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { DpiaService, parseDpia } from './dpia.service.ts';
import { insertActiveAgreement, insertDataset } from './gdpr.test-support.ts';

const DPIA = {
  description: 'Care records shared with the trust',
  necessity: 'Needed to plan discharge',
  risks: [{ description: 'Re-identification', likelihood: 'possible', severity: 'significant', mitigation: 'NHS number pseudonymised' }],
  residualRisk: 'low',
};

for (const engine of testEngines()) {
  describe(`DPIA sign-off day (${engine.name})`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let council: string;
    let dpoId: string;
    let agreementId: string;

    before(async () => {
      handle = await engine.create();
      council = (await buildOrganisation(handle.db, { slug: 'thurrock-council' })).id;
      const trust = (await buildOrganisation(handle.db, { slug: 'basildon-trust' })).id;
      dpoId = (await buildUser(handle.db, { member: { organisationId: council, role: 'data_protection_officer' } })).id;
      const dataset = await insertDataset(handle.db, council, 'adult-social-care', 'Adult social care clients');
      agreementId = await insertActiveAgreement(handle.db, { reference: 'THR-ISA-2026-001', provider: council, recipients: [trust], datasetId: dataset, approverUserId: dpoId });
    });

    after(async () => {
      await handle.drop();
    });

    it('dates a summer save after midnight', async () => {
      // 23:30 UTC on 1 July is 00:30 on 2 July in the UK.
      const dpias = new DpiaService(handle.db, () => new Date('2026-07-01T23:30:00Z'));
      const actor = { organisationId: council, userId: dpoId, actorKind: 'user' as const, requestId: 'dpia-date' };
      await dpias.save(actor, agreementId, parseDpia(DPIA));

      const stored = await dpias.find(council, agreementId);
      assert.equal(stored?.signedOffOn, '2026-07-02');
    });
  });
}
