import { sql, type Kysely } from 'kysely';
import { APP_ROLE, SQL_READER_ROLE } from '../roles.ts';

/**
 * A role for the queries of datastore_search_sql that can read the datastore tables and nothing else of ours. The SQL
 * checker already allows only datastore tables, and the query runs as this role as well, so a query that got past the
 * checker still could not read accounts, sessions or agreements. The application role switches to it with SET LOCAL
 * ROLE. Tables the application role creates later are readable through its default privileges.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
do $$ begin
  create role ${SQL_READER_ROLE} nologin;
exception when duplicate_object or unique_violation then null;
end $$;
grant ${SQL_READER_ROLE} to ${APP_ROLE};
grant usage on schema datastore to ${SQL_READER_ROLE};
set local role ${APP_ROLE};
grant select on all tables in schema datastore to ${SQL_READER_ROLE};
alter default privileges in schema datastore grant select on tables to ${SQL_READER_ROLE};
reset role;
`,
    )
    .execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
set local role ${APP_ROLE};
alter default privileges in schema datastore revoke select on tables from ${SQL_READER_ROLE};
revoke select on all tables in schema datastore from ${SQL_READER_ROLE};
reset role;
revoke usage on schema datastore from ${SQL_READER_ROLE};
revoke ${SQL_READER_ROLE} from ${APP_ROLE};
`,
    )
    .execute(db);
}
