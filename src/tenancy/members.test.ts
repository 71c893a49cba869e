import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildOrganisation, buildUser, memberAuth, signedInClient, type BuiltOrganisation } from '../../test/helpers/accounts.ts';
import { buildDataset, createDatastoreTable, recordResource } from '../../test/helpers/catalogue-builders.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { testServices } from '../../test/helpers/services.ts';
import { WebClient } from '../../test/helpers/web-client.ts';
import { generate } from 'otplib';
import { setPlatformScope } from '../db/tenant.ts';
import { buildApp } from '../http/app.ts';
import type { TableSchemaField } from '../ingest/table-schema.ts';
import type { Services } from '../services.ts';

const FIELDS: TableSchemaField[] = [{ name: 'ward', title: 'Ward', type: 'string' }];

for (const engine of testEngines()) {
  describe(`members and invitations on ${engine.name}`, () => {
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

    const invitationLink = async (email: string) => {
      const message = await handle.db.owner.selectFrom('outbox').select('text_body').where('recipient', '=', email).orderBy('id', 'desc').executeTakeFirstOrThrow();
      return /\/invitations\/([A-Za-z0-9_-]{43})/.exec(message.text_body)![1]!;
    };
    /** Builds `count` open datasets of the organisation, each with one loaded version. */
    const buildOrganisationDatasets = async (organisation: BuiltOrganisation & { name: string }, count: number) => {
      const built = [];
      for (let index = 0; index < count; index += 1) {
        const dataset = await buildDataset(handle.db, { organisation, slug: `${organisation.slug}-set-${index}`, visibility: 'open' });
        const tableName = `t_${randomBytes(8).toString('hex')}`;
        await createDatastoreTable(handle.db, tableName, FIELDS);
        await recordResource(handle.db, { dataset, fields: FIELDS, tableName, rowCount: 0 });
        built.push(dataset);
      }
      return built;
    };
    /** Moves a built organisation to the free community plan, whose limits are low enough to reach in a test. */
    const moveToCommunityPlan = (organisationId: string) =>
      handle.db.app.transaction().execute(async (trx) => {
        await setPlatformScope(trx);
        await trx.updateTable('organisations').set({ plan: 'community' }).where('id', '=', organisationId).execute();
      });
    const membership = (organisationId: string, userId: string) =>
      handle.db.owner.selectFrom('memberships').selectAll().where('organisation_id', '=', organisationId).where('user_id', '=', userId).executeTakeFirst();

    test('invite, accept with a new account', async () => {
      const organisation = await buildOrganisation(handle.db);
      const admin = await buildUser(handle.db, { member: { organisationId: organisation.id, role: 'administrator' } });
      const client = await signedInClient(app, services, admin.id, organisation.id);
      await client.get('/organisation/members');

      const bad = await client.post('/organisation/invitations', { email: 'not-an-email', role: '' });
      assert.equal(bad.statusCode, 400);
      assert.match(bad.body, /href="#email">Enter an email address in the correct format/);
      assert.match(bad.body, /href="#role">Select a role/);
      assert.match(bad.body, /value="not-an-email"/);

      const sent = await client.post('/organisation/invitations', { email: 'Priya@Example.org', role: 'analyst' });
      assert.equal(sent.statusCode, 200, sent.body);
      assert.match(sent.body, /We have emailed an invitation to priya@example.org/);
      const token = await invitationLink('priya@example.org');
      const stored = await handle.db.owner.selectFrom('invitations').selectAll().where('email', '=', 'priya@example.org').executeTakeFirstOrThrow();
      assert.match(stored.token_hash, /^[0-9a-f]{64}$/);
      assert.notEqual(stored.token_hash, token, 'only the hash is stored');

      const invitee = new WebClient(app);
      const page = await invitee.get(`/invitations/${token}`);
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /Join Organisation/);
      const weak = await invitee.post(`/invitations/${token}`, { displayName: 'Priya Shah', password: 'short' });
      assert.equal(weak.statusCode, 400);
      assert.match(weak.body, /href="#password">Password must be 12 characters or more/);
      assert.match(weak.body, /value="Priya Shah"/);
      const accepted = await invitee.post(`/invitations/${token}`, { displayName: 'Priya Shah', password: 'maple river lantern' });
      assert.equal(accepted.statusCode, 200, accepted.body);
      const user = await handle.db.owner.selectFrom('users').selectAll().where('email', '=', 'priya@example.org').executeTakeFirstOrThrow();
      assert.notEqual(user.email_verified_at, null);
      assert.equal((await membership(organisation.id, user.id))?.role, 'analyst');

      const reused = await new WebClient(app).get(`/invitations/${token}`);
      assert.equal(reused.statusCode, 404, 'the link works once');
      assert.match(reused.body, /This invitation link no longer works/);
      // The same form sent twice, as after a double click, gets the same page rather than "Page not found".
      const again = await invitee.post(`/invitations/${token}`, { displayName: 'Priya Shah', password: 'maple river lantern' });
      assert.equal(again.statusCode, 404);
      assert.match(again.body, /This invitation link no longer works/);
      assert.match(again.body, /If you have just accepted this invitation, sign in/);
      assert.doesNotMatch(again.body, /Page not found/);
      const actions = await handle.db.owner.selectFrom('audit_log').select('action').where('organisation_id', '=', organisation.id).orderBy('id').execute();
      assert.deepEqual(actions.map((row) => row.action), ['invitation.created', 'invitation.accepted']);
    });

    test('invitation email length is limited', async () => {
      const organisation = await buildOrganisation(handle.db);
      const admin = await buildUser(handle.db, { member: { organisationId: organisation.id, role: 'administrator' } });
      const client = await signedInClient(app, services, admin.id, organisation.id);
      await client.get('/organisation/members');
      const longEmail = `${'a'.repeat(5000)}@example.org`;
      const rejected = await client.post('/organisation/invitations', { email: longEmail, role: 'viewer' });
      assert.equal(rejected.statusCode, 400);
      assert.match(rejected.body, /href="#email">Email address must be 254 characters or fewer/);
      const longest = `${'b'.repeat(254 - '@example.org'.length)}@example.org`;
      assert.equal((await client.post('/organisation/invitations', { email: longest, role: 'viewer' })).statusCode, 200, 'exactly 254 characters is allowed');
      await assert.rejects(services.tenancy.members.inviteAsPlatform(organisation.slug, longEmail, 'viewer'), /Email address must be 254 characters or fewer/);
      const stored = await handle.db.owner.selectFrom('invitations').select('email').where('organisation_id', '=', organisation.id).execute();
      assert.deepEqual(stored.map((row) => row.email), [longest]);
      await assert.rejects(
        handle.db.owner.insertInto('invitations').values({ organisation_id: organisation.id, token_hash: 'f'.repeat(64), email: longEmail, role: 'viewer', expires_at: new Date(Date.now() + 60_000) }).execute(),
        /invitations_email_length/,
        'the database rejects a longer address from any other path',
      );
    });

    test('platform invites a first administrator', async () => {
      const organisation = await buildOrganisation(handle.db);
      await assert.rejects(services.tenancy.members.inviteAsPlatform('no-such-organisation', 'first@example.org', 'administrator'), /No organisation has the slug "no-such-organisation"/);
      await assert.rejects(services.tenancy.members.inviteAsPlatform(organisation.slug, 'not-an-email', 'administrator'), /Enter an email address in the correct format/);
      await services.tenancy.members.inviteAsPlatform(organisation.slug, 'First@Example.org', 'administrator');
      const token = await invitationLink('first@example.org');
      const invitee = new WebClient(app);
      assert.equal((await invitee.get(`/invitations/${token}`)).statusCode, 200);
      const accepted = await invitee.post(`/invitations/${token}`, { displayName: 'First Admin', password: 'maple river lantern' });
      assert.equal(accepted.statusCode, 200, accepted.body);
      const user = await handle.db.owner.selectFrom('users').select('id').where('email', '=', 'first@example.org').executeTakeFirstOrThrow();
      assert.equal((await membership(organisation.id, user.id))?.role, 'administrator');
      const invited = await handle.db.owner.selectFrom('invitations').select('invited_by').where('email', '=', 'first@example.org').executeTakeFirstOrThrow();
      assert.equal(invited.invited_by, null);
      const created = await handle.db.owner.selectFrom('audit_log').select(['actor_kind', 'actor_user_id']).where('organisation_id', '=', organisation.id).where('action', '=', 'invitation.created').executeTakeFirstOrThrow();
      assert.equal(created.actor_kind, 'platform');
      assert.equal(created.actor_user_id, null);
    });

    test('signed-in user must match the invited email', async () => {
      const organisation = await buildOrganisation(handle.db);
      const admin = await buildUser(handle.db, { member: { organisationId: organisation.id, role: 'administrator' } });
      const invited = await buildUser(handle.db);
      const stranger = await buildUser(handle.db);
      await services.tenancy.members.invite(memberAuth(admin.id, organisation.id, 'administrator'), invited.email, 'viewer');
      const token = await invitationLink(invited.email);

      const wrong = await signedInClient(app, services, stranger.id, null);
      await wrong.get(`/invitations/${token}`);
      const refused = await wrong.post(`/invitations/${token}`, {});
      assert.equal(refused.statusCode, 403);
      assert.equal(await membership(organisation.id, stranger.id), undefined);

      const right = await signedInClient(app, services, invited.id, null);
      await right.get(`/invitations/${token}`);
      const accepted = await right.post(`/invitations/${token}`, {});
      assert.equal(accepted.statusCode, 200);
      assert.equal((await membership(organisation.id, invited.id))?.role, 'viewer');
    });

    test('expired invitation is refused', async () => {
      const organisation = await buildOrganisation(handle.db);
      const admin = await buildUser(handle.db, { member: { organisationId: organisation.id, role: 'administrator' } });
      await services.tenancy.members.invite(memberAuth(admin.id, organisation.id, 'administrator'), 'late@example.org', 'viewer');
      const token = await invitationLink('late@example.org');
      await handle.db.app.transaction().execute(async (trx) => {
        await setPlatformScope(trx);
        await trx.updateTable('invitations').set({ expires_at: new Date(Date.now() - 1000) }).where('email', '=', 'late@example.org').execute();
      });
      const page = await new WebClient(app).get(`/invitations/${token}`);
      assert.equal(page.statusCode, 404);
      assert.match(page.body, /This invitation link no longer works/);
      assert.match(page.body, /Invitation links work once, for 7 days/);
    });

    test('replaced invitation link is explained', async () => {
      const organisation = await buildOrganisation(handle.db);
      const admin = await buildUser(handle.db, { member: { organisationId: organisation.id, role: 'administrator' } });
      const auth = memberAuth(admin.id, organisation.id, 'administrator');
      await services.tenancy.members.invite(auth, 'twice@example.org', 'viewer');
      const first = await invitationLink('twice@example.org');
      await services.tenancy.members.invite(auth, 'Twice@Example.org', 'analyst');
      const second = await invitationLink('twice@example.org');
      assert.notEqual(first, second);

      const page = await new WebClient(app).get(`/invitations/${first}`);
      assert.equal(page.statusCode, 404);
      assert.match(page.body, /sends a new one to the same email address, which replaces it/);
      assert.doesNotMatch(page.body, /has expired/);
      assert.equal((await new WebClient(app).get(`/invitations/${second}`)).statusCode, 200);
    });

    test('role change and last administrator', async () => {
      const organisation = await buildOrganisation(handle.db);
      const admin = await buildUser(handle.db, { member: { organisationId: organisation.id, role: 'administrator' } });
      const steward = await buildUser(handle.db, { member: { organisationId: organisation.id, role: 'data_steward' } });
      const client = await signedInClient(app, services, admin.id, organisation.id);
      await client.get('/organisation/members');

      const demoteSelf = await client.post(`/organisation/members/${admin.id}/role`, { role: 'viewer' });
      assert.equal(demoteSelf.statusCode, 400, 'the members page comes back with the error');
      assert.match(demoteSelf.body, new RegExp(`href="#role-${admin.id}">You cannot [^<]*last administrator`));
      assert.match(demoteSelf.body, new RegExp(`id="role-${admin.id}-error"`));
      const removeSelf = await client.post(`/organisation/members/${admin.id}/remove`, {});
      assert.equal(removeSelf.statusCode, 400);
      assert.match(removeSelf.body, new RegExp(`href="#remove-${admin.id}">You cannot [^<]*last administrator`));
      assert.match(removeSelf.body, new RegExp(`id="remove-${admin.id}"`));
      assert.equal((await membership(organisation.id, admin.id))?.role, 'administrator');

      assert.equal((await client.post(`/organisation/members/${steward.id}/role`, { role: 'administrator' })).statusCode, 303);
      assert.equal((await membership(organisation.id, steward.id))?.role, 'administrator');
      assert.equal((await client.post(`/organisation/members/${admin.id}/role`, { role: 'viewer' })).statusCode, 303);
      assert.equal((await membership(organisation.id, admin.id))?.role, 'viewer');

      const bad = await client.post(`/organisation/members/${steward.id}/role`, { role: 'owner' });
      assert.equal(bad.statusCode, 403, 'the demoted user is no longer an administrator');
      const stewardClient = await signedInClient(app, services, steward.id, organisation.id);
      await stewardClient.get('/organisation/members');
      assert.equal((await stewardClient.post(`/organisation/members/${steward.id}/role`, { role: 'owner' })).statusCode, 400);
      assert.equal((await stewardClient.post(`/organisation/members/${admin.id}/remove`, {})).statusCode, 303);
      assert.equal(await membership(organisation.id, admin.id), undefined);
      const actions = await handle.db.owner.selectFrom('audit_log').select('action').where('organisation_id', '=', organisation.id).orderBy('id').execute();
      assert.deepEqual(actions.map((row) => row.action), ['membership.role_changed', 'membership.role_changed', 'membership.removed']);
    });

    test('promotion limits a live session', async () => {
      const organisation = await buildOrganisation(handle.db);
      const admin = await buildUser(handle.db, { member: { organisationId: organisation.id, role: 'administrator' } });
      const viewer = await buildUser(handle.db, { member: { organisationId: organisation.id, role: 'viewer' } });
      const viewerClient = new WebClient(app);
      await viewerClient.get('/sign-in');
      const signedIn = await viewerClient.post('/sign-in', { email: viewer.email, password: viewer.password });
      assert.equal(signedIn.headers.location, '/account', 'a viewer signs in without a second factor');
      assert.equal((await viewerClient.get('/organisation')).statusCode, 200);
      assert.equal((await viewerClient.get('/account')).statusCode, 200, 'the page gives the session’s CSRF token');

      const adminClient = await signedInClient(app, services, admin.id, organisation.id);
      await adminClient.get('/organisation/members');
      assert.equal((await adminClient.post(`/organisation/members/${viewer.id}/role`, { role: 'administrator' })).statusCode, 303);

      const page = await viewerClient.get('/organisation/members');
      assert.equal(page.statusCode, 303);
      assert.equal(page.headers.location, '/account/two-factor/setup');
      const refused = await viewerClient.post('/organisation/invitations', { email: 'sneaky@example.org', role: 'administrator' });
      assert.equal(refused.statusCode, 401);
      assert.match(refused.body, /Your role needs two-factor authentication/);
      assert.match(refused.body, /href="\/account\/two-factor\/setup"/);
      const invited = await handle.db.owner.selectFrom('invitations').select('id').where('email', '=', 'sneaky@example.org').execute();
      assert.deepEqual(invited, []);
      const api = await viewerClient.get('/api/tokens');
      assert.equal(api.statusCode, 401);
      assert.equal(JSON.parse(api.body).error.code, 'second_factor_setup_required');

      const setup = await viewerClient.get('/account/two-factor/setup');
      assert.equal(setup.statusCode, 200);
      const secret = /id="totp-secret">([A-Z2-7]+)</.exec(setup.body)![1]!;
      assert.equal((await viewerClient.post('/account/two-factor/setup', { code: await generate({ secret }) })).statusCode, 303);
      assert.equal((await viewerClient.get('/organisation/members')).statusCode, 200, 'the session is complete again');
    });

    test('promotion asks for an existing app', async () => {
      const organisation = await buildOrganisation(handle.db);
      const admin = await buildUser(handle.db, { member: { organisationId: organisation.id, role: 'administrator' } });
      const analyst = await buildUser(handle.db, { member: { organisationId: organisation.id, role: 'analyst' } });
      const analystClient = new WebClient(app);
      await analystClient.get('/sign-in');
      await analystClient.post('/sign-in', { email: analyst.email, password: analyst.password });
      // The analyst sets up an authenticator app from their account settings, which completes no second factor step.
      const { secret } = await services.accounts.signIn.beginTotpSetup(analyst.id);
      await services.accounts.signIn.confirmTotpSetup(analyst.id, await generate({ secret }), null);
      assert.equal((await analystClient.get('/organisation')).statusCode, 200);

      await services.tenancy.members.changeRole(memberAuth(admin.id, organisation.id, 'administrator'), analyst.id, 'data_protection_officer');
      const page = await analystClient.get('/organisation');
      assert.equal(page.statusCode, 303);
      assert.equal(page.headers.location, '/sign-in/two-factor');
      assert.equal((await analystClient.get('/sign-in/two-factor')).statusCode, 200);
      const code = await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 });
      assert.equal((await analystClient.post('/sign-in/two-factor', { code })).statusCode, 303);
      assert.equal((await analystClient.get('/organisation')).statusCode, 200);
    });

    test('member of another organisation is not found', async () => {
      const mine = await buildOrganisation(handle.db);
      const theirs = await buildOrganisation(handle.db);
      const admin = await buildUser(handle.db, { member: { organisationId: mine.id, role: 'administrator' } });
      const other = await buildUser(handle.db, { member: { organisationId: theirs.id, role: 'analyst' } });
      const client = await signedInClient(app, services, admin.id, mine.id);
      const page = await client.get('/organisation/members');
      assert.equal(page.body.includes(other.email), false);
      assert.equal((await client.post(`/organisation/members/${other.id}/remove`, {})).statusCode, 404);
      assert.equal((await membership(theirs.id, other.id))?.role, 'analyst');
    });

    test('member limit names the plan', async () => {
      const organisation = await buildOrganisation(handle.db);
      await moveToCommunityPlan(organisation.id);
      const admin = await buildUser(handle.db, { member: { organisationId: organisation.id, role: 'administrator' } });
      const auth = memberAuth(admin.id, organisation.id, 'administrator');
      for (let index = 0; index < 9; index += 1) await services.tenancy.members.invite(auth, `person${index}@example.org`, 'viewer');
      await assert.rejects(services.tenancy.members.invite(auth, 'eleventh@example.org', 'viewer'), /limit of 10 members and open invitations on the Free community plan/);
      const open = await handle.db.owner.selectFrom('invitations').select('id').where('organisation_id', '=', organisation.id).execute();
      assert.equal(open.length, 9);
    });

    test('member limit shows the form again', async () => {
      const organisation = await buildOrganisation(handle.db);
      await moveToCommunityPlan(organisation.id);
      const admin = await buildUser(handle.db, { member: { organisationId: organisation.id, role: 'administrator' } });
      const auth = memberAuth(admin.id, organisation.id, 'administrator');
      for (let index = 0; index < 9; index += 1) await services.tenancy.members.invite(auth, `limit${index}@example.org`, 'viewer');
      const client = await signedInClient(app, services, admin.id, organisation.id);
      await client.get('/organisation/members');
      const full = await client.post('/organisation/invitations', { email: 'one-too-many@example.org', role: 'analyst' });
      assert.equal(full.statusCode, 400);
      assert.match(full.body, /govuk-error-summary/);
      assert.match(full.body, /href="#invite-form">Your organisation has reached the limit of 10 members and open invitations on the Free community plan. Remove a member or withdraw an invitation first, or ask a platform administrator to move your organisation to another plan./);
      assert.match(full.body, /id="invite-form"/);
      assert.match(full.body, /value="one-too-many@example.org"/, 'the email typed is kept');
      assert.match(full.body, /<option value="analyst" selected>/, 'the role chosen is kept');
    });

    test('api token limit names the plan', async () => {
      const organisation = await buildOrganisation(handle.db);
      await moveToCommunityPlan(organisation.id);
      const analyst = await buildUser(handle.db, { member: { organisationId: organisation.id, role: 'analyst' } });
      const auth = memberAuth(analyst.id, organisation.id, 'analyst');
      await services.tokens.create(auth, { name: 'one', scopes: ['read'] });
      await services.tokens.create(auth, { name: 'two', scopes: ['read'] });
      await assert.rejects(services.tokens.create(auth, { name: 'three', scopes: ['read'] }), /limit of 2 active API tokens on the Free community plan/);
    });

    test('making private past the limit warns', async () => {
      const organisation = await buildOrganisation(handle.db);
      await moveToCommunityPlan(organisation.id);
      const steward = await buildUser(handle.db, { member: { organisationId: organisation.id, role: 'data_steward' } });
      const actor = { kind: 'user' as const, auth: memberAuth(steward.id, organisation.id, 'data_steward'), requestId: 'limit-test' };
      const built = await buildOrganisationDatasets({ ...organisation, name: organisation.slug }, 6);
      for (const dataset of built.slice(0, 4)) {
        const result = await services.publication.setVisibility(actor, dataset.slug, 'private');
        assert.equal(result.notice, undefined, `${dataset.slug} keeps the organisation within 5 private datasets`);
      }
      const fifth = await services.publication.setVisibility(actor, built[4]!.slug, 'private');
      assert.equal(fifth.notice, undefined);
      // Taking a sixth dataset out of public view is never refused, but the organisation is warned that it is over the limit.
      const sixth = await services.publication.setVisibility(actor, built[5]!.slug, 'private');
      assert.equal(sixth.visibility, 'private');
      assert.match(sixth.notice ?? '', /now has 6 private datasets, more than the 5 the Free community plan allows/);
      const stored = await handle.db.owner.selectFrom('datasets').select('visibility').where('organisation_id', '=', organisation.id).execute();
      assert.equal(stored.filter((row) => row.visibility === 'private').length, 6);
    });

    test('administrator resets a lost second factor', async () => {
      const organisation = await buildOrganisation(handle.db);
      const other = await buildOrganisation(handle.db);
      const admin = await buildUser(handle.db, { member: { organisationId: organisation.id, role: 'administrator' } });
      const member = await buildUser(handle.db, { member: { organisationId: organisation.id, role: 'data_protection_officer' } });
      const shared = await buildUser(handle.db, { member: { organisationId: organisation.id, role: 'analyst' } });
      await handle.db.owner.insertInto('memberships').values({ organisation_id: other.id, user_id: shared.id, role: 'analyst' }).execute();
      await handle.db.owner.updateTable('users').set({ totp_secret_encrypted: 'sealed', totp_enabled_at: new Date() }).where('id', 'in', [member.id, shared.id]).execute();
      const memberClient = await signedInClient(app, services, member.id, organisation.id);
      assert.equal((await memberClient.get('/organisation')).statusCode, 200);

      const client = await signedInClient(app, services, admin.id, organisation.id);
      const page = await client.get('/organisation/members');
      assert.match(page.body, new RegExp(`id="reset-${member.id}"`));
      const reset = await client.post(`/organisation/members/${member.id}/reset-two-factor`, {});
      assert.equal(reset.statusCode, 200, reset.body);
      assert.match(reset.body, /Two-factor authentication was reset for/);
      const row = await handle.db.owner.selectFrom('users').select(['totp_secret_encrypted', 'totp_enabled_at']).where('id', '=', member.id).executeTakeFirstOrThrow();
      assert.deepEqual(row, { totp_secret_encrypted: null, totp_enabled_at: null });
      assert.equal((await memberClient.get('/organisation')).statusCode, 401, 'the member’s sessions have ended');
      const mail = await handle.db.owner.selectFrom('outbox').select('subject').where('recipient', '=', member.email).execute();
      assert.ok(mail.some((message) => /two-factor authentication was reset/.test(message.subject)));
      const audited = await handle.db.owner.selectFrom('audit_log').select(['actor_user_id', 'organisation_id']).where('action', '=', 'user.second_factor_reset').where('subject_id', '=', member.id).execute();
      assert.deepEqual(audited, [{ actor_user_id: admin.id, organisation_id: organisation.id }]);

      // Someone who also belongs to another organisation needs a platform administrator.
      const rejection = await client.post(`/organisation/members/${shared.id}/reset-two-factor`, {});
      assert.equal(rejection.statusCode, 400);
      assert.match(rejection.body, /only a platform administrator can reset their two-factor authentication/);
      assert.match(rejection.body, new RegExp(`href="#reset-${shared.id}"`));
      const unchanged = await handle.db.owner.selectFrom('users').select('totp_enabled_at').where('id', '=', shared.id).executeTakeFirstOrThrow();
      assert.ok(unchanged.totp_enabled_at instanceof Date, 'nothing changed');

      const analyst = await signedInClient(app, services, shared.id, organisation.id);
      await analyst.get('/organisation');
      assert.equal((await analyst.post(`/organisation/members/${member.id}/reset-two-factor`, {})).statusCode, 403, 'only administrators reset');
    });
  });
}
