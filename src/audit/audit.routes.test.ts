import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { withOrganisation } from '../db/tenant.ts';
import type { RunningServer } from '../main.ts';
import { buildOrganisation } from '../../test/helpers/accounts.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { startTestServer, testServices } from '../../test/helpers/services.ts';
import { appendAuditEvents } from './audit.repository.ts';
import { checkProof } from './audit-cli.ts';
import type { InclusionProof } from './checkpoint.service.ts';

for (const engine of testEngines()) {
  describe(`audit routes (${engine.name})`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let server: RunningServer;

    before(async () => {
      handle = await engine.create();
      const services = testServices(handle.db);
      server = await startTestServer(services);
    });

    after(async () => {
      await server.close();
      await handle.drop();
    });

    it('reports no checkpoint before signing', async () => {
      const response = await fetch(`${server.url}/api/v1/audit/checkpoints/latest`);
      assert.equal(response.status, 404);
      const body = (await response.json()) as { error: { code: string } };
      assert.equal(body.error.code, 'checkpoint_not_found');
    });

    it('publishes checkpoints and proofs', async () => {
      const { db, audit } = server.services;
      const organisationId = (await buildOrganisation(db)).id;
      const events = Array.from({ length: 12 }, (_, index) => ({
        organisationId,
        actorUserId: null,
        actorKind: 'system' as const,
        action: 'test.event',
        subjectType: 'test',
        subjectId: String(index + 1),
      }));
      await withOrganisation(db.app, organisationId, (trx) => appendAuditEvents(trx, events.slice(0, 7)));
      await audit.checkpoints.createCheckpoint();
      await withOrganisation(db.app, organisationId, (trx) => appendAuditEvents(trx, events.slice(7)));
      await audit.checkpoints.createCheckpoint();

      const list = (await (await fetch(`${server.url}/api/v1/audit/checkpoints`)).json()) as { publicKey: string; checkpoints: { treeSize: number }[] };
      assert.deepEqual(list.checkpoints.map((checkpoint) => checkpoint.treeSize), [12, 7]);
      assert.equal(Buffer.from(list.publicKey, 'base64').length, 32);
      const page = (await (await fetch(`${server.url}/api/v1/audit/checkpoints?before=12`)).json()) as { checkpoints: { treeSize: number }[] };
      assert.deepEqual(page.checkpoints.map((checkpoint) => checkpoint.treeSize), [7]);

      const latest = (await (await fetch(`${server.url}/api/v1/audit/checkpoints/latest`)).json()) as { treeSize: number };
      assert.equal(latest.treeSize, 12);

      const publicKey = Buffer.from(list.publicKey, 'base64');
      for (const [entryId, size] of [[3, 7], [7, 7], [3, 12], [12, 12]] as const) {
        const response = await fetch(`${server.url}/api/v1/audit/entries/${entryId}/proof?checkpoint=${size}`);
        assert.equal(response.status, 200);
        const proof = (await response.json()) as InclusionProof;
        assert.equal(proof.treeSize, size);
        assert.deepEqual(await checkProof(db, proof, publicKey), [], `entry ${entryId} in checkpoint ${size}`);
      }
    });

    it('rejects proofs beyond a checkpoint', async () => {
      const newer = await fetch(`${server.url}/api/v1/audit/entries/9/proof?checkpoint=7`);
      assert.equal(newer.status, 400);
      const missing = await fetch(`${server.url}/api/v1/audit/entries/3/proof?checkpoint=8`);
      assert.equal(missing.status, 404);
      const invalid = await fetch(`${server.url}/api/v1/audit/entries/zero/proof`);
      assert.equal(invalid.status, 400);
    });
  });
}
