import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { testEngines } from '../../test/helpers/engines.ts';
import { buildDataset, buildOrganisation } from '../../test/helpers/catalogue-builders.ts';
import { MAX_PREPARED, prepareStatement, preparedCount, preparedName } from './prepared.ts';
import { setOrganisation } from './tenant.ts';

describe('prepared statement names', () => {
  test('one name per text', () => {
    const first = { sql: 'select 1 where $1::int = 1 -- prepared test one' };
    const second = { sql: 'select 2 where $1::int = 2 -- prepared test two' };
    assert.equal(preparedName(first.sql), undefined);
    prepareStatement(first);
    prepareStatement(first);
    prepareStatement(second);
    assert.match(preparedName(first.sql) ?? '', /^civic_prepared_\d+$/);
    assert.notEqual(preparedName(first.sql), preparedName(second.sql));
  });
});

for (const engine of testEngines()) {
  describe(`prepared statements on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    before(async () => {
      handle = await engine.create();
    });
    after(() => handle.drop());

    // PostgreSQL may switch a prepared statement to a generic plan after five runs, and this test forces one from the
    // start. Row-level security must still follow the organisation each run sets.
    test('row-level security follows each run', async () => {
      const owner = await buildOrganisation(handle.db, { slug: 'prepared-owner' });
      const other = await buildOrganisation(handle.db, { slug: 'prepared-other' });
      await buildDataset(handle.db, { organisation: owner, slug: 'prepared-private', visibility: 'private' });
      for (let run = 0; run < 12; run++) {
        const scope = run % 2 === 0 ? owner.id : other.id;
        const seen = await handle.db.app.transaction().execute(async (trx) => {
          await setOrganisation(trx, scope);
          await sql`set local plan_cache_mode = force_generic_plan`.execute(trx);
          const compiled = trx.selectFrom('datasets').select('slug').where('slug', '=', 'prepared-private').compile();
          prepareStatement(compiled);
          return (await trx.executeQuery(compiled)).rows.map((row) => row.slug);
        });
        assert.deepEqual(seen, scope === owner.id ? ['prepared-private'] : [], `run ${run + 1}`);
      }
    });
  });
}

// Last in this file: it fills the table of names, which later tests here would find full.
describe('prepared statement bound', () => {
  test('texts past the bound run unprepared', () => {
    for (let index = preparedCount(); index < MAX_PREPARED; index++) prepareStatement({ sql: `select ${index} -- filling` });
    assert.equal(preparedCount(), MAX_PREPARED);
    const extra = { sql: 'select 1 -- past the bound' };
    prepareStatement(extra);
    assert.equal(preparedName(extra.sql), undefined);
    assert.equal(preparedCount(), MAX_PREPARED);
  });
});
