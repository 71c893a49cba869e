import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseTerms } from './agreement.terms.ts';
import { checkLawfulBasis } from './lawful-basis.ts';
import { parseRowFilter } from './row-filter.ts';

const PROVIDER = '11111111-1111-4111-8111-111111111111';
const RECIPIENT = '22222222-2222-4222-8222-222222222222';
const USER = '33333333-3333-4333-8333-333333333333';
const DATASET = '44444444-4444-4444-8444-444444444444';

function terms(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    title: 'Test agreement',
    summary: 'Sharing for a test.',
    parties: [
      { organisation_id: PROVIDER, sharing_role: 'provider', controller_role: 'controller', approvers: [{ role: 'data_protection_officer', user_id: USER, name: 'DPO' }] },
      { organisation_id: RECIPIENT, sharing_role: 'recipient', controller_role: 'controller', approvers: [{ role: 'data_protection_officer', user_id: USER, name: 'DPO' }] },
    ],
    purposes: ['direct_care'],
    purpose_description: 'Care.',
    special_category: false,
    lawful_basis: { article6: 'e', statutory_powers: ['Care Act 2014 s.6'] },
    datasets: [{ dataset_id: DATASET, fields: ['a', 'b'] }],
    retention_months: 12,
    security_requirements: ['Encrypted at rest'],
    start_date: '2026-01-01',
    end_date: '2027-12-31',
    review_date: '2027-06-30',
    ...overrides,
  };
}

describe('agreement terms', () => {
  test('valid terms parse', () => {
    const { terms: parsed, errors } = parseTerms(terms());
    assert.deepEqual(errors, []);
    assert.equal(parsed?.parties.length, 2);
  });

  test('every problem reported at once', () => {
    const { terms: parsed, errors } = parseTerms(terms({ purposes: ['gossip'], end_date: '2025-01-01', retention_months: 0, datasets: [] }));
    assert.equal(parsed, null);
    const fields = errors.map((error) => error.field);
    assert.ok(fields.includes('purposes[0]'));
    assert.ok(fields.includes('end_date'));
    assert.ok(fields.includes('retention_months'));
    assert.ok(fields.includes('datasets'));
  });

  test('impossible date rejected', () => {
    const { errors } = parseTerms(terms({ start_date: '2026-02-30' }));
    assert.equal(errors[0]?.field, 'start_date');
  });

  test('pseudonymised field must be released', () => {
    const { errors } = parseTerms(terms({ datasets: [{ dataset_id: DATASET, fields: ['a'], pseudonymise: ['b'] }] }));
    assert.equal(errors[0]?.field, 'datasets[0].pseudonymise[0].field');
  });
});

describe('lawful basis combinations', () => {
  const cases: Array<{ name: string; article9: 'a' | 'b' | 'g' | 'h' | null; schedule1: number | null; special: boolean; errorField: string | null }> = [
    { name: '9(2)(h) with Part 1 paragraph 2', article9: 'h', schedule1: 2, special: true, errorField: null },
    { name: '9(2)(h) with Part 1 paragraph 1', article9: 'h', schedule1: 1, special: true, errorField: 'lawful_basis.schedule1' },
    { name: '9(2)(h) without Schedule 1', article9: 'h', schedule1: null, special: true, errorField: 'lawful_basis.schedule1' },
    { name: '9(2)(b) with Part 1 paragraph 1', article9: 'b', schedule1: 1, special: true, errorField: null },
    { name: '9(2)(g) with Part 2 paragraph 18', article9: 'g', schedule1: 18, special: true, errorField: null },
    { name: '9(2)(g) with Part 1 paragraph 2', article9: 'g', schedule1: 2, special: true, errorField: 'lawful_basis.schedule1' },
    { name: '9(2)(a) with a Schedule 1 condition', article9: 'a', schedule1: 2, special: true, errorField: 'lawful_basis.schedule1' },
    { name: 'special category without Article 9', article9: null, schedule1: null, special: true, errorField: 'lawful_basis.article9' },
    { name: 'Article 9 without special category', article9: 'h', schedule1: 2, special: false, errorField: 'lawful_basis.article9' },
  ];
  for (const example of cases) {
    test(example.name, () => {
      const errors = checkLawfulBasis({ article6: 'e', article9: example.article9, schedule1: example.schedule1, statutoryPowers: ['Care Act 2014 s.6'] }, example.special);
      assert.equal(errors[0]?.field ?? null, example.errorField);
    });
  }

  test('public task needs a statutory power', () => {
    const errors = checkLawfulBasis({ article6: 'e', article9: null, schedule1: null, statutoryPowers: [] }, false);
    assert.equal(errors[0]?.field, 'lawful_basis.statutory_powers');
  });
});

describe('row filter shape', () => {
  test('rejects SQL text', () => {
    const { filter, errors } = parseRowFilter('age > 18 or 1=1', 'row_filter');
    assert.equal(filter, null);
    assert.equal(errors[0]?.field, 'row_filter');
  });

  test('rejects an unknown operator', () => {
    const { errors } = parseRowFilter({ field: 'age', op: 'like', value: '%' }, 'row_filter');
    assert.equal(errors[0]?.field, 'row_filter.op');
  });

  test('between needs two values', () => {
    const { errors } = parseRowFilter({ field: 'age', op: 'between', value: [1] }, 'row_filter');
    assert.equal(errors[0]?.field, 'row_filter.value');
  });
});
