import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../db/database.ts';
import { withOrganisation } from '../db/tenant.ts';
import { KeyRing } from '../keys/key-ring.ts';
import { createLogger } from '../logger.ts';
import { buildOrganisation } from '../../test/helpers/accounts.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { appendAuditEvent, appendAuditEvents } from './audit.repository.ts';
import { exportLog, runProve, runVerify } from './audit-cli.ts';
import { readCheckpointFile, verifyDatabaseLog } from './audit-verify.ts';
import { CheckpointSigner } from './checkpoint-signer.ts';
import { CheckpointService } from './checkpoint.service.ts';

const ENTRY_COUNT = 30;

/**
 * Runs `civic audit verify` in process and returns its exit status and report lines. For the database it also checks
 * that hashing on worker threads (used for long logs) finds exactly what hashing on one thread finds.
 */
async function verify(db: Database | null, publicKey: Buffer, options: { fromId?: number; toId?: number; exportFile?: string; checkpointFile?: string } = {}) {
  const lines: string[] = [];
  const status = await runVerify(db, { ...options, publicKey }, (line) => lines.push(line));
  if (db !== null && options.exportFile === undefined) {
    const checkpoints = options.checkpointFile === undefined ? [] : readCheckpointFile(options.checkpointFile);
    const common = { fromId: options.fromId, toId: options.toId, checkpoints, publicKey };
    const single = await verifyDatabaseLog(db, { ...common, threads: 0 });
    const threaded = await verifyDatabaseLog(db, { ...common, threads: 2, batchBytes: 2000 });
    assert.deepEqual({ ...threaded, lastHash: threaded.lastHash.toString('hex'), root: threaded.root?.toString('hex') }, { ...single, lastHash: single.lastHash.toString('hex'), root: single.root?.toString('hex') });
  }
  return { status, lines, text: lines.join('\n') };
}

/** Runs owner SQL with the append-only triggers off, as someone with the owner's rights could. */
async function tamper(db: Database, statements: string): Promise<void> {
  await sql.raw(`alter table audit_log disable trigger user; ${statements}; alter table audit_log enable trigger user;`).execute(db.owner);
}

for (const engine of testEngines()) {
  describe(`audit chain (${engine.name})`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let db: Database;
    let checkpoints: CheckpointService;
    let publicKey: Buffer;
    let organisationId: string;

    before(async () => {
      handle = await engine.create();
      db = handle.db;
      const signer = new CheckpointSigner(new KeyRing(randomBytes(32)));
      publicKey = signer.publicKey;
      checkpoints = new CheckpointService(db, signer, createLogger('silent'));
      organisationId = (await buildOrganisation(db)).id;
      for (let index = 1; index <= ENTRY_COUNT - 10; index += 1) {
        await withOrganisation(db.app, organisationId, (trx) =>
          appendAuditEvent(trx, {
            organisationId,
            actorUserId: null,
            actorKind: 'system',
            action: 'test.event',
            subjectType: 'test',
            subjectId: String(index),
            requestId: `request-${index}`,
            details: { index, note: 'tab\there "quoted" \\ back', nested: { z: 1, a: [true, null, 1.5] } },
          }),
        );
      }
      const batch = Array.from({ length: 10 }, (_, offset) => ({
        organisationId: null,
        actorUserId: null,
        actorKind: 'platform' as const,
        action: 'test.batched',
        subjectType: 'test',
        details: { offset, text: 'line\nbreak é ✓' },
      }));
      await withOrganisation(db.app, organisationId, (trx) => appendAuditEvents(trx, batch));
      await sql.raw('create table audit_backup as select * from audit_log').execute(db.owner);
    });

    after(async () => {
      await handle.drop();
    });

    it('gives consecutive ids and links', async () => {
      const rows = await db.owner.selectFrom('audit_log').select(['id', 'prev_hash', 'entry_hash']).orderBy('id').execute();
      assert.deepEqual(rows.map((row) => Number(row.id)), Array.from({ length: ENTRY_COUNT }, (_, index) => index + 1));
      for (let index = 1; index < rows.length; index += 1) {
        assert.deepEqual(Buffer.from(rows[index]!.prev_hash), Buffer.from(rows[index - 1]!.entry_hash), `link into entry ${index + 1}`);
      }
      const head = await db.owner.selectFrom('audit_chain_head').select(['size', 'head_hash']).executeTakeFirstOrThrow();
      assert.equal(Number(head.size), ENTRY_COUNT);
      assert.deepEqual(Buffer.from(head.head_hash), Buffer.from(rows[rows.length - 1]!.entry_hash));
    });

    it('verifies an intact log', async () => {
      const result = await verify(db, publicKey);
      assert.equal(result.status, 0, result.text);
      assert.match(result.text, /entries 1 to 30 \(30 checked\)/);
      assert.match(result.text, /The audit log is intact/);
    });

    it('stores details as hashed text', async () => {
      const { rows } = await sql<{ details: string }>`select details::text as details from audit_log where id = 1`.execute(db.owner);
      assert.equal(rows[0]!.details, '{"index":1,"nested":{"a":[true,null,1.5],"z":1},"note":"tab\\there \\"quoted\\" \\\\ back"}');
    });

    it('verifies another JSON rendering', async () => {
      // Entries written while the column was jsonb read back with keys by length and spaces after separators.
      await tamper(db, 'update audit_log set details = details::jsonb::json where id in (2, 25)');
      try {
        const { rows } = await sql<{ details: string }>`select details::text as details from audit_log where id = 2`.execute(db.owner);
        assert.match(rows[0]!.details, /^\{"note": /);
        const result = await verify(db, publicKey);
        assert.equal(result.status, 0, result.text);
      } finally {
        await tamper(db, 'delete from audit_log; insert into audit_log select * from audit_backup');
      }
    });

    it('rejects update and delete by triggers', async () => {
      await assert.rejects(sql.raw(`update audit_log set action = 'test.changed' where id = 3`).execute(db.owner), /append-only/);
      await assert.rejects(sql.raw('delete from audit_log where id = 3').execute(db.owner), /append-only/);
    });

    it('keeps the application role to insert and select', async () => {
      await assert.rejects(
        withOrganisation(db.app, organisationId, (trx) => sql`update audit_log set action = 'test.changed' where id = 3`.execute(trx)),
        /permission denied/,
      );
    });

    for (const position of [1, 15, ENTRY_COUNT]) {
      it(`names an altered entry ${position}`, async () => {
        await tamper(db, `update audit_log set details = (details::jsonb || '{"index": 999}')::json where id = ${position}`);
        try {
          const result = await verify(db, publicKey);
          assert.equal(result.status, 1);
          assert.match(result.text, new RegExp(`^entry ${position} was altered$`, 'm'));
        } finally {
          await tamper(db, 'delete from audit_log; insert into audit_log select * from audit_backup');
        }
        assert.equal((await verify(db, publicKey)).status, 0);
      });

      it(`names a deleted entry ${position}`, async () => {
        await tamper(db, `delete from audit_log where id = ${position}`);
        try {
          const result = await verify(db, publicKey);
          assert.equal(result.status, 1);
          assert.match(result.text, new RegExp(`^entry ${position} is missing$`, 'm'));
          assert.doesNotMatch(result.text, /was altered/);
        } finally {
          await tamper(db, 'delete from audit_log; insert into audit_log select * from audit_backup');
        }
      });

      const first = position === ENTRY_COUNT ? position - 1 : position;
      it(`names reordered entries ${first} and ${first + 1}`, async () => {
        await tamper(db, `update audit_log set id = -1 where id = ${first}; update audit_log set id = ${first} where id = ${first + 1}; update audit_log set id = ${first + 1} where id = -1`);
        try {
          const result = await verify(db, publicKey);
          assert.equal(result.status, 1);
          assert.match(result.text, new RegExp(`^entries ${first} and ${first + 1} are out of order$`, 'm'));
          assert.doesNotMatch(result.text, /was altered/);
        } finally {
          await tamper(db, 'delete from audit_log; insert into audit_log select * from audit_backup');
        }
      });
    }

    it('names an entry whose hash was rewritten', async () => {
      // Someone who recomputes the altered entry's own hash still breaks the link from the entry after it.
      const row = await db.owner.selectFrom('audit_log').select('entry_hash').where('id', '=', 10).executeTakeFirstOrThrow();
      const forged = Buffer.from(row.entry_hash);
      forged[0] = forged[0]! ^ 0xff;
      await tamper(db, `update audit_log set entry_hash = '\\x${forged.toString('hex')}' where id = 10`);
      try {
        const result = await verify(db, publicKey);
        assert.equal(result.status, 1);
        assert.match(result.text, /^entry 10 was altered$/m);
      } finally {
        await tamper(db, 'delete from audit_log; insert into audit_log select * from audit_backup');
      }
    });

    it('checks a range from and to', async () => {
      await tamper(db, 'delete from audit_log where id = 25');
      try {
        const early = await verify(db, publicKey, { fromId: 5, toId: 20 });
        assert.equal(early.status, 0, early.text);
        assert.match(early.text, /entries 5 to 20 \(16 checked\)/);
        const late = await verify(db, publicKey, { fromId: 21, toId: 28 });
        assert.equal(late.status, 1);
        assert.match(late.text, /^entry 25 is missing$/m);
      } finally {
        await tamper(db, 'delete from audit_log; insert into audit_log select * from audit_backup');
      }
    });

    it('signs checkpoints and checks their roots', async () => {
      const first = await checkpoints.createCheckpoint();
      assert.equal(first.created, true);
      assert.equal(first.checkpoint?.treeSize, ENTRY_COUNT);
      const again = await checkpoints.createCheckpoint();
      assert.equal(again.created, false);

      const intact = await verify(db, publicKey);
      assert.equal(intact.status, 0, intact.text);
      assert.match(intact.text, /1 checkpoint\./);

      // Removing the last entry leaves a consistent chain, but the head and the checkpoint both still count it.
      await tamper(db, `delete from audit_log where id = ${ENTRY_COUNT}; update audit_chain_head set size = ${ENTRY_COUNT - 1}`);
      try {
        const result = await verify(db, publicKey);
        assert.equal(result.status, 1);
        assert.match(result.text, new RegExp(`checkpoint ${ENTRY_COUNT} covers ${ENTRY_COUNT} entries but the log ends at entry ${ENTRY_COUNT - 1}`));
      } finally {
        await tamper(db, `delete from audit_log; insert into audit_log select * from audit_backup; update audit_chain_head set size = ${ENTRY_COUNT}`);
      }

      const wrongKey = new CheckpointSigner(new KeyRing(randomBytes(32))).publicKey;
      const forged = await verify(db, wrongKey);
      assert.equal(forged.status, 1);
      assert.match(forged.text, new RegExp(`^checkpoint ${ENTRY_COUNT} has an invalid signature$`, 'm'));
    });

    it('proves inclusion of an entry', async () => {
      await checkpoints.createCheckpoint();
      const lines: string[] = [];
      for (const entryId of [1, 17, ENTRY_COUNT]) {
        const status = await runProve(db, checkpoints, entryId, { publicKey }, (line) => lines.push(line));
        assert.equal(status, 0, lines.join('\n'));
      }
      const proof = await checkpoints.inclusionProof(17);
      const altered = { ...proof, auditPath: [...proof.auditPath].reverse() };
      const failed: string[] = [];
      assert.equal(await runProve(db, checkpoints, 17, { proof: altered, publicKey }, (line) => failed.push(line)), 1);
      assert.match(failed.join('\n'), /does not lead to the root of checkpoint 30/);
      await assert.rejects(checkpoints.inclusionProof(ENTRY_COUNT + 5), /Audit entry 35 does not exist/);
      await assert.rejects(checkpoints.inclusionProof(3, 7), /no checkpoint of size 7/);
    });

    it('verifies an export file offline', async () => {
      const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'civic-audit-'));
      try {
        const file = path.join(folder, 'audit.jsonl');
        assert.equal(await exportLog(db, file, { fromId: 1 }), ENTRY_COUNT);
        const checkpointFile = path.join(folder, 'checkpoint.json');
        fs.writeFileSync(checkpointFile, JSON.stringify(await checkpoints.latestCheckpoint()));
        const intact = await verify(null, publicKey, { exportFile: file, checkpointFile });
        assert.equal(intact.status, 0, intact.text);

        const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
        const swapped = [...lines];
        [swapped[16], swapped[17]] = [swapped[17]!, swapped[16]!];
        fs.writeFileSync(file, `${swapped.join('\n')}\n`);
        const reordered = await verify(null, publicKey, { exportFile: file });
        assert.equal(reordered.status, 1);
        assert.match(reordered.text, /^entries 17 and 18 are out of order$/m);

        const edited = lines.map((line, index) => (index === 4 ? line.replace('"subject_id":"5"', '"subject_id":"6"') : line));
        fs.writeFileSync(file, `${edited.join('\n')}\n`);
        const altered = await verify(null, publicKey, { exportFile: file, checkpointFile });
        assert.equal(altered.status, 1);
        assert.match(altered.text, /^entry 5 was altered$/m);
        assert.match(altered.text, /does not match entries 1 to 30/);
      } finally {
        fs.rmSync(folder, { recursive: true, force: true });
      }
    });

    it('rejects unusable export files by name', async () => {
      const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'civic-audit-'));
      try {
        const existing = path.join(folder, 'existing.jsonl');
        fs.writeFileSync(existing, '');
        await assert.rejects(exportLog(db, existing, { fromId: 1 }), (error: NodeJS.ErrnoException) => error.code === 'EEXIST');
        await assert.rejects(exportLog(db, path.join(folder, 'missing', 'audit.jsonl'), { fromId: 1 }), (error: NodeJS.ErrnoException) => error.code === 'ENOENT');
        await assert.rejects(verify(null, publicKey, { exportFile: path.join(folder, 'none.jsonl') }), /export file .*none\.jsonl does not exist/);
        await assert.rejects(verify(null, publicKey, { exportFile: folder }), /is not a file/);
        await assert.rejects(verify(null, publicKey, { exportFile: existing }), /has no entries from entry 1/);
        const broken = path.join(folder, 'broken.jsonl');
        fs.writeFileSync(broken, 'not json\n');
        await assert.rejects(verify(null, publicKey, { exportFile: broken }), /broken\.jsonl line 1 is not valid JSON/);
        await assert.rejects(verify(null, publicKey, { exportFile: broken, checkpointFile: path.join(folder, 'none.json') }), /Cannot read the checkpoint file/);
      } finally {
        fs.rmSync(folder, { recursive: true, force: true });
      }
    });
  });
}
