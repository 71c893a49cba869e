import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitTags } from './metadata-fields.ts';

test('tags split, trimmed and kept once', () => {
  assert.deepEqual(splitTags('a,,b, ,A, spending , Spending'), ['a', 'b', 'spending']);
  assert.deepEqual(splitTags(''), []);
});
