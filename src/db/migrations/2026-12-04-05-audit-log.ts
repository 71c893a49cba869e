import { sql, type Kysely } from 'kysely';
import { APP_ROLE } from '../roles.ts';

/**
 * The audit log: append-only. The application role may insert and select but never update or delete, so a row once
 * written stays as written. An organisation reads its own rows; rows without an organisation (platform and sign-in
 * events) are read only in the platform scope.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
create table audit_log (
  id bigint generated always as identity primary key,
  occurred_at timestamptz not null default now(),
  organisation_id uuid references organisations(id),
  actor_user_id uuid references users(id) on delete set null,
  actor_kind text not null check (actor_kind in ('user', 'token', 'platform', 'system')),
  action text not null check (action ~ '^[a-z][a-z0-9_.]{2,99}$'),
  subject_type text not null,
  subject_id text,
  request_id text,
  details jsonb not null default '{}'
);
create index audit_log_organisation_idx on audit_log (organisation_id, occurred_at);

alter table audit_log enable row level security;
alter table audit_log force row level security;
create policy audit_log_read on audit_log for select
  using (organisation_id = civic_current_organisation() or civic_is_platform());
create policy audit_log_insert on audit_log for insert
  with check (organisation_id is null or organisation_id = civic_current_organisation() or civic_is_platform());

grant select, insert on audit_log to ${APP_ROLE};
`,
    )
    .execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql.raw('drop table if exists audit_log;').execute(db);
}
