import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../errors.ts';
import { parseRedactOption } from './redaction.ts';
import { PERSONAL_DATA_KINDS } from './scanner.ts';

describe('redact option', () => {
  test('column with a kind', () => {
    assert.deepEqual(parseRedactOption('Supplier name:individual_name'), { type: 'redact', column: 'Supplier name', kind: 'individual_name' });
  });

  test('column alone', () => {
    assert.deepEqual(parseRedactOption('Notes'), { type: 'redact', column: 'Notes' });
  });

  test('colon inside a header', () => {
    assert.deepEqual(parseRedactOption('Cost: total'), { type: 'redact', column: 'Cost: total' });
    assert.deepEqual(parseRedactOption('Time 10:30'), { type: 'redact', column: 'Time 10:30' });
  });

  test('unknown kind lists the kinds', () => {
    assert.throws(
      () => parseRedactOption('Notes:bogus_kind'),
      (error: unknown) => {
        assert.ok(error instanceof AppError);
        assert.equal(error.code, 'unknown_kind');
        assert.match(error.message, /Kind "bogus_kind" in --redact "Notes:bogus_kind" is not a kind of personal data/);
        for (const kind of PERSONAL_DATA_KINDS) assert.ok(error.message.includes(kind), kind);
        return true;
      },
    );
  });
});
