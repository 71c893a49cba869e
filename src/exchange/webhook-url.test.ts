import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildOrganisation, buildUser } from '../../test/helpers/accounts.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { testServices } from '../../test/helpers/services.ts';
import { AppError } from '../errors.ts';
import type { Services } from '../services.ts';

/** Webhook URLs that name an address inside the server's own networks. The check rejects them, so none is contacted. */
const NON_PUBLIC_URLS = [
  'https://10.1.2.3/hooks',
  'https://172.16.0.9/hooks',
  'https://192.168.1.20/hooks',
  'https://169.254.169.254/latest/meta-data',
  'https://100.64.0.1/hooks',
  'https://0.0.0.0/hooks',
  'https://[fd00::1]/hooks',
  'https://[fe80::1]/hooks',
  'https://[::ffff:10.0.0.1]/hooks',
  // WHATWG URL parsing reads a bare number as an IPv4 address, here 10.0.0.1.
  'https://167772161/hooks',
];

for (const engine of testEngines()) {
  describe(`webhook URL check on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let services: Services;
    let subscriber: { organisationId: string; userId: string };

    before(async () => {
      handle = await engine.create();
      services = testServices(handle.db);
      const organisation = await buildOrganisation(handle.db);
      const user = await buildUser(handle.db, { member: { organisationId: organisation.id, role: 'analyst' } });
      subscriber = { organisationId: organisation.id, userId: user.id };
    });
    after(async () => {
      await handle.drop();
    });

    test('private addresses are rejected', async () => {
      for (const url of NON_PUBLIC_URLS) {
        await assert.rejects(services.exchange.webhooks.subscribe(subscriber, { url }), (error: unknown) => {
          assert.ok(error instanceof AppError, url);
          assert.equal(error.code, 'invalid_webhook_url', url);
          assert.match(error.message, /private, link-local or reserved address/, url);
          assert.deepEqual(error.fields.map((field) => field.field), ['url'], url);
          return true;
        });
      }
      const stored = await handle.db.owner.selectFrom('webhook_subscriptions').select('id').execute();
      assert.deepEqual(stored, []);
    });

    test('public and loopback hosts are kept', async () => {
      // Tests run outside production, so http:// on a loopback address is allowed as in development.
      for (const url of ['https://hooks.example.org/civic', 'https://203.0.113.7/civic', 'http://127.0.0.1:8080/civic']) {
        assert.equal(services.exchange.webhooks.checkUrl(url).toString(), url);
      }
    });
  });
}
