import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Database } from '../db/database.ts';
import { withOrganisation } from '../db/tenant.ts';
import { buildOrganisation } from '../../test/helpers/accounts.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { appendAuditEvents } from './audit.repository.ts';

/** More entries than one INSERT statement takes (2,000): two INSERT statements, then a third that also updates the head. */
const EVENT_COUNT = 4001;

for (const engine of testEngines()) {
  describe(`audit chain appends in batches (${engine.name})`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let db: Database;

    before(async () => {
      handle = await engine.create();
      db = handle.db;
    });

    after(async () => {
      await handle.drop();
    });

    it('links every entry across batches', async () => {
      const organisationId = (await buildOrganisation(db)).id;
      const events = Array.from({ length: EVENT_COUNT }, (_, index) => ({
        organisationId,
        actorUserId: null,
        actorKind: 'system' as const,
        action: 'test.batched',
        subjectType: 'test',
        details: { index },
      }));
      const ids = await withOrganisation(db.app, organisationId, (trx) => appendAuditEvents(trx, events));
      assert.deepEqual(ids, Array.from({ length: EVENT_COUNT }, (_, index) => index + 1));

      const rows = await db.owner.selectFrom('audit_log').select(['id', 'prev_hash', 'entry_hash']).orderBy('id').execute();
      assert.equal(rows.length, EVENT_COUNT);
      for (let index = 1; index < rows.length; index += 1) {
        assert.deepEqual(Buffer.from(rows[index]!.prev_hash), Buffer.from(rows[index - 1]!.entry_hash), `link into entry ${index + 1}`);
      }
      const head = await db.owner.selectFrom('audit_chain_head').select(['size', 'head_hash']).executeTakeFirstOrThrow();
      assert.equal(Number(head.size), EVENT_COUNT);
      assert.deepEqual(Buffer.from(head.head_hash), Buffer.from(rows[rows.length - 1]!.entry_hash));
    });
  });
}
