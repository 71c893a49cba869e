import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { testEngines } from '../../test/helpers/engines.ts';
import { testServices } from '../../test/helpers/services.ts';
import { buildApp } from './app.ts';

const PATHS = ['/', '/sign-in', '/api/v1/datasets', '/api/3/action/package_list', '/no-such-page', '/api/no-such-route'];

for (const engine of testEngines()) {
  describe(`security headers on ${engine.name}`, () => {
    let drop: () => Promise<void>;
    let production: FastifyInstance;
    let development: FastifyInstance;

    before(async () => {
      const created = await engine.create();
      drop = created.drop;
      production = await buildApp(testServices(created.db, { production: true, publicUrl: 'https://data.example.gov.uk' }));
      development = await buildApp(testServices(created.db));
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
  });
}
