import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { KeyedHash } from './keyed-hash.ts';
import { laneHasher } from './sha256-lanes.ts';

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

test('hexMany matches createHmac in lanes and alone', () => {
  const key = randomBytes(32);
  const keyed = new KeyedHash(key);
  const messages: string[] = [];
  // Every length either side of the 55 bytes that fit in one lane block, ASCII and not, in batches that leave
  // groups of four part-filled and pass the 256 messages of one call.
  for (let length = 0; length <= 70; length++) {
    const ascii = randomBytes(length).toString('hex').slice(0, length);
    messages.push(ascii, `${ascii.slice(1)}é`);
  }
  for (let index = 0; index < 300; index++) messages.push(String(9_000_000_000 + index * 7919));
  for (const size of [0, 1, 3, 4, 5, 255, 256, 257, messages.length]) {
    const batch = messages.slice(0, size);
    const hashes = keyed.hexMany(batch);
    assert.equal(hashes.length, size);
    batch.forEach((message, index) => {
      assert.equal(hashes[index], createHmac('sha256', key).update(message, 'utf8').digest('hex'), `message ${index} (${message.length} characters) of a batch of ${size}`);
    });
  }
});

test('hexMany keys do not leak between instances', () => {
  const first = new KeyedHash(randomBytes(32));
  const second = new KeyedHash(randomBytes(32));
  const [fromFirst] = first.hexMany(['9434765919']);
  const [fromSecond] = second.hexMany(['9434765919']);
  assert.notEqual(fromFirst, fromSecond);
  assert.equal(first.hexMany(['9434765919'])[0], fromFirst);
});

test('hexMany leaves no key state or identifier in lane memory', () => {
  const keyed = new KeyedHash(randomBytes(32));
  keyed.hexMany(['9434765919', '9434765920']);
  const hasher = laneHasher();
  assert.ok(hasher, 'Node.js 20 on a little-endian machine has WebAssembly SIMD');
  assert.equal(hasher.words.some((word) => word !== 0), false);
});

test('hexManyDigits hashes the digits only', () => {
  const key = randomBytes(32);
  const keyed = new KeyedHash(key);
  const digitsOf = (text: string) => text.replace(/\D/g, '');
  const texts = [
    '943 476 5919',
    '9434765919',
    '943-476-5919',
    ' 943\t476\n5919 ',
    'NHS: 943 476 5919 (verified)',
    'é9٣4😀3',
    'no digits here',
    '',
    '1',
    '1'.repeat(55),
    '1'.repeat(56),
    `${'2 '.repeat(55)}3`,
  ];
  for (let index = 0; index < 300; index++) texts.push(`${900 + (index % 100)} ${String(index).padStart(3, '0')} ${4000 + index}`);
  for (const size of [0, 1, 5, 256, 257, texts.length]) {
    const batch = texts.slice(0, size);
    const hashes = keyed.hexManyDigits(batch);
    assert.equal(hashes.length, size);
    batch.forEach((text, index) => {
      const digits = digitsOf(text);
      const expected = digits === '' ? null : createHmac('sha256', key).update(digits, 'utf8').digest('hex');
      assert.equal(hashes[index], expected, `text ${JSON.stringify(text)} of a batch of ${size}`);
    });
  }
});
