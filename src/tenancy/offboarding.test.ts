import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import yauzl from 'yauzl';
import { buildOrganisation, buildUser, memberAuth, signedInClient } from '../../test/helpers/accounts.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { testServices } from '../../test/helpers/services.ts';
import { buildApp } from '../http/app.ts';
import type { Services } from '../services.ts';

/** Reads every entry of a zip into text, by name. */
function unzip(buffer: Buffer): Promise<Map<string, string>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buffer, { lazyEntries: true }, (error, zip) => {
      if (error || !zip) return reject(error);
      const files = new Map<string, string>();
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError || !stream) return reject(streamError);
          const chunks: Buffer[] = [];
          stream.on('data', (chunk: Buffer) => chunks.push(chunk));
          stream.on('end', () => {
            files.set(entry.fileName, Buffer.concat(chunks).toString('utf8'));
            zip.readEntry();
          });
        });
      });
      zip.on('end', () => resolve(files));
      zip.readEntry();
    });
  });
}

for (const engine of testEngines()) {
  describe(`export and offboarding on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let services: Services;
    let app: FastifyInstance;

    before(async () => {
      handle = await engine.create();
      services = testServices(handle.db);
      app = await buildApp(services);
      await app.ready();
    });
    after(async () => {
      await app.close();
      await handle.drop();
    });

    test('export holds no secrets', async () => {
      const organisation = await buildOrganisation(handle.db);
      const other = await buildOrganisation(handle.db);
      const admin = await buildUser(handle.db, { member: { organisationId: organisation.id, role: 'administrator' } });
      const outsider = await buildUser(handle.db, { member: { organisationId: other.id, role: 'administrator' } });
      const token = await services.tokens.create(memberAuth(admin.id, organisation.id, 'administrator'), { name: 'nightly load', scopes: ['read'] });
      await services.tenancy.members.invite(memberAuth(admin.id, organisation.id, 'administrator'), 'new.person@example.org', 'analyst');

      const client = await signedInClient(app, services, admin.id, organisation.id);
      await client.get('/organisation/settings');
      const response = await app.inject({
        method: 'POST',
        url: '/organisation/export',
        headers: { cookie: [...client.cookies].map(([name, value]) => `${name}=${value}`).join('; '), 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ _csrf: client.csrfToken! }).toString(),
      });
      assert.equal(response.statusCode, 200);
      assert.equal(response.headers['content-type'], 'application/zip');
      assert.match(String(response.headers['content-disposition']), new RegExp(`${organisation.slug}-export-\\d{4}-\\d{2}-\\d{2}\\.zip`));
      const files = await unzip(response.rawPayload);
      assert.deepEqual([...files.keys()].sort(), ['api-tokens.csv', 'audit-log.csv', 'datasets.json', 'invitations.csv', 'members.csv', 'organisation.json']);
      assert.equal(JSON.parse(files.get('organisation.json')!).id, organisation.id);
      assert.match(files.get('members.csv')!, new RegExp(admin.email));
      assert.equal(files.get('members.csv')!.includes(outsider.email), false);
      assert.match(files.get('api-tokens.csv')!, /nightly load/);
      assert.match(files.get('invitations.csv')!, /new\.person@example\.org/);
      assert.match(files.get('audit-log.csv')!, /api_token\.created/);
      const everything = [...files.values()].join('\n');
      assert.equal(everything.includes('$argon2'), false, 'no password hashes');
      // The secret is everything after `civic_<prefix>_`; it may itself hold underscores.
      const secret = token.token.slice('civic_'.length + token.prefix.length + 1);
      assert.equal(secret.length, 43);
      assert.equal(everything.includes(secret), false, 'no token secret');
      const hashes = await handle.db.owner.selectFrom('api_tokens').select('secret_hash').where('organisation_id', '=', organisation.id).execute();
      for (const row of hashes) assert.equal(everything.includes(row.secret_hash), false, 'no token hash');
      const audit = await handle.db.owner.selectFrom('audit_log').select('action').where('organisation_id', '=', organisation.id).where('action', '=', 'organisation.exported').execute();
      assert.equal(audit.length, 1);
    });

    test('viewer cannot export', async () => {
      const organisation = await buildOrganisation(handle.db);
      const viewer = await buildUser(handle.db, { member: { organisationId: organisation.id, role: 'viewer' } });
      const client = await signedInClient(app, services, viewer.id, organisation.id);
      await client.get('/organisation');
      assert.equal((await client.post('/organisation/export', {})).statusCode, 403);
    });

    test('closing revokes sessions and tokens', async () => {
      const organisation = await buildOrganisation(handle.db);
      const member = await buildUser(handle.db, { member: { organisationId: organisation.id, role: 'analyst' } });
      const platformAdmin = await buildUser(handle.db, { platformAdmin: true });
      const token = await services.tokens.create(memberAuth(member.id, organisation.id, 'analyst'), { name: 'reports', scopes: ['read'] });
      const memberClient = await signedInClient(app, services, member.id, organisation.id);
      assert.equal((await memberClient.get('/organisation')).statusCode, 200);

      const admin = await signedInClient(app, services, platformAdmin.id, null);
      await admin.get('/admin/organisations');
      const missing = await admin.post(`/admin/organisations/${organisation.id}/close`, { closeReason: '' });
      assert.equal(missing.statusCode, 400);
      assert.match(missing.body, new RegExp(`href="#closeReason-${organisation.id}">Enter the reason for closing`));
      const closed = await admin.post(`/admin/organisations/${organisation.id}/close`, { closeReason: 'The charity has been wound up.' });
      assert.equal(closed.statusCode, 200, closed.body);
      assert.match(closed.body, /1 session and 1 API token were revoked/);

      const row = await handle.db.owner.selectFrom('organisations').select(['status', 'closed_at']).where('id', '=', organisation.id).executeTakeFirstOrThrow();
      assert.equal(row.status, 'closed');
      assert.notEqual(row.closed_at, null);
      assert.equal((await memberClient.get('/organisation')).statusCode, 401, 'the member’s session has ended');
      const bearer = await app.inject({ method: 'GET', url: '/api/v1/datasets', headers: { authorization: `Bearer ${token.token}` } });
      assert.equal(bearer.statusCode, 401);
      const signIn = await services.accounts.signIn.signIn(member.email, member.password);
      assert.equal(signIn.started.session.organisationId, null, 'signing in again does not enter the closed organisation');
      await assert.rejects(services.accounts.signIn.switchOrganisation(signIn.started.session.id, member.id, organisation.id), /not a member/);
      const audit = await handle.db.owner.selectFrom('audit_log').select(['action', 'actor_kind']).where('organisation_id', '=', organisation.id).where('action', '=', 'organisation.closed').executeTakeFirstOrThrow();
      assert.equal(audit.actor_kind, 'platform');
    });

    test('plan change refused past limits', async () => {
      const organisation = await buildOrganisation(handle.db);
      const member = await buildUser(handle.db, { member: { organisationId: organisation.id, role: 'administrator' } });
      for (const name of ['one', 'two', 'three']) await services.tokens.create(memberAuth(member.id, organisation.id, 'administrator'), { name, scopes: ['read'] });
      const platformAdmin = await buildUser(handle.db, { platformAdmin: true });
      const admin = await signedInClient(app, services, platformAdmin.id, null);
      await admin.get('/admin/organisations');

      const missing = await admin.post(`/admin/organisations/${organisation.id}/plan`, { newPlan: 'commercial', planReason: '' });
      assert.equal(missing.statusCode, 400);
      assert.match(missing.body, new RegExp(`href="#planReason-${organisation.id}">Enter the reason for the change`));
      const tooMany = await admin.post(`/admin/organisations/${organisation.id}/plan`, { newPlan: 'community', planReason: 'Asked for the free plan.' });
      assert.equal(tooMany.statusCode, 400);
      assert.match(tooMany.body, /has 3 active API tokens, where the Free community plan allows 2/);
      const unchanged = await handle.db.owner.selectFrom('organisations').select('plan').where('id', '=', organisation.id).executeTakeFirstOrThrow();
      assert.equal(unchanged.plan, 'partner');

      const moved = await admin.post(`/admin/organisations/${organisation.id}/plan`, { newPlan: 'commercial', planReason: 'Now a social enterprise.' });
      assert.equal(moved.statusCode, 200, moved.body);
      assert.match(moved.body, /is now on the Commercial plan\. We have emailed its administrator\. These applications were turned off: Secure data exchange\./);
      const row = await handle.db.owner.selectFrom('organisations').select(['plan', 'applications']).where('id', '=', organisation.id).executeTakeFirstOrThrow();
      assert.equal(row.plan, 'commercial');
      assert.equal(row.applications.includes('exchange'), false);
      const audit = await handle.db.owner.selectFrom('audit_log').select('actor_kind').where('organisation_id', '=', organisation.id).where('action', '=', 'organisation.plan_changed').executeTakeFirstOrThrow();
      assert.equal(audit.actor_kind, 'platform');

      const memberClient = await signedInClient(app, services, member.id, organisation.id);
      const page = await memberClient.get('/organisation');
      assert.match(page.body, /Commercial plan \(£250 a month excluding VAT\)/);
      assert.match(page.body, /Active API tokens[\s\S]*?3 of 20/);
    });
  });
}
