import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildOrganisation, buildUser, memberAuth, signedInClient } from '../../test/helpers/accounts.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { testServices } from '../../test/helpers/services.ts';
import { WebClient } from '../../test/helpers/web-client.ts';
import type { Services } from '../services.ts';
import { buildApp } from './app.ts';

const PATHS = ['/', '/sign-in', '/api/v1/datasets', '/api/3/action/package_list', '/no-such-page', '/api/no-such-route'];

for (const engine of testEngines()) {
  describe(`security headers on ${engine.name}`, () => {
    let drop: () => Promise<void>;
    let production: FastifyInstance;
    let development: FastifyInstance;
    let services: Services;
    let organisationId: string;

    before(async () => {
      const created = await engine.create();
      drop = created.drop;
      production = await buildApp(testServices(created.db, { production: true, publicUrl: 'https://data.example.gov.uk' }));
      services = testServices(created.db);
      development = await buildApp(services);
      organisationId = (await buildOrganisation(created.db)).id;
    });

    after(async () => {
      await production.close();
      await development.close();
      await drop();
    });

    test('production sends HSTS everywhere', async () => {
      for (const url of PATHS) {
        const response = await production.inject({ url });
        assert.equal(response.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains', url);
      }
    });

    test('development sends no HSTS', async () => {
      for (const url of PATHS) {
        const response = await development.inject({ url });
        assert.equal(response.headers['strict-transport-security'], undefined, url);
      }
    });

    test('hardening headers on pages and API', async () => {
      for (const url of PATHS) {
        const response = await production.inject({ url });
        assert.equal(response.headers['x-content-type-options'], 'nosniff', url);
        assert.equal(response.headers['x-frame-options'], 'DENY', url);
        assert.equal(response.headers['referrer-policy'], 'strict-origin-when-cross-origin', url);
        assert.match(String(response.headers['content-security-policy']), /frame-ancestors 'none'/, url);
        assert.doesNotMatch(String(response.headers['content-security-policy']), /unsafe-inline/, url);
      }
    });

    test('signed-in pages are not stored', async () => {
      const user = await buildUser(services.db, { member: { organisationId, role: 'data_steward' } });
      const client = await signedInClient(development, services, user.id, organisationId);
      for (const url of ['/account', '/account/tokens', '/organisation', '/']) {
        const response = await client.get(url);
        assert.equal(response.statusCode, 200, url);
        assert.equal(response.headers['cache-control'], 'no-store', url);
      }
    });

    test('TOTP setup page is not stored', async () => {
      const user = await buildUser(services.db, { member: { organisationId, role: 'data_protection_officer' } });
      const client = new WebClient(development);
      await client.get('/sign-in');
      const signedIn = await client.post('/sign-in', { email: user.email, password: user.password });
      assert.equal(signedIn.headers.location, '/account/two-factor/setup');
      const setup = await client.get('/account/two-factor/setup');
      assert.equal(setup.statusCode, 200);
      assert.equal(setup.headers['cache-control'], 'no-store');
    });

    test('token replies are not stored', async () => {
      const user = await buildUser(services.db, { member: { organisationId, role: 'data_steward' } });
      const created = await services.tokens.create(memberAuth(user.id, organisationId, 'data_steward'), { name: 'headers', scopes: ['read'] });
      const response = await development.inject({ url: '/api/v1/datasets', headers: { authorization: `Bearer ${created.token}` } });
      assert.equal(response.statusCode, 200);
      assert.equal(response.headers['cache-control'], 'no-store');
    });

    test('malformed address gets headers', async () => {
      const page = await production.inject({ url: '/account/reset-password/SECRET1234%zz' });
      assert.equal(page.statusCode, 400);
      assert.match(String(page.headers['content-type']), /^text\/html/);
      assert.match(page.body, /each % in it must be followed by two hexadecimal digits/);
      assert.doesNotMatch(page.body, /SECRET1234/);
      const api = await production.inject({ url: '/api/v1/datasets/abc%zz' });
      assert.equal(api.statusCode, 400);
      assert.equal(api.json().error.code, 'invalid_url');
      assert.equal(api.json().error.request_id, api.headers['x-request-id']);
      for (const response of [page, api]) {
        assert.equal(response.headers['x-content-type-options'], 'nosniff');
        assert.equal(response.headers['x-frame-options'], 'DENY');
        assert.equal(response.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains');
        assert.match(String(response.headers['content-security-policy']), /frame-ancestors 'none'/);
      }
      const nonce = /'nonce-([A-Za-z0-9+/=]+)'/.exec(String(page.headers['content-security-policy']))?.[1];
      assert.ok(nonce);
      assert.ok(page.body.includes(`nonce="${nonce}"`), 'the page scripts carry the nonce');
    });

    test('anonymous pages keep caching open', async () => {
      const response = await development.inject({ url: '/' });
      assert.equal(response.headers['cache-control'], undefined);
    });
  });
}
