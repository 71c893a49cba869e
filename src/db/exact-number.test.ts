import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { testEngines } from '../../test/helpers/engines.ts';
import { ExactNumber, parseDatabaseNumber } from './exact-number.ts';

describe('database numbers', () => {
  test('exact values stay numbers', () => {
    for (const [text, value] of [['0', 0], ['-25', -25], ['1234.50', 1234.5], ['0.0000001', 1e-7], ['9007199254740991', 9007199254740991], ['123456789.123456', 123456789.123456], ['-0.00', -0]] as const) {
      assert.equal(parseDatabaseNumber(text), value, text);
    }
  });

  test('values a double would change keep their text', () => {
    for (const text of ['9007199254740993', '-9223372036854775808', '12345678901234567890.123456789', '0.12345678901234567891']) {
      const parsed = parseDatabaseNumber(text);
      assert.ok(parsed instanceof ExactNumber, text);
      assert.equal(JSON.stringify({ value: parsed }), `{"value":"${text}"}`);
      assert.equal(String(parsed), text);
      assert.equal(Number(parsed), Number(text));
    }
  });
});

for (const engine of testEngines()) {
  describe(`database numbers on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    before(async () => {
      handle = await engine.create();
    });
    after(() => handle.drop());

    test('bigint and numeric read back exactly', async () => {
      const { rows } = await sql<{ big: unknown; small: unknown; wide: unknown; amount: unknown }>`
        select 9007199254740993::bigint as big, 42::bigint as small, 12345678901234567890.123456789::numeric as wide, 1234.50::numeric as amount`.execute(handle.db.owner);
      const row = rows[0]!;
      assert.equal(String(row.big), '9007199254740993');
      assert.equal(row.small, 42);
      assert.equal(String(row.wide), '12345678901234567890.123456789');
      assert.equal(row.amount, 1234.5);
    });
  });
}
