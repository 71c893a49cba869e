import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LoadReport } from '../catalogue/catalogue.types.ts';
import { GATE_EXIT_STATUS, publicationOutcome } from './import-outcome.ts';

function report(extra: Partial<LoadReport> & Record<string, unknown>): LoadReport {
  return { dataset: 'children-in-care-by-ward', visibility: 'private', personal_data: [], warnings: [], ...extra } as unknown as LoadReport;
}

describe('import outcome', () => {
  test('one transparency problem is singular', () => {
    const transparency = { schema: 'spending', valid: false, problem_count: 1, problems: [{ message: 'Row 2: Amount is "TBC", which is not a number.' }] };
    const { lines } = publicationOutcome(report({ transparency }), undefined);
    assert.equal(lines[0], 'Transparency Code schema "spending": 1 problem.');
  });

  test('small counts name their fixes', () => {
    const finding = { column: 'Children in care', kind: 'small_count', count: 1, rows: [3], threshold: 10 };
    const { lines, exitCode } = publicationOutcome(report({ personal_data: [finding] }), 'open');
    assert.equal(exitCode, GATE_EXIT_STATUS);
    assert.equal(lines.length, 1, 'the warning, not the outcome, names the column');
    assert.match(lines[0]!, /loaded as private because it holds small counts/);
    assert.match(lines[0]!, /--suppress-small-counts COLUMN/);
    assert.doesNotMatch(lines[0]!, /--redact/);
  });

  test('personal data with one cell', () => {
    const finding = { column: 'Contact', kind: 'email_address', count: 1, rows: [1] };
    const { lines } = publicationOutcome(report({ personal_data: [finding] }), 'open');
    assert.equal(lines[0], 'Personal data found: Contact (email_address, 1 cell).');
  });
});
