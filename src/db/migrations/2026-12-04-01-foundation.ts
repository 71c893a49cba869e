import { sql, type Kysely } from 'kysely';
import { APP_ROLE } from '../roles.ts';

/**
 * The application role, the tenant context functions and the datastore schema. Roles are cluster-wide on PostgreSQL,
 * so the role is created only when missing, and a concurrent creator is tolerated.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
do $$ begin
  create role ${APP_ROLE} nologin;
exception when duplicate_object or unique_violation then null;
end $$;

create or replace function civic_current_organisation() returns uuid
  language sql stable
  as $$ select nullif(current_setting('civic.organisation_id', true), '')::uuid $$;

create or replace function civic_is_platform() returns boolean
  language sql stable
  as $$ select coalesce(current_setting('civic.platform', true), '') = 'on' $$;

create schema if not exists datastore;
grant usage on schema public to ${APP_ROLE};
grant usage, create on schema datastore to ${APP_ROLE};
grant execute on function civic_current_organisation() to ${APP_ROLE};
grant execute on function civic_is_platform() to ${APP_ROLE};
`,
    )
    .execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql.raw('drop schema if exists datastore cascade; drop function if exists civic_current_organisation(); drop function if exists civic_is_platform();').execute(db);
}
