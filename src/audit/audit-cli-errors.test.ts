import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../db/database.ts';
import { withOrganisation } from '../db/tenant.ts';
import { auditCommand } from '../cli/audit.command.ts';
import { UsageError } from '../cli/command.ts';
import { AppError } from '../errors.ts';
import { KeyRing } from '../keys/key-ring.ts';
import { createLogger } from '../logger.ts';
import { buildOrganisation } from '../../test/helpers/accounts.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { appendAuditEvents } from './audit.repository.ts';
import { exportLog, runProve, runVerify } from './audit-cli.ts';
import { CheckpointSigner } from './checkpoint-signer.ts';
import { CheckpointService } from './checkpoint.service.ts';

const ENTRY_COUNT = 12;

/** Runs owner SQL with the append-only triggers off, as someone with the owner's rights could. */
async function tamper(db: Database, statements: string): Promise<void> {
  await sql.raw(`alter table audit_log disable trigger user; ${statements}; alter table audit_log enable trigger user;`).execute(db.owner);
}

/** Checks that `promise` fails with an error the command line prints as a message, not as a stack trace. */
async function rejectsWithMessage(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof AppError, `expected an AppError, got ${String(error)}`);
    assert.match(error.message, pattern);
    return true;
  });
}

for (const engine of testEngines()) {
  describe(`audit command messages (${engine.name})`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let db: Database;
    let checkpoints: CheckpointService;
    let publicKey: Buffer;
    let folder: string;

    before(async () => {
      handle = await engine.create();
      db = handle.db;
      const signer = new CheckpointSigner(new KeyRing(randomBytes(32)));
      publicKey = signer.publicKey;
      checkpoints = new CheckpointService(db, signer, createLogger('silent'));
      const organisationId = (await buildOrganisation(db)).id;
      const events = Array.from({ length: ENTRY_COUNT }, (_, index) => ({
        organisationId,
        actorUserId: null,
        actorKind: 'system' as const,
        action: 'test.event',
        subjectType: 'test',
        details: { index },
      }));
      await withOrganisation(db.app, organisationId, (trx) => appendAuditEvents(trx, events));
      await checkpoints.createCheckpoint();
      await sql.raw('create table audit_backup as select * from audit_log').execute(db.owner);
      folder = fs.mkdtempSync(path.join(os.tmpdir(), 'civic-audit-messages-'));
    });

    after(async () => {
      fs.rmSync(folder, { recursive: true, force: true });
      await handle.drop();
    });

    it('tells what to do after a failure', async () => {
      await tamper(db, 'update audit_log set details = \'{"index": 99}\' where id = 4');
      try {
        const lines: string[] = [];
        assert.equal(await runVerify(db, { publicKey }, (line) => lines.push(line)), 1);
        assert.match(lines.join('\n'), /^entry 4 was altered$/m);
        assert.match(lines.at(-1)!, /Leave the database as it is and report a security incident/);
        assert.match(lines.at(-1)!, /civic audit export/);
      } finally {
        await tamper(db, 'delete from audit_log; insert into audit_log select * from audit_backup');
      }
    });

    it('tells what to do after a file fails', async () => {
      const file = path.join(folder, 'altered.jsonl');
      await exportLog(db, file, { fromId: 1 });
      const lines = fs.readFileSync(file, 'utf8').replace('"index":3', '"index":30');
      fs.writeFileSync(file, lines);
      const report: string[] = [];
      assert.equal(await runVerify(null, { exportFile: file, publicKey }, (line) => report.push(line)), 1);
      assert.match(report.at(-1)!, /This file is not the log as it was exported/);
    });

    it('rejects a range past the end', async () => {
      await rejectsWithMessage(runVerify(db, { fromId: 30, publicKey }, () => {}), /^--from 30 is after the last entry: the audit log ends at entry 12\. Give an entry id from 1 to 12\.$/);
    });

    it('rejects a range after a deleted entry', async () => {
      await tamper(db, 'delete from audit_log where id = 5');
      try {
        await rejectsWithMessage(runVerify(db, { fromId: 6, publicKey }, () => {}), /Entry 5, which the range starting at 6 links to, is missing/);
      } finally {
        await tamper(db, 'delete from audit_log; insert into audit_log select * from audit_backup');
      }
    });

    it('names an invalid checkpoint file', async () => {
      const file = path.join(folder, 'empty-checkpoint.json');
      fs.writeFileSync(file, '{}');
      await rejectsWithMessage(runVerify(db, { checkpointFile: file, publicKey }, () => {}), /empty-checkpoint\.json has no valid "treeSize".*Give a checkpoint saved from \/api\/v1\/audit\/checkpoints/);
    });

    it('refuses a proof over a gap', async () => {
      await tamper(db, 'delete from audit_log where id = 7');
      try {
        await rejectsWithMessage(runProve(db, checkpoints, 3, { publicKey }, () => {}), /holds 11 of the 12 entries of checkpoint 12.*civic audit verify/);
      } finally {
        await tamper(db, 'delete from audit_log; insert into audit_log select * from audit_backup');
      }
    });

    it('rejects an export past the end', async () => {
      const file = path.join(folder, 'past-the-end.jsonl');
      await rejectsWithMessage(exportLog(db, file, { fromId: 500 }), /^The audit log has no entries from entry 500, so .*past-the-end\.jsonl was not written\. The log ends at entry 12; give --from and --to between 1 and 12\.$/);
      assert.equal(fs.existsSync(file), false, 'no empty file is left behind');
    });

    it('rejects a reversed export range', async () => {
      const file = path.join(folder, 'reversed.jsonl');
      await assert.rejects(auditCommand.run(['export', '--out', file, '--from', '5', '--to', '3']), (error: unknown) => error instanceof UsageError && /--to 3 comes before --from 5/.test(error.message));
      assert.equal(fs.existsSync(file), false);
    });

    it('names an entry after the checkpoint', async () => {
      const organisationId = (await buildOrganisation(db)).id;
      const event = { organisationId, actorUserId: null, actorKind: 'system' as const, action: 'test.late', subjectType: 'test' };
      await withOrganisation(db.app, organisationId, (trx) => appendAuditEvents(trx, [event]));
      await assert.rejects(checkpoints.inclusionProof(ENTRY_COUNT + 1), /newer than the checkpoint of size 12\. Sign a new checkpoint with "civic audit checkpoint"/);
      await assert.rejects(checkpoints.inclusionProof(ENTRY_COUNT + 1, ENTRY_COUNT), /newer than the checkpoint of size 12\. Ask for a later checkpoint\./);
    });

    it('names an entry past the log', async () => {
      await assert.rejects(checkpoints.inclusionProof(500), (error: unknown) => error instanceof AppError && error.kind === 'not_found' && /Audit entry 500 does not exist/.test(error.message));
    });
  });
}
