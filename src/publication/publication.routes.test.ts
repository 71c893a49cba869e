import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildOrganisation, buildUser, memberAuth, tokenAfterRoleChange } from '../../test/helpers/accounts.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { startTestServer, testServices } from '../../test/helpers/services.ts';
import type { OrganisationRole, TokenScope } from '../accounts/accounts.tables.ts';
import type { RunningServer } from '../main.ts';
import type { Services } from '../services.ts';

const CLEAN_FILE = 'samples/spending/DCCSpendingOver500_202504-redacted.csv';

for (const engine of testEngines()) {
  describe(`visibility endpoint on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let services: Services;
    let server: RunningServer;
    let organisation: { id: string; slug: string };
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'civic-visibility-'));

    async function tokenFor(role: OrganisationRole, scopes: TokenScope[]): Promise<string> {
      const user = await buildUser(handle.db, { member: { organisationId: organisation.id, role } });
      const created = await services.tokens.create(memberAuth(user.id, organisation.id, role), { name: `${role} token`, scopes });
      return created.token;
    }

    async function importInto(dataset: string, file: string): Promise<void> {
      await services.imports.importFile({ path: file, filename: path.basename(file) }, { organisation: organisation.slug, dataset, actor: { kind: 'operator', name: 'test' } });
    }

    async function putVisibility(dataset: string, token: string, visibility: string): Promise<{ status: number; body: any }> {
      const response = await fetch(`${server.url}/api/v1/datasets/${dataset}/visibility`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ visibility }),
      });
      return { status: response.status, body: await response.json() };
    }

    before(async () => {
      handle = await engine.create();
      services = testServices(handle.db);
      server = await startTestServer(services);
      organisation = await buildOrganisation(handle.db, { slug: 'thurrock-council' });
      await importInto('devon-spending', CLEAN_FILE);
    });
    after(async () => {
      await server.close();
      await handle.drop();
      fs.rmSync(folder, { recursive: true, force: true });
    });

    test('administrator token opens and closes', async () => {
      const token = await tokenFor('administrator', ['read', 'write']);
      const opened = await putVisibility('devon-spending', token, 'open');
      assert.equal(opened.status, 200, JSON.stringify(opened.body));
      assert.equal(opened.body.visibility, 'open');
      const closed = await putVisibility('devon-spending', token, 'private');
      assert.equal(closed.status, 200, JSON.stringify(closed.body));
      assert.equal(closed.body.visibility, 'private');
      const dataset = await handle.db.owner.selectFrom('datasets').select('id').where('slug', '=', 'devon-spending').executeTakeFirstOrThrow();
      const actions = await handle.db.owner.selectFrom('audit_log').select('action').where('subject_id', '=', dataset.id).orderBy('id').execute();
      assert.deepEqual(actions.map((row) => row.action), ['dataset.opened', 'dataset.made_private']);
    });

    test('data steward token opens', async () => {
      const token = await tokenFor('data_steward', ['write']);
      const opened = await putVisibility('devon-spending', token, 'open');
      assert.equal(opened.status, 200, JSON.stringify(opened.body));
    });

    test('refusal counts one cell', async () => {
      const file = path.join(folder, 'contacts.csv');
      fs.writeFileSync(file, 'Ward,Service,Contact\nAveley,Meals,info@example.org\nGrays,Meals,\n');
      await importInto('contacts', file);
      const token = await tokenFor('data_steward', ['write']);
      const refused = await putVisibility('contacts', token, 'open');
      assert.equal(refused.status, 409);
      assert.equal(refused.body.error.code, 'personal_data_found');
      assert.match(refused.body.error.message, /Contact \(email_address, 1 cell\)/);
      assert.deepEqual(refused.body.error.fields, [{ field: 'Contact', message: 'Contains email address in 1 cell' }]);
    });

    test('analyst token gets 403', async () => {
      const token = await tokenAfterRoleChange(handle.db, services, organisation.id, 'analyst');
      const refused = await putVisibility('devon-spending', token, 'private');
      assert.equal(refused.status, 403);
      assert.equal(refused.body.error.code, 'data_steward_required');
      assert.match(refused.body.error.message, /Only a data steward or an administrator of the organisation/);
    });

    test('administrator read-only token gets 403', async () => {
      const token = await tokenFor('administrator', ['read']);
      const refused = await putVisibility('devon-spending', token, 'private');
      assert.equal(refused.status, 403);
      assert.equal(refused.body.error.code, 'write_scope_required');
    });
  });
}
