import { sql, type Kysely } from 'kysely';
import { APP_ROLE } from '../roles.ts';

/**
 * Data protection records: rectifications and erasures recorded by a DPO with the notices they send to recipients
 * (UK GDPR Article 19), data protection impact assessments per agreement, and dataset retention.
 *
 * A notice belongs to the provider organisation and is readable by its recipient, which may update it only to
 * acknowledge it. Retention removes expired dataset versions, so the export record stops referencing resources by
 * foreign key: like a disclosure, it keeps naming the removed version's id.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
create table subject_rectifications (
  id uuid primary key default gen_random_uuid(),
  organisation_id uuid not null references organisations(id),
  action text not null check (action in ('rectified', 'erased')),
  identifier_kind text not null check (identifier_kind in ('nhs_number', 'person_id', 'email')),
  subject_hash bytea not null check (length(subject_hash) = 32),
  description text not null check (length(description) between 1 and 2000),
  recorded_by uuid,
  recorded_at timestamptz not null default now()
);
create index subject_rectifications_organisation_idx on subject_rectifications (organisation_id, recorded_at);

create table rectification_notices (
  id uuid primary key default gen_random_uuid(),
  organisation_id uuid not null references organisations(id),
  rectification_id uuid not null references subject_rectifications(id),
  recipient_organisation_id uuid not null references organisations(id),
  action text not null check (action in ('rectified', 'erased')),
  description text not null,
  agreements jsonb not null,
  created_at timestamptz not null,
  acknowledged_at timestamptz,
  acknowledged_by uuid,
  unique (rectification_id, recipient_organisation_id)
);
create index rectification_notices_organisation_idx on rectification_notices (organisation_id, created_at);
create index rectification_notices_recipient_idx on rectification_notices (recipient_organisation_id, created_at);

create table dpias (
  id uuid primary key default gen_random_uuid(),
  organisation_id uuid not null references organisations(id),
  agreement_id uuid not null unique references agreements(id),
  description text not null,
  necessity text not null,
  risks jsonb not null,
  residual_risk text not null check (residual_risk in ('low', 'medium', 'high')),
  signed_off_by uuid not null,
  signed_off_on date not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

alter table datasets add column retention_months integer check (retention_months between 1 and 1200);
alter table datasets add column withdrawn_at timestamptz;
alter table exchange_exports drop constraint if exists exchange_exports_resource_id_fkey;

alter table subject_rectifications enable row level security;
alter table subject_rectifications force row level security;
create policy subject_rectifications_owner on subject_rectifications for all
  using (organisation_id = civic_current_organisation() or civic_is_platform())
  with check (organisation_id = civic_current_organisation() or civic_is_platform());

alter table rectification_notices enable row level security;
alter table rectification_notices force row level security;
create policy rectification_notices_read on rectification_notices for select
  using (organisation_id = civic_current_organisation() or recipient_organisation_id = civic_current_organisation()
         or civic_is_platform());
create policy rectification_notices_insert on rectification_notices for insert
  with check (organisation_id = civic_current_organisation() or civic_is_platform());
create policy rectification_notices_acknowledge on rectification_notices for update
  using (recipient_organisation_id = civic_current_organisation() or civic_is_platform())
  with check (recipient_organisation_id = civic_current_organisation() or civic_is_platform());

alter table dpias enable row level security;
alter table dpias force row level security;
create policy dpias_owner on dpias for all
  using (organisation_id = civic_current_organisation() or civic_is_platform())
  with check (organisation_id = civic_current_organisation() or civic_is_platform());

grant select, insert on subject_rectifications to ${APP_ROLE};
grant select, insert on rectification_notices to ${APP_ROLE};
grant update (acknowledged_at, acknowledged_by) on rectification_notices to ${APP_ROLE};
grant select, insert, update on dpias to ${APP_ROLE};
`,
    )
    .execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
drop table if exists rectification_notices, subject_rectifications, dpias;
alter table datasets drop column if exists retention_months, drop column if exists withdrawn_at;
`,
    )
    .execute(db);
}
