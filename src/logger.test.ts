import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { testEngines } from '../test/helpers/engines.ts';
import type { Database } from './db/database.ts';
import { createLogger } from './logger.ts';

test('token headers are redacted', () => {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = createLogger('info', destination);
  logger.info({ req: { headers: { authorization: 'Bearer civic_secret_one', 'x-ckan-api-key': 'civic_secret_two', accept: 'application/json' } } }, 'request');
  const line = JSON.parse(lines[0]!) as { req: { headers: Record<string, string> } };
  assert.equal(line.req.headers.authorization, '[redacted]');
  assert.equal(line.req.headers['x-ckan-api-key'], '[redacted]');
  assert.equal(line.req.headers.accept, 'application/json');
  assert.doesNotMatch(lines[0]!, /civic_secret/);
});

for (const engine of testEngines()) {
  describe(`database errors in logs on ${engine.name}`, () => {
    let drop: () => Promise<void>;
    let db: Database;

    before(async () => {
      const created = await engine.create();
      drop = created.drop;
      db = created.db;
    });

    after(async () => drop());

    async function loggedError(run: () => Promise<unknown>): Promise<string> {
      const lines: string[] = [];
      const destination = new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString('utf8'));
          done();
        },
      });
      const logger = createLogger('info', destination);
      await assert.rejects(async () => {
        try {
          await run();
        } catch (error) {
          logger.error({ err: error }, 'request failed');
          throw error;
        }
      });
      assert.equal(lines.length, 1);
      return lines[0]!;
    }

    test('cast error hides the value', async () => {
      const line = await loggedError(() => sql`select ${'943 476 5919'}::integer`.execute(db.app));
      assert.doesNotMatch(line, /943 476 5919/);
      const logged = JSON.parse(line) as { err: { code: string; message: string } };
      assert.equal(logged.err.code, '22P02');
      assert.match(logged.err.message, /invalid input syntax for type integer/);
    });

    test('unique violation hides the key', async () => {
      await sql`create table logged_people (email text unique)`.execute(db.owner);
      await sql`insert into logged_people values (${'jo.bloggs@example.org'})`.execute(db.owner);
      const line = await loggedError(() => sql`insert into logged_people values (${'jo.bloggs@example.org'})`.execute(db.owner));
      assert.doesNotMatch(line, /jo\.bloggs/);
      const logged = JSON.parse(line) as { err: { code: string; message: string } };
      assert.equal(logged.err.code, '23505');
      assert.match(logged.err.message, /logged_people_email_key/);
    });
  });
}
