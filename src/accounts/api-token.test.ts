import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { buildOrganisation, buildUser, memberAuth, signedInClient } from '../../test/helpers/accounts.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { testServices } from '../../test/helpers/services.ts';
import { setPlatformScope } from '../db/tenant.ts';
import { AppError } from '../errors.ts';
import { buildApp } from '../http/app.ts';
import { requireToken } from '../http/auth.ts';
import type { Services } from '../services.ts';

function rejectsWith(kind: AppError['kind'], code: string) {
  return (error: unknown) => {
    assert.ok(error instanceof AppError, `expected AppError, got ${String(error)}`);
    assert.equal(error.kind, kind);
    assert.equal(error.code, code);
    return true;
  };
}

for (const engine of testEngines()) {
  describe(`API tokens on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let services: Services;
    let app: FastifyInstance;
    let organisationId: string;
    let userId: string;

    before(async () => {
      handle = await engine.create();
      services = testServices(handle.db);
      app = await buildApp(services);
      app.post('/test/upload', { preHandler: requireToken('write') }, async (request) => ({ organisation: request.auth?.organisationId }));
      await app.ready();
      organisationId = (await buildOrganisation(handle.db)).id;
      userId = (await buildUser(handle.db, { member: { organisationId, role: 'data_steward' } })).id;
    });
    after(async () => {
      await app.close();
      await handle.drop();
    });

    test('token is shown once and stored as a hash', async () => {
      const created = await services.tokens.create(memberAuth(userId, organisationId, 'data_steward'), { name: 'uploader', scopes: ['read', 'write'] });
      assert.match(created.token, /^civic_[a-z0-9]{8}_[A-Za-z0-9_-]{43}$/);
      const stored = await handle.db.owner.selectFrom('api_tokens').selectAll().where('id', '=', created.id).executeTakeFirstOrThrow();
      assert.equal(stored.prefix, created.prefix);
      assert.ok(!created.token.includes(stored.secret_hash));
      assert.equal(stored.secret_hash, services.tokens.hashSecret(created.token.slice('civic_'.length + created.prefix.length + 1)));
      const days = (stored.expires_at.getTime() - stored.created_at.getTime()) / 86_400_000;
      assert.ok(days > 89.9 && days <= 90.01, `default expiry is 90 days, got ${days}`);
      const audit = await handle.db.owner.selectFrom('audit_log').selectAll().where('subject_id', '=', created.id).execute();
      assert.deepEqual(audit.map((row) => row.action), ['api_token.created']);
      assert.equal(JSON.stringify(audit[0]?.details).includes(created.token), false);
    });

    test('bearer authentication checks scope', async () => {
      const created = await services.tokens.create(memberAuth(userId, organisationId, 'data_steward'), { name: 'reader', scopes: ['read'] });
      const ok = await services.tokens.authenticateBearer(`Bearer ${created.token}`, 'read');
      assert.deepEqual(ok, { tokenId: created.id, userId, organisationId, scopes: ['read'], roles: ['data_steward'], access: { plan: 'partner', applications: ['data_workspace', 'exchange'] } });
      await assert.rejects(services.tokens.authenticateBearer(`Bearer ${created.token}`, 'write'), rejectsWith('forbidden', 'token_scope'));
      await assert.rejects(services.tokens.authenticateBearer(undefined, 'read'), rejectsWith('unauthenticated', 'token_missing'));
      await assert.rejects(services.tokens.authenticateBearer('Bearer civic_abc', 'read'), rejectsWith('unauthenticated', 'token_invalid'));
      const forged = created.token.slice(0, -4) + (created.token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
      await assert.rejects(services.tokens.authenticateBearer(`Bearer ${forged}`, 'read'), rejectsWith('unauthenticated', 'token_invalid'));
    });

    test('last use is recorded at most once a minute', async () => {
      const created = await services.tokens.create(memberAuth(userId, organisationId, 'data_steward'), { name: 'poller', scopes: ['read'] });
      await services.tokens.authenticateBearer(`Bearer ${created.token}`, 'read');
      const first = await handle.db.owner.selectFrom('api_tokens').select('last_used_at').where('id', '=', created.id).executeTakeFirstOrThrow();
      assert.ok(first.last_used_at instanceof Date);
      await services.tokens.authenticateBearer(`Bearer ${created.token}`, 'read');
      const second = await handle.db.owner.selectFrom('api_tokens').select('last_used_at').where('id', '=', created.id).executeTakeFirstOrThrow();
      assert.equal(second.last_used_at?.getTime(), first.last_used_at.getTime());
      const backdated = await handle.db.owner
        .updateTable('api_tokens')
        .set({ last_used_at: sql<Date>`last_used_at - interval '2 minutes'` })
        .where('id', '=', created.id)
        .returning('last_used_at')
        .executeTakeFirstOrThrow();
      await services.tokens.authenticateBearer(`Bearer ${created.token}`, 'read');
      const third = await handle.db.owner.selectFrom('api_tokens').select('last_used_at').where('id', '=', created.id).executeTakeFirstOrThrow();
      assert.ok(third.last_used_at!.getTime() > backdated.last_used_at!.getTime(), 'a use two minutes later is recorded');
      const listed = await services.tokens.list(organisationId);
      assert.ok(listed.find((token) => token.id === created.id)?.lastUsedAt instanceof Date);
      assert.equal(Object.keys(listed[0]!).includes('secret_hash'), false);
    });

    test('expired and revoked tokens are rejected', async () => {
      const auth = memberAuth(userId, organisationId, 'data_steward');
      const expiring = await services.tokens.create(auth, { name: 'short', scopes: ['read'], expiresInDays: 1 });
      await handle.db.owner.updateTable('api_tokens').set({ expires_at: sql<Date>`now() - interval '1 second'`, created_at: sql<Date>`now() - interval '1 day'` } as never).where('id', '=', expiring.id).execute();
      await assert.rejects(services.tokens.authenticateBearer(`Bearer ${expiring.token}`, 'read'), rejectsWith('unauthenticated', 'token_expired'));

      const revoked = await services.tokens.create(auth, { name: 'gone', scopes: ['read'] });
      await services.tokens.revoke(auth, revoked.id);
      await assert.rejects(services.tokens.authenticateBearer(`Bearer ${revoked.token}`, 'read'), rejectsWith('unauthenticated', 'token_revoked'));
      const actions = await handle.db.owner.selectFrom('audit_log').select('action').where('subject_id', '=', revoked.id).orderBy('id').execute();
      assert.deepEqual(actions.map((row) => row.action), ['api_token.created', 'api_token.revoked']);
    });

    test('expiry above one year is rejected', async () => {
      await assert.rejects(
        services.tokens.create(memberAuth(userId, organisationId, 'data_steward'), { name: 'long', scopes: ['read'], expiresInDays: 400 }),
        rejectsWith('validation', 'invalid_token_request'),
      );
      await assert.rejects(
        services.tokens.create(memberAuth(userId, organisationId, 'data_steward'), { name: 'odd', scopes: ['admin'] }),
        rejectsWith('validation', 'invalid_token_request'),
      );
    });

    test('another member cannot revoke a token', async () => {
      const other = await buildUser(handle.db, { member: { organisationId, role: 'analyst' } });
      const created = await services.tokens.create(memberAuth(userId, organisationId, 'data_steward'), { name: 'mine', scopes: ['read'] });
      await assert.rejects(services.tokens.revoke(memberAuth(other.id, organisationId, 'analyst'), created.id), rejectsWith('not_found', 'token_not_found'));
      const outsider = await buildOrganisation(handle.db);
      await assert.rejects(services.tokens.revoke(memberAuth(other.id, outsider.id, 'administrator'), created.id), rejectsWith('not_found', 'token_not_found'));
      const row = await handle.db.owner.selectFrom('api_tokens').select('revoked_at').where('id', '=', created.id).executeTakeFirstOrThrow();
      assert.equal(row.revoked_at, null);
    });

    test('token of a closed organisation is rejected', async () => {
      const closing = await buildOrganisation(handle.db);
      const member = await buildUser(handle.db, { member: { organisationId: closing.id, role: 'administrator' } });
      const created = await services.tokens.create(memberAuth(member.id, closing.id, 'administrator'), { name: 'x', scopes: ['read'] });
      await handle.db.app.transaction().execute(async (trx) => {
        await setPlatformScope(trx);
        await trx.updateTable('organisations').set({ status: 'closed' }).where('id', '=', closing.id).execute();
      });
      await assert.rejects(services.tokens.authenticateBearer(`Bearer ${created.token}`, 'read'), rejectsWith('unauthenticated', 'token_inactive'));
    });

    test('pending organisation cannot make tokens', async () => {
      const pending = await buildOrganisation(handle.db, { status: 'pending' });
      const applicant = await buildUser(handle.db, { member: { organisationId: pending.id, role: 'administrator' } });
      await assert.rejects(
        services.tokens.create(memberAuth(applicant.id, pending.id, 'administrator'), { name: 'early', scopes: ['read'] }),
        rejectsWith('conflict', 'organisation_not_active'),
      );

      const client = await signedInClient(app, services, applicant.id, pending.id);
      await client.get('/account/tokens');
      const response = await client.post('/account/tokens', { name: 'early', scopes: 'read' });
      assert.equal(response.statusCode, 400);
      assert.match(response.body, /href="#token-form">You can make API tokens once the organisation has been approved/);
      assert.doesNotMatch(response.body, /civic_[a-z0-9]{8}_/);
      const stored = await handle.db.owner.selectFrom('api_tokens').select('id').where('organisation_id', '=', pending.id).execute();
      assert.deepEqual(stored, []);
    });

    test('token of a member who has left is rejected', async () => {
      const team = await buildOrganisation(handle.db);
      const leaver = await buildUser(handle.db, { member: { organisationId: team.id, role: 'analyst' } });
      const created = await services.tokens.create(memberAuth(leaver.id, team.id, 'analyst'), { name: 'leaver', scopes: ['read'] });
      await handle.db.owner.deleteFrom('memberships').where('organisation_id', '=', team.id).where('user_id', '=', leaver.id).execute();
      await assert.rejects(services.tokens.authenticateBearer(`Bearer ${created.token}`, 'read'), rejectsWith('unauthenticated', 'token_inactive'));
    });

    test('the token lookup function reveals nothing without the secret', async () => {
      await services.tokens.create(memberAuth(userId, organisationId, 'data_steward'), { name: 'hidden', scopes: ['read'] });
      const guessed = await sql`select * from civic_token_caller(${'0'.repeat(64)})`.execute(handle.db.app);
      assert.equal(guessed.rows.length, 0);
      const listed = await handle.db.app.selectFrom('api_tokens').select('secret_hash').execute();
      assert.equal(listed.length, 0, 'outside any scope the application role cannot list the hashes to feed the function');
    });

    test('requireToken guards a route by scope', async () => {
      const auth = memberAuth(userId, organisationId, 'data_steward');
      const writer = await services.tokens.create(auth, { name: 'w', scopes: ['write'] });
      const reader = await services.tokens.create(auth, { name: 'r', scopes: ['read'] });
      const anonymous = await app.inject({ method: 'POST', url: '/test/upload' });
      assert.equal(anonymous.statusCode, 401);
      assert.match(String(anonymous.headers['www-authenticate']), /Bearer/);
      const bad = await app.inject({ method: 'POST', url: '/test/upload', headers: { authorization: 'Bearer nonsense' } });
      assert.equal(bad.statusCode, 401);
      const wrongScope = await app.inject({ method: 'POST', url: '/test/upload', headers: { authorization: `Bearer ${reader.token}` } });
      assert.equal(wrongScope.statusCode, 403);
      const ok = await app.inject({ method: 'POST', url: '/test/upload', headers: { authorization: `Bearer ${writer.token}` } });
      assert.equal(ok.statusCode, 200);
      assert.deepEqual(ok.json(), { organisation: organisationId });
    });

    const setOrganisation = (id: string, values: { plan?: 'community' | 'partner'; applications?: Array<'data_workspace' | 'exchange'> }) =>
      handle.db.app.transaction().execute(async (trx) => {
        await setPlatformScope(trx);
        await trx.updateTable('organisations').set(values).where('id', '=', id).execute();
      });
    const tokenRows = (id: string) => handle.db.owner.selectFrom('api_tokens').select(['name', 'scopes']).where('organisation_id', '=', id).orderBy('created_at').execute();

    test('tokens page shows revoke and owner by role', async () => {
      const team = await buildOrganisation(handle.db);
      const admin = await buildUser(handle.db, { member: { organisationId: team.id, role: 'administrator' } });
      const viewer = await buildUser(handle.db, { member: { organisationId: team.id, role: 'viewer' } });
      const adminToken = await services.tokens.create(memberAuth(admin.id, team.id, 'administrator'), { name: 'nightly-export', scopes: ['read'] });
      const viewerToken = await services.tokens.create(memberAuth(viewer.id, team.id, 'viewer'), { name: 'my-dashboard', scopes: ['read'] });

      const viewerPage = await (await signedInClient(app, services, viewer.id, team.id)).get('/account/tokens');
      assert.equal(viewerPage.statusCode, 200);
      assert.match(viewerPage.body, new RegExp(`/account/tokens/${viewerToken.id}/revoke`), 'a viewer may revoke their own token');
      assert.doesNotMatch(viewerPage.body, new RegExp(`/account/tokens/${adminToken.id}/revoke`), 'but not someone else’s');
      assert.doesNotMatch(viewerPage.body, /Created by/, 'the owner column is for administrators');
      assert.doesNotMatch(viewerPage.body, new RegExp(admin.email));

      const adminPage = await (await signedInClient(app, services, admin.id, team.id)).get('/account/tokens');
      assert.match(adminPage.body, new RegExp(`/account/tokens/${viewerToken.id}/revoke`));
      assert.match(adminPage.body, new RegExp(`/account/tokens/${adminToken.id}/revoke`));
      assert.match(adminPage.body, /<th scope="col" class="govuk-table__header">Created by<\/th>/);
      assert.match(adminPage.body, new RegExp(viewer.email));
      assert.match(adminPage.body, new RegExp(admin.email));
    });

    test('scope outside the role is rejected', async () => {
      const team = await buildOrganisation(handle.db);
      await setOrganisation(team.id, { plan: 'community', applications: ['data_workspace'] });
      const viewer = await buildUser(handle.db, { member: { organisationId: team.id, role: 'viewer' } });
      const client = await signedInClient(app, services, viewer.id, team.id);
      const page = await client.get('/account/tokens');
      assert.match(page.body, /value="read"/);
      assert.doesNotMatch(page.body, /value="write"/, 'the form offers only scopes the member can use');
      assert.doesNotMatch(page.body, /value="exchange"/);
      assert.match(page.body, /Your role cannot use the write scope/);

      const write = await client.post('/account/tokens', { name: 'sneaky-writer', scopes: 'write', expiresInDays: '30' });
      assert.equal(write.statusCode, 400);
      assert.match(write.body, /href="#scopes">Your role cannot use the write scope, which is for data stewards, data protection officers and administrators. Select a scope you can use/);
      assert.match(write.body, /value="sneaky-writer"/, 'the name typed is kept');
      const exchange = await client.post('/account/tokens', { name: 'puller', scopes: 'exchange' });
      assert.equal(exchange.statusCode, 400);
      assert.match(exchange.body, /href="#scopes">The exchange scope needs Secure data exchange, which is not part of the Free community plan/);
      await assert.rejects(services.tokens.create(memberAuth(viewer.id, team.id, 'viewer'), { name: 'api', scopes: ['read', 'write'] }), rejectsWith('validation', 'token_scope_not_allowed'));
      assert.deepEqual(await tokenRows(team.id), [], 'no rejected token takes a plan slot');

      // The community plan allows 2 tokens: both still fit after the rejected ones.
      assert.equal((await client.post('/account/tokens', { name: 'first', scopes: 'read' })).statusCode, 200);
      assert.equal((await client.post('/account/tokens', { name: 'second', scopes: 'read' })).statusCode, 200);
      assert.deepEqual((await tokenRows(team.id)).map((row) => row.name), ['first', 'second']);
    });

    test('exchange scope needs the application', async () => {
      const team = await buildOrganisation(handle.db);
      await setOrganisation(team.id, { plan: 'partner', applications: ['data_workspace'] });
      const steward = await buildUser(handle.db, { member: { organisationId: team.id, role: 'data_steward' } });
      const auth = memberAuth(steward.id, team.id, 'data_steward');
      await assert.rejects(services.tokens.create(auth, { name: 'puller', scopes: ['exchange'] }), /The exchange scope needs Secure data exchange, which your organisation has not enabled/);
      const writer = await services.tokens.create(auth, { name: 'writer', scopes: ['write'] });
      assert.deepEqual(writer.scopes, ['write'], 'a data steward may use the write scope');
      await setOrganisation(team.id, { applications: ['data_workspace', 'exchange'] });
      const puller = await services.tokens.create(auth, { name: 'puller', scopes: ['exchange'] });
      assert.deepEqual(puller.scopes, ['exchange']);
    });

    test('token limit is a form error', async () => {
      const team = await buildOrganisation(handle.db);
      await setOrganisation(team.id, { plan: 'community', applications: ['data_workspace'] });
      const analyst = await buildUser(handle.db, { member: { organisationId: team.id, role: 'analyst' } });
      const client = await signedInClient(app, services, analyst.id, team.id);
      await client.get('/account/tokens');
      assert.equal((await client.post('/account/tokens', { name: 'one', scopes: 'read' })).statusCode, 200);
      assert.equal((await client.post('/account/tokens', { name: 'two', scopes: 'read' })).statusCode, 200);
      const third = await client.post('/account/tokens', { name: 'three', scopes: 'read', expiresInDays: '30' });
      assert.equal(third.statusCode, 400);
      assert.match(third.body, /href="#token-form">Your organisation has reached the limit of 2 active API tokens on the Free community plan. Revoke a token you no longer use first, or ask a platform administrator to move your organisation to another plan./);
      assert.doesNotMatch(third.body, /id="name-error"/, 'the error is not on the name field');
      assert.match(third.body, /id="token-form"/);
      assert.match(third.body, /value="three"/);
      assert.match(third.body, /value="30"/);
      assert.match(third.body, /value="read" checked/);
    });
  });
}
