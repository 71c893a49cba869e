import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { Database } from '../src/db/database.ts';
import { APP_ROLE } from '../src/db/roles.ts';
import { withOrganisation } from '../src/db/tenant.ts';
import { buildOrganisation, buildUser, memberAuth } from './helpers/accounts.ts';
import { testEngines } from './helpers/engines.ts';
import { testServices } from './helpers/services.ts';

/**
 * Tables the application role may only insert into, so no tenant can read another's rows. They have no row-level
 * security because COPY FROM refuses tables that have it: file_uploads takes each import's original file by COPY.
 */
const INSERT_ONLY = new Set(['file_uploads']);

for (const engine of testEngines()) {
  describe(`tenant isolation on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let tables: string[];
    let first: string;
    let second: string;

    before(async () => {
      handle = await engine.create();
      const services = testServices(handle.db);
      first = (await buildOrganisation(handle.db)).id;
      second = (await buildOrganisation(handle.db)).id;
      // Rows for each organisation in the tables this feature owns, plus private datasets.
      for (const organisationId of [first, second]) {
        const admin = await buildUser(handle.db, { member: { organisationId, role: 'administrator' } });
        await services.tokens.create(memberAuth(admin.id, organisationId, 'administrator'), { name: 'isolation', scopes: ['read'] });
        await withOrganisation(handle.db.app, organisationId, (trx) =>
          trx.insertInto('datasets').values({ organisation_id: organisationId, slug: `private-${organisationId.slice(0, 8)}`, title: 'Private' }).execute(),
        );
      }
      const { rows } = await sql<{ table_name: string }>`
        select distinct c.table_name from information_schema.columns c
        join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
        where c.table_schema = 'public' and c.column_name = 'organisation_id' and t.table_type = 'BASE TABLE'
        order by c.table_name`.execute(handle.db.owner);
      tables = rows.map((row) => row.table_name);
    });
    after(async () => {
      await handle.drop();
    });

    test('tenant tables are found', () => {
      for (const expected of ['api_tokens', 'audit_log', 'datasets', 'invitations', 'memberships', 'organisation_sso']) {
        assert.ok(tables.includes(expected), `${expected} has organisation_id`);
      }
    });

    test('every tenant table forces row-level security', async () => {
      for (const table of tables) {
        if (INSERT_ONLY.has(table)) {
          const { rows } = await sql<{ privilege: string; granted: boolean }>`
            select privilege, has_table_privilege(${APP_ROLE}, ${`public.${table}`}, privilege) as granted
            from unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE']) as privilege`.execute(handle.db.owner);
          assert.deepEqual(Object.fromEntries(rows.map((row) => [row.privilege, row.granted])), { SELECT: false, INSERT: true, UPDATE: false, DELETE: false }, `${table}: insert only`);
          continue;
        }
        const { rows } = await sql<{ enabled: boolean; forced: boolean; policies: number }>`
          select c.relrowsecurity as enabled, c.relforcerowsecurity as forced,
                 (select count(*) from pg_policies p where p.schemaname = 'public' and p.tablename = c.relname)::int as policies
          from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = 'public' and c.relname = ${table}`.execute(handle.db.owner);
        assert.equal(rows[0]?.enabled, true, `${table}: row-level security enabled`);
        assert.equal(rows[0]?.forced, true, `${table}: row-level security forced`);
        assert.ok((rows[0]?.policies ?? 0) > 0, `${table}: has a policy`);
      }
    });

    test('unset organisation sees no tenant rows', async () => {
      for (const table of tables) {
        if (INSERT_ONLY.has(table)) {
          await assert.rejects(sql`select count(*) from ${sql.table(table)}`.execute(handle.db.app), /permission denied/, `${table}: cannot be read`);
          continue;
        }
        const { rows } = await sql<{ count: number }>`select count(*)::int as count from ${sql.table(table)} where organisation_id is not null`.execute(handle.db.app);
        assert.equal(rows[0]?.count, 0, `${table}: rows visible with no organisation set`);
      }
      const owned = await sql<{ count: number }>`select count(*)::int as count from api_tokens`.execute(handle.db.owner);
      assert.equal(owned.rows[0]?.count, 2, 'the rows exist for the owner');
    });

    test('insert for another organisation is rejected', async () => {
      for (const table of tables) {
        await assert.rejects(
          withOrganisation(handle.db.app, first, (trx) =>
            INSERT_ONLY.has(table)
              ? sql`insert into ${sql.table(table)} (id, organisation_id, content) values (gen_random_uuid(), ${second}, ${Buffer.from('x')})`.execute(trx)
              : sql`insert into ${sql.table(table)} (organisation_id) values (${second})`.execute(trx),
          ),
          /row-level security|permission denied/,
          `${table}: insert for another organisation`,
        );
      }
    });

    test('interleaved requests on one connection stay apart', async () => {
      const single = engine.name === 'postgres' ? await Database.open({ engine: 'postgres', url: handle.url!, poolSize: 1 }) : handle.db;
      try {
        const requests = Array.from({ length: 40 }, (_, index) => {
          const organisationId = index % 2 === 0 ? first : second;
          return withOrganisation(single.app, organisationId, async (trx) => {
            const datasets = await trx.selectFrom('datasets').select('organisation_id').execute();
            const tokens = await trx.selectFrom('api_tokens').select('organisation_id').execute();
            return { organisationId, seen: [...datasets, ...tokens].map((row) => row.organisation_id) };
          });
        });
        for (const { organisationId, seen } of await Promise.all(requests)) {
          assert.equal(seen.length, 2);
          assert.ok(seen.every((id) => id === organisationId), 'only the own organisation is seen');
        }
      } finally {
        if (single !== handle.db) await single.close();
      }
    });
  });
}
