import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../db/database.ts';
import { withOrganisation } from '../db/tenant.ts';
import { KeyRing } from '../keys/key-ring.ts';
import { buildOrganisation } from '../../test/helpers/accounts.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { appendAuditEvent } from './audit.repository.ts';
import { verifyDatabaseLog } from './audit-verify.ts';
import { DisclosureLog, type DisclosureRecord } from './disclosure.repository.ts';
import { lockChainHead } from './chain.repository.ts';

/**
 * Releases that queue their subjects append to the audit chain after the head their process remembers, without
 * locking it first. These tests check that the chain stays whole when that head is out of date: after another
 * appender, after a rolled-back release, and with many releases at once.
 */
for (const engine of testEngines()) {
  describe(`disclosures after a remembered chain head (${engine.name})`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let db: Database;
    let log: DisclosureLog;
    let council: string;
    let trust: string;

    before(async () => {
      handle = await engine.create();
      db = handle.db;
      log = new DisclosureLog(new KeyRing(randomBytes(32)));
      council = (await buildOrganisation(db)).id;
      trust = (await buildOrganisation(db)).id;
    });

    after(async () => {
      await handle.drop();
    });

    function record(afterRowId: number): DisclosureRecord {
      return {
        organisationId: council,
        recipientOrganisationId: trust,
        agreementId: randomUUID(),
        agreementVersion: 1,
        purpose: 'direct_care',
        datasetId: randomUUID(),
        resourceId: randomUUID(),
        fields: ['care_package'],
        rowCount: 10,
        occurredAt: new Date(),
        requestId: null,
        subjects: [],
        rows: { afterRowId, lastRowId: afterRowId + 10 },
        deferSubjects: true,
      };
    }

    const release = (afterRowId: number) => withOrganisation(db.app, council, (trx) => log.appendDisclosure(trx, record(afterRowId)));

    /** Checks every hash and link of the chain, and that the head names the last entry. */
    async function assertChainWhole(): Promise<number> {
      const report = await verifyDatabaseLog(db, { publicKey: randomBytes(32), threads: 0 });
      assert.deepEqual(report.problems, []);
      const { rows } = await sql<{ size: string; head_hash: Uint8Array; last_id: string; last_hash: Uint8Array }>`
        select h.size, h.head_hash, l.id as last_id, l.entry_hash as last_hash
        from audit_chain_head h, (select id, entry_hash from audit_log order by id desc limit 1) l`.execute(db.owner);
      const [head] = rows;
      assert.ok(head);
      assert.equal(Number(head.size), Number(head.last_id));
      assert.equal(Buffer.from(head.head_hash).toString('hex'), Buffer.from(head.last_hash).toString('hex'));
      assert.equal(report.checked, Number(head.size));
      return Number(head.size);
    }

    it('chains releases one after another', async () => {
      const first = await release(0);
      const second = await release(10);
      assert.equal(second.auditEntryId, first.auditEntryId + 1);
      await assertChainWhole();
    });

    it('chains a release after another appender moved the head', async () => {
      const before = await release(20);
      const other = await withOrganisation(db.app, council, (trx) =>
        appendAuditEvent(trx, { organisationId: council, actorUserId: null, actorKind: 'system', action: 'test.other_append', subjectType: 'test' }),
      );
      assert.equal(other, before.auditEntryId + 1);
      const after = await release(30);
      assert.equal(after.auditEntryId, other + 1);
      await assertChainWhole();
    });

    it('chains a release after one that rolled back', async () => {
      await assert.rejects(
        withOrganisation(db.app, council, async (trx) => {
          await log.appendDisclosure(trx, record(40));
          throw new Error('the response could not be sent');
        }),
        /could not be sent/,
      );
      const size = await assertChainWhole();
      const next = await release(50);
      assert.equal(next.auditEntryId, size + 1);
      await assertChainWhole();
    });

    it('chains releases made at once', async () => {
      const before = await assertChainWhole();
      const appended = await Promise.all(Array.from({ length: 8 }, (_, index) => release(100 + index * 10)));
      const ids = appended.map((disclosure) => disclosure.auditEntryId).sort((a, b) => a - b);
      assert.deepEqual(ids, Array.from({ length: 8 }, (_, index) => before + index + 1));
      assert.equal(await assertChainWhole(), before + 8);
      const { rows } = await sql<{ count: string }>`select count(*) as count from disclosures where id in (${sql.join(appended.map((disclosure) => disclosure.id))})`.execute(db.owner);
      assert.equal(Number(rows[0]!.count), 8);
    });

    it('waits for a release that holds the head', async () => {
      // One transaction holds the head lock while a release from this process runs: the release waits, then chains
      // after the entry that transaction appended.
      await release(200);
      let holderEntry = 0;
      let releaseEntry = 0;
      await withOrganisation(db.app, council, async (trx) => {
        await lockChainHead(trx);
        const pending = release(210).then((disclosure) => (releaseEntry = disclosure.auditEntryId));
        holderEntry = await appendAuditEvent(trx, { organisationId: council, actorUserId: null, actorKind: 'system', action: 'test.holder_append', subjectType: 'test' });
        // Only PostgreSQL runs the two transactions at once; PGlite runs the release after this one ends.
        if (engine.name === 'postgres') await new Promise((resolve) => setTimeout(resolve, 50));
        assert.equal(releaseEntry, 0);
        void pending;
      });
      await waitFor(() => releaseEntry !== 0);
      assert.equal(releaseEntry, holderEntry + 1);
      await assertChainWhole();
    });
  });
}

async function waitFor(condition: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 200 && !condition(); attempt++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(condition(), 'the release did not finish');
}
