/**
 * `civic admin` as an operator runs it: the real command in a child process, on an embedded database in a temporary
 * data folder, with no SMTP server, so messages go to the outbox and the command prints the link.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Database } from '../src/db/database.ts';
import { setPlatformScope } from '../src/db/tenant.ts';
import { buildOrganisation, buildUser } from './helpers/accounts.ts';
import { buildDataset } from './helpers/catalogue-builders.ts';
import { temporaryFolder } from './helpers/import-fixtures.ts';

const execFileAsync = promisify(execFile);
const CLI = path.resolve(import.meta.dirname, '../bin/civic.mjs');

describe('civic admin command', () => {
  const folder = temporaryFolder('civic-admin-');
  const dataDir = path.join(folder.path, 'data');
  const env: NodeJS.ProcessEnv = { ...process.env, CIVIC_DATA_DIR: dataDir, DATABASE_URL: '' };
  delete env.SMTP_URL;
  after(() => folder.remove());

  async function outbox(email: string): Promise<Array<{ subject: string; text_body: string }>> {
    const db = await Database.open({ engine: 'pglite', dataDir });
    try {
      await db.migrate();
      return await db.owner.selectFrom('outbox').select(['subject', 'text_body']).where('recipient', '=', email).orderBy('created_at').execute();
    } finally {
      await db.close();
    }
  }

  test('first password email, then reset', async () => {
    const email = 'first.admin@example.gov.uk';
    const created = await execFileAsync(process.execPath, [CLI, 'admin', 'create-platform-admin', email], { env });
    assert.match(created.stdout, /Created platform administrator first\.admin@example\.gov\.uk\./);
    const link = /https?:\/\/\S+\/account\/reset-password\/\S+/.exec(created.stdout)?.[0];
    assert.ok(link, created.stdout);

    const [first] = await outbox(email);
    assert.equal(first!.subject, 'Set your Thurrock Data Exchange password');
    assert.ok(first!.text_body.includes(link));
    assert.doesNotMatch(first!.text_body, /did not ask to reset/);

    // Running it again promotes the existing account, whose owner may already have a password.
    const promoted = await execFileAsync(process.execPath, [CLI, 'admin', 'create-platform-admin', email], { env });
    assert.match(promoted.stdout, /Promoted platform administrator/);
    const messages = await outbox(email);
    assert.equal(messages.length, 2);
    assert.equal(messages[1]!.subject, 'Reset your Thurrock Data Exchange password');
  });

  test('long email address is rejected', async () => {
    const longEmail = `${'a'.repeat(5000)}@example.gov.uk`;
    for (const args of [['create-platform-admin', longEmail], ['invite', 'any-organisation', longEmail], ['reset-two-factor', longEmail]]) {
      let status = 0;
      let stderr = '';
      try {
        await execFileAsync(process.execPath, [CLI, 'admin', ...args], { env });
      } catch (error) {
        const failed = error as { code: number; stderr: string };
        status = failed.code;
        stderr = failed.stderr;
      }
      assert.equal(status, 1, `${args[0]} exits with status 1`);
      assert.match(stderr, /254 characters or fewer/, `${args[0]} names the limit`);
    }
    assert.deepEqual(await outbox(longEmail), []);
  });

  test('reset-two-factor for a lost app', async () => {
    const email = 'first.admin@example.gov.uk';
    const reset = await execFileAsync(process.execPath, [CLI, 'admin', 'reset-two-factor', email], { env });
    assert.match(reset.stdout, /Reset two-factor authentication for first\.admin@example\.gov\.uk\./);
    const messages = await outbox(email);
    assert.equal(messages.at(-1)!.subject, 'Your Thurrock Data Exchange two-factor authentication was reset');
    assert.match(messages.at(-1)!.text_body, /reset by a platform administrator/);

    let status = 0;
    let stderr = '';
    try {
      await execFileAsync(process.execPath, [CLI, 'admin', 'reset-two-factor', 'nobody@example.gov.uk'], { env });
    } catch (error) {
      const failed = error as { code: number; stderr: string };
      status = failed.code;
      stderr = failed.stderr;
    }
    assert.equal(status, 1);
    assert.match(stderr, /No account uses the email address nobody@example\.gov\.uk\. Check the address\./);
  });

  test('set-plan checks limits and emails administrators', async () => {
    const db = await Database.open({ engine: 'pglite', dataDir });
    let administrator: string;
    try {
      await db.migrate();
      const organisation = await buildOrganisation(db, { slug: 'grays-food-bank' });
      await db.app.transaction().execute(async (trx) => {
        await setPlatformScope(trx);
        await trx.updateTable('organisations').set({ plan: 'partner', applications: ['data_workspace', 'exchange'] }).where('id', '=', organisation.id).execute();
      });
      administrator = (await buildUser(db, { member: { organisationId: organisation.id, role: 'administrator' } })).email;
      for (let index = 0; index < 6; index += 1) {
        await buildDataset(db, { organisation: { ...organisation, name: 'Grays Food Bank' }, slug: `grays-private-${index}`, visibility: 'private' });
      }
    } finally {
      await db.close();
    }

    const overLimit = await runAdmin(['set-plan', 'grays-food-bank', 'community', '--reason', 'Moving to the free plan']);
    assert.equal(overLimit.status, 1);
    assert.match(overLimit.stderr, /has 6 private datasets, where the Free community plan allows 5/);

    const unknown = await runAdmin(['set-plan', 'grays-food-bank', 'gold', '--reason', 'Upgrade']);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /The plan is "gold"\. Use community, partner or commercial\./);

    const missingReason = await runAdmin(['set-plan', 'grays-food-bank', 'commercial']);
    assert.equal(missingReason.status, 2);
    assert.match(missingReason.stderr, /--reason/);

    const moved = await runAdmin(['set-plan', 'grays-food-bank', 'commercial', '--reason', 'The food bank now trades as a social enterprise']);
    assert.equal(moved.status, 0, moved.stderr);
    assert.match(moved.stdout, /Moved Organisation grays-food-bank from the Partner plan to the Commercial plan\./);
    assert.match(moved.stdout, /We have emailed its administrator\. These applications were turned off: Secure data exchange\./);
    const [message] = await outbox(administrator);
    assert.equal(message!.subject, 'Organisation grays-food-bank is now on the Commercial plan');
    assert.match(message!.text_body, /Price: £250 a month excluding VAT\./);
    assert.match(message!.text_body, /The food bank now trades as a social enterprise/);
  });

  /** Runs `civic admin` with `args` and returns its exit status and output, failing or not. */
  async function runAdmin(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await execFileAsync(process.execPath, [CLI, 'admin', ...args], { env });
      return { status: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { status: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  }
});
