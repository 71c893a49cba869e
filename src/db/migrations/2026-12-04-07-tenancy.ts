import { sql, type Kysely } from 'kysely';
import { APP_ROLE } from '../roles.ts';

/**
 * Organisations as Community Cloud tenants: their type, registration numbers, email domains for single sign-on,
 * plan and enabled applications, the review of self-registrations, and each organisation's OpenID Connect settings.
 * Registration number formats are checked again in the service with messages for people; these checks are the
 * backstop.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
alter table organisations
  add column type text not null default 'council'
    check (type in ('charity', 'nhs_body', 'police', 'fire', 'school', 'council', 'icb', 'community_group', 'business')),
  add column charity_number text check (charity_number ~ '^[0-9]{6,7}(-[0-9]{2})?$'),
  add column scottish_charity_number text check (scottish_charity_number ~ '^SC[0-9]{6}$'),
  add column company_number text check (company_number ~ '^([0-9]{8}|[A-Z]{2}[0-9]{6})$'),
  add column ods_code text check (ods_code ~ '^[A-Z0-9]{3,6}$'),
  add column school_urn text check (school_urn ~ '^[0-9]{6}$'),
  add column email_domains text[] not null default '{}',
  add column plan text not null default 'partner' check (plan in ('community', 'partner', 'commercial')),
  add column applications text[] not null default '{data_workspace}'
    check (applications <@ array['data_workspace', 'exchange', 'publishing', 'partner_wifi']),
  add column applicant_user_id uuid references users(id) on delete set null,
  add column reviewed_at timestamptz,
  add column review_reason text,
  add column closed_at timestamptz;

-- Members see their organisation in any status, so an applicant can follow the review of a pending registration.
create policy organisations_member_read on organisations for select
  using (exists (select 1 from memberships m where m.organisation_id = organisations.id and m.user_id = civic_current_user()));

create table organisation_sso (
  organisation_id uuid primary key references organisations(id),
  issuer text not null check (issuer ~ '^https?://'),
  client_id text not null check (length(client_id) between 1 and 300),
  client_secret_encrypted text not null,
  enabled boolean not null default true,
  updated_at timestamptz not null default now()
);
alter table organisation_sso enable row level security;
alter table organisation_sso force row level security;
create policy organisation_sso_all on organisation_sso for all
  using (organisation_id = civic_current_organisation() or civic_is_platform())
  with check (organisation_id = civic_current_organisation() or civic_is_platform());

grant select, insert, update, delete on organisation_sso to ${APP_ROLE};
`,
    )
    .execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `drop table if exists organisation_sso;
       drop policy if exists organisations_member_read on organisations;
       alter table organisations drop column type, drop column charity_number, drop column scottish_charity_number,
         drop column company_number, drop column ods_code, drop column school_urn, drop column email_domains,
         drop column plan, drop column applications, drop column applicant_user_id, drop column reviewed_at,
         drop column review_reason, drop column closed_at;`,
    )
    .execute(db);
}
