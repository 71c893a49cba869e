import assert from 'node:assert/strict';
import { hash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { BLOCK_BYTES, finish, INITIAL_STATE } from './sha256-blocks.ts';

function sha256(message: Buffer): string {
  const state = Int32Array.from(INITIAL_STATE);
  const bytes = Buffer.alloc(message.length + BLOCK_BYTES + 8);
  message.copy(bytes);
  finish(state, 0, bytes, message.length);
  return Array.from(state, (word) => (word >>> 0).toString(16).padStart(8, '0')).join('');
}

test('initial state matches FIPS 180-4', () => {
  const listed = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
  assert.deepEqual(Array.from(INITIAL_STATE, (word) => word >>> 0), listed);
});

test('every length matches OpenSSL', () => {
  for (let length = 0; length <= 3 * BLOCK_BYTES + 1; length++) {
    const message = randomBytes(length);
    assert.equal(sha256(message), hash('sha256', message, 'hex'), `message of ${length} bytes`);
  }
});

test('FIPS 180-4 examples match', () => {
  assert.equal(sha256(Buffer.from('abc')), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.equal(sha256(Buffer.from('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')), '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
});
