import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeRowFilter } from './row-filter-text.ts';

describe('row filter in words', () => {
  test('comparisons and lists', () => {
    assert.equal(describeRowFilter({ field: 'service', op: 'eq', value: 'Reablement' }), 'service is "Reablement"');
    assert.equal(describeRowFilter({ field: 'weekly_cost', op: 'gt', value: 500 }), 'weekly_cost is more than 500');
    assert.equal(describeRowFilter({ field: 'locality', op: 'in', value: ['Grays', 'Tilbury', 'Stanford'] }), 'locality is one of "Grays", "Tilbury" or "Stanford"');
    assert.equal(describeRowFilter({ field: 'start_date', op: 'between', value: ['2026-01-01', '2026-12-31'] }), 'start_date is from "2026-01-01" to "2026-12-31"');
    assert.equal(describeRowFilter({ field: 'end_date', op: 'is_null' }), 'end_date is empty');
    assert.equal(describeRowFilter({ field: 'active', op: 'ne', value: false }), 'active is not false');
  });

  test('groups bracket nested logic', () => {
    const filter = {
      and: [
        { field: 'service', op: 'eq' as const, value: 'Reablement' },
        { or: [{ field: 'weekly_cost', op: 'ge' as const, value: 100 }, { not: { field: 'locality', op: 'eq' as const, value: 'Grays' } }] },
      ],
    };
    assert.equal(describeRowFilter(filter), 'service is "Reablement" and (weekly_cost is at least 100 or not locality is "Grays")');
    assert.equal(describeRowFilter({ and: [{ field: 'service', op: 'eq', value: 'Home care' }] }), 'service is "Home care"');
  });
});
