import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { testEngines } from '../../test/helpers/engines.ts';
import { Database } from './database.ts';
import { FolderLockedError, lockDataFolder } from './folder-lock.ts';
import { setPlatformScope, withOrganisation } from './tenant.ts';

for (const engine of testEngines()) {
  describe(`database on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    before(async () => {
      handle = await engine.create();
    });
    after(async () => {
      await handle.drop();
    });

    test('migrations are idempotent', async () => {
      assert.deepEqual(await handle.db.migrate(), []);
    });

    test('requests run as the non-owner application role', async () => {
      const { rows } = await sql<{ user: string; superuser: string }>`select current_user as user, current_setting('is_superuser') as superuser`.execute(handle.db.app);
      assert.equal(rows[0]?.user, 'civic_app');
      assert.equal(rows[0]?.superuser, 'off');
    });

    test('private datasets are visible only to their organisation', async () => {
      const [council, charity] = await handle.db.app.transaction().execute(async (trx) => {
        await setPlatformScope(trx);
        return trx.insertInto('organisations').values([{ slug: 'council-a', name: 'Council A' }, { slug: 'charity-b', name: 'Charity B' }]).returning('id').execute();
      });
      await withOrganisation(handle.db.app, council!.id, (trx) =>
        trx.insertInto('datasets').values({ organisation_id: council!.id, slug: 'secret-list', title: 'Secret list' }).execute(),
      );
      const asCouncil = await withOrganisation(handle.db.app, council!.id, (trx) => trx.selectFrom('datasets').select('slug').execute());
      const asCharity = await withOrganisation(handle.db.app, charity!.id, (trx) => trx.selectFrom('datasets').select('slug').execute());
      const anonymous = await handle.db.app.selectFrom('datasets').select('slug').execute();
      assert.deepEqual(asCouncil.map((row) => row.slug), ['secret-list']);
      assert.deepEqual(asCharity, []);
      assert.deepEqual(anonymous, []);
      await assert.rejects(
        withOrganisation(handle.db.app, charity!.id, (trx) =>
          trx.insertInto('datasets').values({ organisation_id: council!.id, slug: 'forged', title: 'Forged' }).execute(),
        ),
        /row-level security/,
      );
    });
  });
}

describe('embedded data folder lock', () => {
  test('second holder is told which folder and what to do', () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'civic-lock-'));
    const lockPath = path.join(folder, 'civic.lock');
    // A live process other than this one holds the folder: the parent of this test process.
    fs.writeFileSync(lockPath, String(process.ppid));
    assert.throws(() => lockDataFolder(folder), (error: unknown) => {
      assert.ok(error instanceof FolderLockedError);
      assert.match(error.message, new RegExp(folder.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
      assert.match(error.message, /--server/);
      return true;
    });
    fs.rmSync(folder, { recursive: true });
  });

  test('stale lock from a dead process is taken over', async () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'civic-lock-'));
    fs.writeFileSync(path.join(folder, 'civic.lock'), '999999999');
    const db = await Database.open({ engine: 'pglite', dataDir: folder });
    assert.equal(fs.readFileSync(path.join(folder, 'civic.lock'), 'utf8'), String(process.pid));
    await db.close();
    assert.equal(fs.existsSync(path.join(folder, 'civic.lock')), false);
    fs.rmSync(folder, { recursive: true });
  });
});
