import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { londonDate } from './agreement-dates.ts';

describe('London calendar days', () => {
  it('follows British Summer Time', () => {
    // 23:30 UTC is the next day in London in summer (BST, UTC+1) and the same day in winter (GMT).
    assert.equal(londonDate(new Date('2026-06-30T23:30:00Z')), '2026-07-01');
    assert.equal(londonDate(new Date('2026-06-30T22:59:59Z')), '2026-06-30');
    assert.equal(londonDate(new Date('2026-12-31T23:30:00Z')), '2026-12-31');
    assert.equal(londonDate(new Date('2027-01-01T00:00:00Z')), '2027-01-01');
  });

  it('changes day around clock changes', () => {
    assert.equal(londonDate(new Date('2026-03-29T00:59:59Z')), '2026-03-29');
    assert.equal(londonDate(new Date('2026-03-29T00:00:00Z')), '2026-03-29');
    assert.equal(londonDate(new Date('2026-03-28T23:59:59Z')), '2026-03-28');
    assert.equal(londonDate(new Date('2026-10-25T00:30:00Z')), '2026-10-25');
    assert.equal(londonDate(new Date('2026-10-24T23:30:00Z')), '2026-10-25');
  });
});
