import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { LookupAddress } from 'node:dns';
import { after, before, describe, test } from 'node:test';
import { buildOrganisation, buildUser } from '../../test/helpers/accounts.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { testServices } from '../../test/helpers/services.ts';
import { AppError } from '../errors.ts';
import type { ClaimedJob } from '../jobs/job-queue.ts';
import type { Services } from '../services.ts';
import type { Resolver } from './webhook-address.ts';
import { SIGNATURE_HEADER, WEBHOOK_DELIVER_JOB, WebhookService } from './webhook.service.ts';

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
  'https://192.0.0.8/hooks',
  'https://198.18.0.1/hooks',
  'https://198.19.255.254/hooks',
  'https://[100::1]/hooks',
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
          assert.match(error.message, /\.$/, url);
          assert.doesNotMatch(error.fields[0]!.message, /\.$/, url);
          return true;
        });
      }
      const stored = await handle.db.owner.selectFrom('webhook_subscriptions').select('id').execute();
      assert.deepEqual(stored, []);
    });

    /** Builds a resolver that answers from a table, as DNS would, because tests reach no name server. */
    const resolverOf = (table: Record<string, string>): Resolver => (hostname, callback) => {
      const address = table[hostname];
      if (address === undefined) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
      callback(null, [{ address, family: address.includes(':') ? 6 : 4 } satisfies LookupAddress]);
    };

    const deliveryJob = (subscriptionId: string): ClaimedJob => ({
      id: '1',
      kind: WEBHOOK_DELIVER_JOB,
      organisationId: subscriber.organisationId,
      attempt: 1,
      maxAttempts: 8,
      payload: { subscription_id: subscriptionId, event: { id: randomUUID(), type: 'test.event', occurred_at: new Date().toISOString(), data: {} } },
    });

    const lastDelivery = (subscriptionId: string) =>
      handle.db.owner.selectFrom('webhook_deliveries').select(['status_code', 'error']).where('subscription_id', '=', subscriptionId).orderBy('attempted_at', 'desc').executeTakeFirstOrThrow();

    test('host names resolving privately get nothing', async () => {
      for (const [address, allowLoopbackHttp] of [['10.1.2.3', true], ['169.254.169.254', true], ['127.0.0.1', false]] as const) {
        const webhooks = new WebhookService(handle.db, services.keys, { allowLoopbackHttp, resolve: resolverOf({ 'hooks.example.test': address }) });
        const { id } = await webhooks.subscribe(subscriber, { url: 'https://hooks.example.test/civic' });
        await assert.rejects(webhooks.deliver(deliveryJob(id)), new RegExp(`resolves to ${address.replaceAll('.', '\\.')}`));
        const delivery = await lastDelivery(id);
        assert.equal(delivery.status_code, null, address);
        assert.match(delivery.error ?? '', /private, link-local or reserved address, so nothing was sent/, address);
      }
    });

    test('host names resolving publicly are posted to', async () => {
      const bodies: Array<{ body: string; signature: string | undefined }> = [];
      const receiver = http.createServer((request, response) => {
        let body = '';
        request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        request.on('end', () => {
          bodies.push({ body, signature: request.headers[SIGNATURE_HEADER] as string | undefined });
          response.writeHead(204).end();
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      try {
        const port = (receiver.address() as { port: number }).port;
        // Outside production a loopback receiver is allowed, as in development; the name still goes through the lookup.
        const webhooks = new WebhookService(handle.db, services.keys, { allowLoopbackHttp: true, resolve: resolverOf({ localhost: '127.0.0.1' }) });
        const { id, secret } = await webhooks.subscribe(subscriber, { url: `http://localhost:${port}/civic` });
        await webhooks.deliver(deliveryJob(id));
        assert.equal(bodies.length, 1);
        assert.equal(bodies[0]!.signature, `sha256=${createHmac('sha256', secret).update(bodies[0]!.body).digest('hex')}`);
        assert.equal(JSON.parse(bodies[0]!.body).type, 'test.event');
        assert.deepEqual(await lastDelivery(id), { status_code: 204, error: null });
      } finally {
        await new Promise((resolve) => receiver.close(resolve));
      }
    });

    test('public and loopback hosts are kept', async () => {
      // Tests run outside production, so http:// on a loopback address is allowed as in development.
      for (const url of ['https://hooks.example.org/civic', 'https://203.0.113.7/civic', 'http://127.0.0.1:8080/civic']) {
        assert.equal(services.exchange.webhooks.checkUrl(url).toString(), url);
      }
    });
  });
}
