import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { KeyRing } from '../keys/key-ring.ts';
import { CursorCodec } from './cursor.ts';

describe('exchange cursors', () => {
  const keys = new KeyRing(randomBytes(32));
  const codec = new CursorCodec(keys);
  const scope = '5f0c8a9e-2f4b-4d4e-9a51-0d2f4b6e8c11:7d1e2c3b-4a5f-4e6d-8c7b-9a0f1e2d3c4b:records';

  it('round-trips a position', () => {
    const cursor = codec.encode(scope, { version: 3, lastId: 1000 });
    assert.deepEqual(codec.decode(scope, cursor), { version: 3, lastId: 1000 });
  });

  it('signs with HMAC-SHA-256', () => {
    // Cursors issued before stay valid only if the signature is the same HMAC as ever.
    const cursor = codec.encode(scope, { version: 1, lastId: 25 });
    const [body, signature] = cursor.split('.') as [string, string];
    const expected = createHmac('sha256', keys.derive('exchange-cursor')).update(`${scope}\n${body}`).digest('base64url').slice(0, 32);
    assert.equal(signature, expected);
  });

  it('rejects other scopes and changes', () => {
    const cursor = codec.encode(scope, { version: 1, lastId: 25 });
    assert.equal(codec.decode(scope.replace('records', 'changes'), cursor), null);
    assert.equal(codec.decode(scope, `${cursor}x`), null);
    assert.equal(codec.decode(scope, `${Buffer.from('{"v":1,"i":99}').toString('base64url')}.${cursor.split('.')[1]}`), null);
    assert.equal(codec.decode(scope, `${cursor}.extra`), null);
    assert.equal(codec.decode(scope, 'é'.repeat(300)), null);
  });
});
