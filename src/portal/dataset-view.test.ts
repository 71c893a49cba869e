import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ResourceVersion } from '../catalogue/catalogue.types.ts';
import { personalDataFindings } from './dataset-view.ts';

const versionWith = (findings: unknown[]) => ({ loadReport: { personal_data: findings } }) as unknown as ResourceVersion;

test('findings read as sentences', () => {
  const sentences = personalDataFindings(
    versionWith([
      { column: 'Email', kind: 'email_address', count: 1 },
      { column: 'Children in care', kind: 'small_count', count: 4, threshold: 10 },
      { message: 'Payee names look like people.' },
    ]),
  );
  assert.deepEqual(sentences, [
    'Email may hold email address in 1 cell.',
    'Children in care has counts from 1 to 9 in 4 cells, which could identify people.',
    'Payee names look like people.',
  ]);
});
