import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildUser } from '../../test/helpers/accounts.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { testConfig } from '../../test/helpers/services.ts';
import { WebClient } from '../../test/helpers/web-client.ts';
import { buildApp } from '../http/app.ts';
import { KeyRing } from '../keys/key-ring.ts';
import { createLogger } from '../logger.ts';
import { createServices } from '../services.ts';

/** Starts an SMTP server on a loopback port that rejects every recipient, naming the address as real servers do. */
function startRejectingSmtpServer(): Promise<{ port: number; close(): Promise<void> }> {
  const server = net.createServer((socket) => {
    socket.write('220 localhost ESMTP test\r\n');
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let end = buffered.indexOf('\r\n');
      while (end !== -1) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const verb = line.split(/[ :]/)[0]!.toUpperCase();
        if (verb === 'EHLO' || verb === 'HELO') socket.write('250 localhost\r\n');
        else if (verb === 'MAIL') socket.write('250 2.1.0 Ok\r\n');
        else if (verb === 'RCPT') socket.write(`550 5.1.1 ${/<[^>]*>/.exec(line)?.[0] ?? ''}: Recipient address rejected: User unknown\r\n`);
        else if (verb === 'QUIT') socket.end('221 Bye\r\n');
        else socket.write('250 Ok\r\n');
        end = buffered.indexOf('\r\n');
      }
    });
    socket.on('error', () => undefined);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({ port: (server.address() as net.AddressInfo).port, close: () => new Promise((done) => server.close(() => done())) });
    });
  });
}

for (const engine of testEngines()) {
  describe(`mail failures on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let smtp: { port: number; close(): Promise<void> };
    let app: FastifyInstance;
    const lines: Array<Record<string, unknown>> = [];
    const raw: string[] = [];

    before(async () => {
      handle = await engine.create();
      smtp = await startRejectingSmtpServer();
      const config = testConfig({ smtpUrl: `smtp://127.0.0.1:${smtp.port}`, logLevel: 'info' });
      const logger = createLogger('info', {
        write: (line: string) => {
          raw.push(line);
          lines.push(JSON.parse(line) as Record<string, unknown>);
        },
      });
      app = await buildApp(createServices({ config, logger, db: handle.db, keys: new KeyRing(randomBytes(32)) }));
    });

    after(async () => {
      await app.close();
      await smtp.close();
      await handle.drop();
    });

    test('rejected recipient logged once, unnamed', async () => {
      const user = await buildUser(handle.db, { email: 'rejected.person@example.org' });
      const client = new WebClient(app);
      await client.get('/account/reset-password');
      const unknown = await client.post('/account/reset-password', { email: 'nobody.here@example.org' });
      assert.equal(unknown.statusCode, 200);
      lines.length = 0;
      raw.length = 0;
      const response = await client.post('/account/reset-password', { email: user.email });
      assert.equal(response.statusCode, 200, 'a failed email for a real account looks like any other request');
      assert.match(response.body, /Check your email/);
      assert.doesNotMatch(response.body, /rejected\.person/);

      const errors = lines.filter((line) => Number(line.level) >= 50);
      assert.equal(errors.length, 1, JSON.stringify(errors));
      assert.equal(errors[0]!.msg, 'password reset email not sent');
      const err = errors[0]!.err as { type: string; message: string; responseCode: number };
      assert.equal(err.type, 'MailSendError');
      assert.equal(err.responseCode, 550);
      assert.match(err.message, /Reset your Thurrock Data Exchange password/);
      assert.match(err.message, /RCPT TO/);
      for (const line of raw) assert.doesNotMatch(line, /rejected\.person/);
    });
  });
}
