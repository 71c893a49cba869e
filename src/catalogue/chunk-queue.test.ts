import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ChunkQueue } from './chunk-queue.ts';

/** Resolves true when `promise` settles within a few turns of the event loop, false otherwise. */
async function settlesSoon(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(() => (settled = true));
  for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

describe('chunk queue', () => {
  test('push waits past the character bound', async () => {
    const queue = new ChunkQueue(10);
    assert.equal(await settlesSoon(queue.push('abcd')), true, 'under the bound');
    assert.equal(await settlesSoon(queue.push('efgh')), true, 'at 8 of 10 characters');
    const blocked = queue.push('ijkl');
    assert.equal(await settlesSoon(blocked), false, '12 characters queued is over the bound');
    const reader = queue[Symbol.asyncIterator]();
    assert.deepEqual(await reader.next(), { value: 'abcd', done: false });
    assert.equal(await settlesSoon(blocked), true, 'reading one chunk makes room');
    queue.end();
    assert.deepEqual(await reader.next(), { value: 'efgh', done: false });
    assert.deepEqual(await reader.next(), { value: 'ijkl', done: false });
    assert.equal((await reader.next()).done, true);
  });

  test('close releases a waiting producer', async () => {
    const queue = new ChunkQueue(3);
    const blocked = queue.push('abcdef');
    assert.equal(await settlesSoon(blocked), false);
    queue.close();
    assert.equal(await settlesSoon(blocked), true);
    assert.equal(await settlesSoon(queue.push('later')), true, 'a push after close returns at once');
  });

  test('fail reaches the consumer', async () => {
    const queue = new ChunkQueue(100);
    await queue.push('abc');
    queue.fail(new Error('analysis failed'));
    await assert.rejects(queue[Symbol.asyncIterator]().next(), /analysis failed/);
  });
});
