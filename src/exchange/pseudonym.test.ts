import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { Normalisation } from '../agreements/agreement.terms.ts';
import { KeyRing } from '../keys/key-ring.ts';
import { Pseudonymiser } from './pseudonym.ts';

const VALUES: unknown[] = [
  '943 476 5919',
  '9434765919',
  ' 943-476-5919 ',
  'Asa.Orsted@Example.org ',
  'Åsa  Ørsted',
  'Åsa Ørsted',
  '',
  '   ',
  'no digits',
  null,
  undefined,
  9434765919,
  new Date('2026-12-05T10:00:00Z'),
  '1'.repeat(80),
];

test('batch equals one at a time', () => {
  const pseudonymiser = new Pseudonymiser(new KeyRing(randomBytes(32)), 'agreement-1');
  for (const normalisation of ['nhs_number', 'email', 'text'] as Normalisation[]) {
    const many = pseudonymiser.pseudonymiseMany(VALUES, normalisation);
    assert.equal(many.length, VALUES.length);
    VALUES.forEach((value, index) => {
      assert.equal(many[index], pseudonymiser.pseudonymise(value, normalisation), `${normalisation} of ${String(value)}`);
    });
  }
});

test('spaced NHS numbers share a pseudonym', () => {
  const pseudonymiser = new Pseudonymiser(new KeyRing(randomBytes(32)), 'agreement-1');
  const [spaced, plain, dashed, none] = pseudonymiser.pseudonymiseMany(['943 476 5919', '9434765919', '943-476-5919', 'unknown'], 'nhs_number');
  assert.match(String(spaced), /^[0-9a-f]{64}$/);
  assert.equal(plain, spaced);
  assert.equal(dashed, spaced);
  assert.equal(none, null);
});
