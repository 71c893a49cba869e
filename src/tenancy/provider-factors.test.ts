import assert from 'node:assert/strict';
import { test } from 'node:test';
import { providerUsedSeveralFactors } from './provider-factors.ts';

test('amr with mfa or two kinds counts', () => {
  assert.equal(providerUsedSeveralFactors(['mfa']), true);
  assert.equal(providerUsedSeveralFactors(['pwd', 'otp']), true);
  assert.equal(providerUsedSeveralFactors(['hwk', 'fpt']), true);
  assert.equal(providerUsedSeveralFactors(['pin', 'sc']), true);
});

test('amr with one kind does not count', () => {
  assert.equal(providerUsedSeveralFactors(['pwd']), false);
  assert.equal(providerUsedSeveralFactors(['otp', 'sms']), false, 'two possession factors are one kind');
  assert.equal(providerUsedSeveralFactors(['pwd', 'rba']), false, 'risk-based checks are no factor');
  assert.equal(providerUsedSeveralFactors(['pwd', 'mca']), false, 'several channels are not several factors');
});

test('missing or malformed amr does not count', () => {
  assert.equal(providerUsedSeveralFactors(undefined), false);
  assert.equal(providerUsedSeveralFactors('mfa'), false);
  assert.equal(providerUsedSeveralFactors([]), false);
  assert.equal(providerUsedSeveralFactors([1, null, { mfa: true }]), false);
});
