import { sql, type Kysely } from 'kysely';
import { APP_ROLE } from '../roles.ts';

/**
 * Users, organisation memberships and API tokens.
 *
 * Users are not tenant rows, but must not leak between tenants, so their policies use two more transaction settings:
 * - `civic.user_id` (civic_current_user()): the signed-in user, who reads and updates their own row;
 * - `civic.presented_secret` (civic_presented_secret()): the hash of a secret the client presented (session cookie,
 *   API token, reset link), which makes exactly the row holding that hash visible, so a lookup by secret needs no
 *   wider scope.
 * Sign-in by email goes through civic_user_id_by_email(), a SECURITY DEFINER function that returns only the id.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
create or replace function civic_current_user() returns uuid
  language sql stable
  as $$ select nullif(current_setting('civic.user_id', true), '')::uuid $$;

create or replace function civic_presented_secret() returns text
  language sql stable
  as $$ select nullif(current_setting('civic.presented_secret', true), '') $$;

create table users (
  id uuid primary key default gen_random_uuid(),
  email text not null check (email = lower(email) and length(email) between 3 and 320 and position('@' in email) > 1),
  display_name text not null check (length(display_name) between 1 and 200),
  password_hash text,
  email_verified_at timestamptz,
  totp_secret_encrypted text,
  totp_enabled_at timestamptz,
  totp_last_step bigint,
  is_platform_admin boolean not null default false,
  failed_sign_ins integer not null default 0,
  lockout_count integer not null default 0,
  locked_until timestamptz,
  last_failed_sign_in_at timestamptz,
  last_sign_in_at timestamptz,
  created_at timestamptz not null default now()
);
create unique index users_email_key on users (email);

create table memberships (
  organisation_id uuid not null references organisations(id),
  user_id uuid not null references users(id) on delete cascade,
  role text not null check (role in ('administrator', 'data_steward', 'data_protection_officer', 'analyst', 'viewer')),
  created_at timestamptz not null default now(),
  primary key (organisation_id, user_id)
);
create index memberships_user_idx on memberships (user_id);

create table api_tokens (
  id uuid primary key default gen_random_uuid(),
  organisation_id uuid not null references organisations(id),
  user_id uuid not null references users(id) on delete cascade,
  name text not null check (length(name) between 1 and 100),
  prefix text not null unique check (prefix ~ '^[a-z0-9]{8}$'),
  secret_hash text not null unique,
  scopes text[] not null check (cardinality(scopes) > 0 and scopes <@ array['read', 'write', 'exchange']),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  revoked_at timestamptz,
  last_used_at timestamptz,
  check (expires_at > created_at and expires_at <= created_at + interval '366 days')
);
create index api_tokens_organisation_idx on api_tokens (organisation_id);

-- A user reads their own row; members of the current organisation read each other's rows; the platform reads all.
alter table users enable row level security;
alter table users force row level security;
create policy users_read on users for select
  using (id = civic_current_user() or civic_is_platform()
         or exists (select 1 from memberships m where m.user_id = users.id and m.organisation_id = civic_current_organisation()));
create policy users_insert on users for insert
  with check (id = civic_current_user() or civic_is_platform());
create policy users_update on users for update
  using (id = civic_current_user() or civic_is_platform())
  with check (id = civic_current_user() or civic_is_platform());

-- A user sees their own memberships in every organisation, so they can choose one to act in.
alter table memberships enable row level security;
alter table memberships force row level security;
create policy memberships_read on memberships for select
  using (organisation_id = civic_current_organisation() or user_id = civic_current_user() or civic_is_platform());
create policy memberships_write on memberships for all
  using (organisation_id = civic_current_organisation() or civic_is_platform())
  with check (organisation_id = civic_current_organisation() or civic_is_platform());

alter table api_tokens enable row level security;
alter table api_tokens force row level security;
create policy api_tokens_read on api_tokens for select
  using (organisation_id = civic_current_organisation() or civic_is_platform() or secret_hash = civic_presented_secret());
create policy api_tokens_write on api_tokens for all
  using (organisation_id = civic_current_organisation() or civic_is_platform())
  with check (organisation_id = civic_current_organisation() or civic_is_platform());

-- Returns only the id for an email, so sign-in, password reset and single sign-on can find the account without a
-- wider scope. The caller then sets civic.user_id and reads the row under the users policies.
create or replace function civic_user_id_by_email(candidate text) returns uuid
  language sql stable security definer set search_path = public, pg_temp
  as $$ select id from users where email = lower(candidate) $$;
revoke all on function civic_user_id_by_email(text) from public;

grant execute on function civic_current_user() to ${APP_ROLE};
grant execute on function civic_presented_secret() to ${APP_ROLE};
grant execute on function civic_user_id_by_email(text) to ${APP_ROLE};
grant select, insert, update on users to ${APP_ROLE};
grant select, insert, update, delete on memberships to ${APP_ROLE};
grant select, insert, update on api_tokens to ${APP_ROLE};
`,
    )
    .execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `drop table if exists api_tokens, memberships, users cascade;
       drop function if exists civic_user_id_by_email(text);
       drop function if exists civic_presented_secret();
       drop function if exists civic_current_user();`,
    )
    .execute(db);
}
