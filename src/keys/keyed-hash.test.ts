import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { KeyedHash } from './keyed-hash.ts';

const MESSAGES = ['', '9434765919', 'nhs_number:9434765919', 'ÅSA.Ørsted@example.org', '日本語の名前', '😀 emoji', 'x'.repeat(85), 'y'.repeat(86), 'é'.repeat(400)];

test('equals createHmac for every message length and script', () => {
  for (const key of [randomBytes(32), randomBytes(64), randomBytes(100), Buffer.alloc(0)]) {
    const keyed = new KeyedHash(key);
    for (const message of MESSAGES) {
      const expected = createHmac('sha256', key).update(message, 'utf8').digest();
      assert.deepEqual(keyed.digest(message), expected, `message of ${message.length} characters, key of ${key.length} bytes`);
      assert.equal(keyed.hex(message), expected.toString('hex'));
    }
  }
});

test('random messages up to four blocks match', () => {
  const key = randomBytes(32);
  const keyed = new KeyedHash(key);
  for (let length = 0; length <= 260; length++) {
    // Hex digits are ASCII. The added 'é' takes two bytes in UTF-8, so that message takes the other path.
    const ascii = randomBytes(length).toString('hex').slice(0, length);
    for (const message of [ascii, `${ascii}é`]) {
      assert.equal(keyed.hex(message), createHmac('sha256', key).update(message, 'utf8').digest('hex'), `message of ${message.length} characters`);
    }
  }
});

test('matches the RFC 4231 test case 2', () => {
  const keyed = new KeyedHash(Buffer.from('Jefe'));
  assert.equal(keyed.hex('what do ya want for nothing?'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
});

test('a digest is not changed by the next one', () => {
  const keyed = new KeyedHash(randomBytes(32));
  const first = keyed.digest('first');
  const copy = Buffer.from(first);
  keyed.digest('second');
  assert.deepEqual(first, copy);
});

test('keeps its key out of JSON', () => {
  assert.equal(JSON.stringify({ hash: new KeyedHash(randomBytes(32)) }), '{"hash":"[KeyedHash]"}');
});
