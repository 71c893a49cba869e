import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { testEngines } from '../../test/helpers/engines.ts';
import { keepMicroseconds, PreciseInstant } from './precise-instant.ts';

describe('timestamptz with microseconds', () => {
  const fallback = (text: string) => `engine:${text}`;
  const parse = keepMicroseconds(fallback);

  test('microseconds kept in ISO text', () => {
    const parsed = parse('2025-04-03 13:05:00.123456+00');
    assert.ok(parsed instanceof PreciseInstant);
    assert.equal((parsed as Date).toISOString(), '2025-04-03T13:05:00.123456Z');
    assert.equal(JSON.stringify({ at: parsed }), '{"at":"2025-04-03T13:05:00.123456Z"}');
    assert.equal((parse('2025-04-03 14:05:00.000001+01') as Date).toISOString(), '2025-04-03T13:05:00.000001Z');
    assert.equal((parse('2025-04-03 07:35:00.1234+05:30') as Date).toISOString(), '2025-04-03T02:05:00.123400Z');
    assert.equal((parse('0044-03-15 12:00:00.000500+00') as Date).toISOString(), '0044-03-15T12:00:00.000500Z');
  });

  test('other times go to the engine parser', () => {
    for (const text of ['2025-04-03 13:05:00+00', '2025-04-03 13:05:00.123+00', '2025-04-03 13:05:00.123000+00', 'infinity', '0044-03-15 12:00:00.123456+00 BC']) {
      assert.equal(parse(text), `engine:${text}`, text);
    }
  });
});

for (const engine of testEngines()) {
  describe(`timestamptz read back on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    before(async () => {
      handle = await engine.create();
    });
    after(() => handle.drop());

    test('six digits only when needed', async () => {
      const { rows } = await sql<{ precise: Date; whole: Date; never: unknown }>`
        select '2025-04-03 14:05:00.123456+01'::timestamptz as precise, '2025-04-03 14:05:00.5+01'::timestamptz as whole, 'infinity'::timestamptz as never`.execute(handle.db.owner);
      const row = rows[0]!;
      assert.equal(row.precise.toISOString(), '2025-04-03T13:05:00.123456Z');
      assert.equal(row.whole.toISOString(), '2025-04-03T13:05:00.500Z');
      assert.ok(!(row.whole instanceof PreciseInstant));
      assert.equal(row.never, Number.POSITIVE_INFINITY);
    });
  });
}
