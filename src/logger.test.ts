import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
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
