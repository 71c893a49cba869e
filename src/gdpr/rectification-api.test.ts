import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildOrganisation, buildUser, memberAuth } from '../../test/helpers/accounts.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { testServices } from '../../test/helpers/services.ts';
import type { OrganisationRole, TokenScope } from '../accounts/accounts.tables.ts';
import { withOrganisation } from '../db/tenant.ts';
import { buildApp } from '../http/app.ts';
import type { Services } from '../services.ts';

const CORRECTION = { action: 'rectified', kind: 'nhs_number', identifier: '9434765919', description: 'Corrected the home address' };

for (const engine of testEngines()) {
  describe(`rectification API access on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let services: Services;
    let app: FastifyInstance;
    let organisationId: string;

    before(async () => {
      handle = await engine.create();
      services = testServices(handle.db);
      app = await buildApp(services);
      organisationId = (await buildOrganisation(handle.db)).id;
    });

    after(async () => {
      await app.close();
      await handle.drop();
    });

    async function tokenFor(role: OrganisationRole, scopes: TokenScope[]): Promise<string> {
      const user = await buildUser(handle.db, { member: { organisationId, role } });
      const created = await services.tokens.create(memberAuth(user.id, organisationId, role), { name: `${role} ${scopes.join(' ')}`, scopes });
      return created.token;
    }

    async function recordedCount(): Promise<number> {
      const rows = await withOrganisation(handle.db.app, organisationId, (trx) => trx.selectFrom('subject_rectifications').select('id').execute());
      return rows.length;
    }

    async function postCorrection(token: string) {
      return app.inject({ method: 'POST', url: '/api/v1/gdpr/rectifications', headers: { authorization: `Bearer ${token}` }, payload: CORRECTION });
    }

    test('read-only token is refused', async () => {
      const response = await postCorrection(await tokenFor('data_protection_officer', ['read']));
      assert.equal(response.statusCode, 403);
      assert.equal(response.json().error.code, 'token_scope');
      assert.match(response.json().error.message, /"write" scope/);
      assert.equal(await recordedCount(), 0);
    });

    test('write token records it', async () => {
      const response = await postCorrection(await tokenFor('data_protection_officer', ['write']));
      assert.equal(response.statusCode, 201);
      assert.equal(await recordedCount(), 1);
    });

    test('steward with write is refused', async () => {
      const response = await postCorrection(await tokenFor('data_steward', ['read', 'write']));
      assert.equal(response.statusCode, 403);
      assert.equal(response.json().error.code, 'role_required');
      assert.match(response.json().error.message, /data protection officer/);
      assert.equal(await recordedCount(), 1);
    });
  });
}
