import { sql, type Kysely } from 'kysely';
import { APP_ROLE } from '../roles.ts';

/**
 * Server-side sessions, emailed one-time links (password reset, email verification), invitations, single sign-on
 * logins in progress, the development outbox and shared rate-limit counters.
 *
 * Rows found by a secret (a session cookie, a reset link, an invitation link, an OpenID `state`) store only its
 * SHA-256 hash and are visible when that hash is presented through civic_presented_secret(), so a lookup by secret
 * needs no wider scope.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
create table sessions (
  id text primary key check (id ~ '^[0-9a-f]{64}$'),
  user_id uuid not null references users(id) on delete cascade,
  current_organisation_id uuid references organisations(id),
  stage text not null check (stage in ('second_factor', 'second_factor_setup', 'complete')),
  csrf_token text not null,
  via text not null default 'password' check (via in ('password', 'single_sign_on')),
  created_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  expires_at timestamptz not null,
  revoked_at timestamptz
);
create index sessions_user_idx on sessions (user_id);

alter table sessions enable row level security;
alter table sessions force row level security;
create policy sessions_read on sessions for select
  using (id = civic_presented_secret() or user_id = civic_current_user() or civic_is_platform());
create policy sessions_insert on sessions for insert
  with check (user_id = civic_current_user());
create policy sessions_update on sessions for update
  using (id = civic_presented_secret() or user_id = civic_current_user() or civic_is_platform())
  with check (id = civic_presented_secret() or user_id = civic_current_user() or civic_is_platform());

-- Password reset and email verification links.
create table account_links (
  id text primary key check (id ~ '^[0-9a-f]{64}$'),
  user_id uuid not null references users(id) on delete cascade,
  purpose text not null check (purpose in ('password_reset', 'email_verification')),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at timestamptz
);
create index account_links_user_idx on account_links (user_id);
alter table account_links enable row level security;
alter table account_links force row level security;
create policy account_links_read on account_links for select
  using (id = civic_presented_secret() or user_id = civic_current_user());
create policy account_links_insert on account_links for insert
  with check (user_id = civic_current_user());
create policy account_links_update on account_links for update
  using (id = civic_presented_secret() or user_id = civic_current_user())
  with check (id = civic_presented_secret() or user_id = civic_current_user());

create table invitations (
  id uuid primary key default gen_random_uuid(),
  organisation_id uuid not null references organisations(id),
  token_hash text not null unique check (token_hash ~ '^[0-9a-f]{64}$'),
  email text not null check (email = lower(email)),
  role text not null check (role in ('administrator', 'data_steward', 'data_protection_officer', 'analyst', 'viewer')),
  invited_by uuid references users(id) on delete set null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  accepted_at timestamptz,
  revoked_at timestamptz
);
create index invitations_organisation_idx on invitations (organisation_id);
alter table invitations enable row level security;
alter table invitations force row level security;
create policy invitations_read on invitations for select
  using (organisation_id = civic_current_organisation() or civic_is_platform() or token_hash = civic_presented_secret());
create policy invitations_write on invitations for all
  using (organisation_id = civic_current_organisation() or civic_is_platform())
  with check (organisation_id = civic_current_organisation() or civic_is_platform());

-- OpenID Connect logins between the redirect to the provider and the callback.
create table sso_logins (
  state_hash text primary key check (state_hash ~ '^[0-9a-f]{64}$'),
  organisation_id uuid not null references organisations(id),
  code_verifier text not null,
  nonce text not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at timestamptz
);
alter table sso_logins enable row level security;
alter table sso_logins force row level security;
create policy sso_logins_read on sso_logins for select
  using (organisation_id = civic_current_organisation() or state_hash = civic_presented_secret());
create policy sso_logins_write on sso_logins for all
  using (organisation_id = civic_current_organisation())
  with check (organisation_id = civic_current_organisation());

-- Messages kept here when no SMTP server is configured; only platform administrators read them.
create table outbox (
  id bigint generated always as identity primary key,
  created_at timestamptz not null default now(),
  recipient text not null,
  subject text not null,
  text_body text not null
);
alter table outbox enable row level security;
alter table outbox force row level security;
create policy outbox_read on outbox for select using (civic_is_platform());
create policy outbox_insert on outbox for insert with check (true);

-- Fixed-window counters shared by every instance. Keys are HMACs of the client address or email, never the values.
create table rate_limit_counters (
  bucket text not null,
  key_hash text not null,
  window_start timestamptz not null,
  hits integer not null,
  primary key (bucket, key_hash, window_start)
);

grant select, insert, update on sessions, account_links to ${APP_ROLE};
grant select, insert, update on invitations, sso_logins to ${APP_ROLE};
grant select, insert on outbox to ${APP_ROLE};
grant select, insert, update, delete on rate_limit_counters to ${APP_ROLE};
`,
    )
    .execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql.raw('drop table if exists rate_limit_counters, outbox, sso_logins, invitations, account_links, sessions cascade;').execute(db);
}
