import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { buildCatalogue, type Catalogue } from '../../test/helpers/catalogue-builders.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { SQL_READER_ROLE } from '../db/roles.ts';
import type { DB } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { runDatastoreSql } from './datastore-sql.ts';
import { checkSelectQuery } from './sql-guard.ts';

const SOME_ID = '0f8e2a51-1111-4111-8111-111111111111';

describe('datastore sql guard', () => {
  const refused: Array<[string, RegExp]> = [
    [`select 1; drop table resources`, /exactly one statement/],
    [`drop table resources`, /Only SELECT queries are allowed, not DROP/],
    [`insert into "${SOME_ID}" values (1)`, /not INSERT/],
    [`with gone as (delete from "${SOME_ID}" returning *) select * from gone`, /data-modifying WITH/],
    [`select set_config('civic.platform', 'on', false)`, /Function set_config is not allowed/],
    [`select pg_sleep(10)`, /Function pg_sleep is not allowed/],
    [`select pg_read_file('/etc/passwd')`, /Function pg_read_file is not allowed/],
    [`select current_setting('civic.organisation_id')`, /Function current_setting is not allowed/],
    [`select nextval('x')`, /Function nextval is not allowed/],
    [`select lo_import('/etc/passwd')`, /Function lo_import is not allowed/],
    [`select * from dblink('host=example.org', 'select 1') as t(a int)`, /A function in FROM is not allowed/],
    [`select rolpassword from pg_authid`, /Table pg_authid is not allowed/],
    [`select * from information_schema.tables`, /Table information_schema.tables is not allowed/],
    [`select * from public.resources`, /Table public.resources is not allowed/],
    [`select * from resources`, /Table resources is not allowed/],
    [`select * from datastore.t_0001`, /Table datastore.t_0001 is not allowed/],
    [`select 'resources'::regclass`, /Type regclass is not allowed/],
    [`select current_user`, /CURRENT_USER is not allowed/],
    [`select * from "${SOME_ID}" for update`, /FOR UPDATE/],
    [`select * into copy_of from "${SOME_ID}"`, /SELECT INTO/],
    [`select $1`, /A parameter placeholder is not allowed/],
    [`selec 1`, /not valid SQL/],
    // A CTE name counts only where PostgreSQL resolves it to the CTE. Elsewhere it would read the real table.
    [`select * from users, (with users as (select 1) select 1) as q`, /Table users is not allowed/],
    [`select usename from pg_user where exists (with pg_user as (select 1) select 1)`, /Table pg_user is not allowed/],
    [`with a as (select * from a) select * from a`, /Table a is not allowed/],
    [`with a as (select * from b), b as (select 1) select * from a`, /Table b is not allowed/],
    [`(with a as (select 1) select * from a) union select * from a`, /Table a is not allowed/],
  ];
  for (const [query, message] of refused) {
    test(`rejects ${query.slice(0, 50)}`, async () => {
      await assert.rejects(checkSelectQuery(query), (error: unknown) => {
        assert.ok(error instanceof AppError);
        assert.equal(error.fields[0]?.field, 'sql');
        assert.match(error.message, message);
        return true;
      });
    });
  }

  test('accepts joins, CTEs and aggregates', async () => {
    const checked = await checkSelectQuery(
      `with paid as (select supplier, sum(amount) as total from "${SOME_ID}" group by supplier)
       select p.supplier, p.total::int, rank() over (order by p.total desc), case when p.total > 10 then 'big' else 'small' end
       from paid p join "${SOME_ID}" s on s.supplier = p.supplier
       where extract(year from s.paid_on) = 2026 and s.supplier in (select supplier from "${SOME_ID}" where amount > 1)
       union all select 'x', 1, 1, 'y' order by 2 desc limit 5`,
    );
    assert.equal(checked.references.length, 3);
    assert.ok(checked.references.every((reference) => reference.resourceId === SOME_ID));
  });

  test('accepts CTEs in scope', async () => {
    const queries = [
      `with a as (select 1 as i), b as (select i from a) select * from b where i in (select i from a)`,
      `with recursive n as (select 1 as i union all select i + 1 from n where i < 3) select * from n`,
      `with recursive b as (select * from a), a as (select 1) select * from b`,
      `(with a as (select 1) select * from a) union select * from "${SOME_ID}"`,
    ];
    for (const query of queries) {
      const checked = await checkSelectQuery(query);
      assert.ok(checked.references.every((reference) => reference.resourceId === SOME_ID), query);
    }
  });
});

for (const engine of testEngines()) {
  describe(`datastore_search_sql on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let catalogue: Catalogue;
    before(async () => {
      handle = await engine.create();
      catalogue = await buildCatalogue(handle.db);
    });
    after(async () => {
      await handle.drop();
    });

    const limits = () => ({ timeoutMs: 2000, engine: handle.db.engine });

    test('aggregates over a resource', async () => {
      const id = catalogue.spendingV2.id;
      const result = await runDatastoreSql(
        handle.db.app,
        null,
        `select supplier, count(*) as payments, sum(amount) as total from "${id}" where approved group by supplier order by supplier`,
        limits(),
      );
      assert.deepEqual(result.fields, [
        { id: 'supplier', type: 'text' },
        { id: 'payments', type: 'int' },
        { id: 'total', type: 'numeric' },
      ]);
      assert.equal(result.records.length, 5);
      assert.deepEqual(result.records[0], { supplier: 'Acme Roads Ltd', payments: 25, total: 34125 });
      assert.equal(result.recordsTruncated, false);
    });

    test('qualified columns keep the resource id', async () => {
      const id = catalogue.foodbanksResource.id;
      const result = await runDatastoreSql(handle.db.app, null, `select "${id}".ward from "${id}" where "${id}".parcels > 100`, limits());
      assert.deepEqual(result.records, [{ ward: 'Grays Riverside' }]);
    });

    test('empty result still names the columns', async () => {
      const result = await runDatastoreSql(handle.db.app, null, `select ward, parcels from "${catalogue.foodbanksResource.id}" where false`, limits());
      assert.deepEqual(result.records, []);
      assert.deepEqual(result.fields.map((field) => field.id), ['ward', 'parcels']);
    });

    test('duplicate column names stay apart', async () => {
      const id = catalogue.spendingV1.id;
      const result = await runDatastoreSql(
        handle.db.app,
        null,
        `select a._id, b._id, a.amount, b.supplier as _id_2 from "${id}" a join "${id}" b on b._id = a._id + 1 order by a._id limit 2`,
        limits(),
      );
      assert.deepEqual(result.fields, [
        { id: '_id', type: 'int' },
        { id: '_id_3', type: 'int' },
        { id: 'amount', type: 'numeric' },
        { id: '_id_2', type: 'text' },
      ]);
      assert.deepEqual(result.records[0], { _id: 1, _id_3: 2, amount: 10.5, _id_2: 'Grays Cleaning Services' });

      const star = await runDatastoreSql(handle.db.app, null, `select * from "${id}" a join "${id}" b on b._id = a._id order by a._id limit 1`, limits());
      const ids = star.fields.map((field) => field.id);
      assert.equal(ids.length, 14, 'seven columns from each side');
      assert.equal(new Set(ids).size, 14, 'every field has its own id');
      assert.deepEqual(ids.slice(0, 3), ['_id', 'supplier', 'amount']);
      assert.deepEqual(ids.slice(7, 10), ['_id_2', 'supplier_2', 'amount_2']);
      assert.equal(star.fields[7]!.type, 'int');
      assert.equal(star.fields[9]!.type, 'numeric');
      assert.equal(star.records[0]!._id_2, 1);
      assert.equal(star.records[0]!.amount_2, 10.5);
      assert.equal(Object.keys(star.records[0]!).length, 14);
    });

    test('private resource is refused', async () => {
      const query = `select * from "${catalogue.secretResource.id}"`;
      await assert.rejects(runDatastoreSql(handle.db.app, null, query, limits()), (error: unknown) => error instanceof AppError && error.kind === 'forbidden');
      await assert.rejects(
        runDatastoreSql(handle.db.app, null, `select * from "${catalogue.spendingV1.id}" a join "${catalogue.secretResource.id}" b on true`, limits()),
        (error: unknown) => error instanceof AppError && error.kind === 'forbidden',
      );
      const own = await runDatastoreSql(handle.db.app, catalogue.council.id, query, limits());
      assert.equal(own.records.length, 2);
    });

    test('CTE name cannot reach platform tables', async () => {
      const query = `select email from users, (with users as (select 1) select 1) as q`;
      await assert.rejects(runDatastoreSql(handle.db.app, null, query, limits()), (error: unknown) => {
        assert.ok(error instanceof AppError);
        assert.equal(error.fields[0]?.field, 'sql');
        assert.match(error.message, /Table users is not allowed/);
        return true;
      });
    });

    test('query role reads datastore tables only', async () => {
      const asReader = <T>(work: (trx: Kysely<DB>) => Promise<T>) =>
        handle.db.app.transaction().execute(async (trx) => {
          await sql.raw(`set local role ${SQL_READER_ROLE}`).execute(trx);
          return work(trx);
        });
      // The catalogue's tables were created after the migration, so this also checks the default privileges.
      const { rows } = await asReader((trx) => sql<{ count: number }>`select count(*)::int as count from ${sql.id('datastore', catalogue.spendingV1.tableName)}`.execute(trx));
      assert.equal(rows[0]?.count, 10);
      for (const table of ['users', 'sessions', 'api_tokens', 'organisations', 'resources', 'audit_log']) {
        await assert.rejects(
          asReader((trx) => sql`select 1 from ${sql.id(table)} limit 1`.execute(trx)),
          (error: unknown) => (error as { code?: string }).code === '42501',
          `the query role must not read ${table}`,
        );
      }
    });

    test('unknown resource and column are validation errors', async () => {
      await assert.rejects(runDatastoreSql(handle.db.app, null, `select * from "${SOME_ID}"`, limits()), /is not a datastore resource/);
      await assert.rejects(runDatastoreSql(handle.db.app, null, `select colour from "${catalogue.spendingV1.id}"`, limits()), /column "colour" does not exist/);
    });

    test('row cap truncates long results', async () => {
      const id = catalogue.spendingV2.id;
      const result = await runDatastoreSql(handle.db.app, null, `select a._id from "${id}" a cross join "${id}" b`, limits());
      assert.equal(result.records.length, 32000);
      assert.equal(result.recordsTruncated, true);
    });

    test('tables survive refused queries', async () => {
      await assert.rejects(runDatastoreSql(handle.db.app, null, `select 1; delete from "${catalogue.spendingV1.id}"`, limits()));
      const { rows } = await sql<{ count: number }>`select count(*)::int as count from ${sql.id('datastore', catalogue.spendingV1.tableName)}`.execute(handle.db.app);
      assert.equal(rows[0]?.count, 10);
    });
  });
}
