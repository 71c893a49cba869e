import { sql, type Kysely } from 'kysely';
import { APP_ROLE } from '../roles.ts';

/**
 * Information sharing agreements and their versions, parties, approvals and transitions; the record of exchange
 * exports; webhook subscriptions and delivery attempts.
 *
 * Agreements are owned by the provider organisation. Every organisation named as a party (in any version) gets a row
 * in agreement_parties, and the read policies let parties read the agreements they belong to. Only the owner writes;
 * the workflow service authorises other parties' approvers itself and then writes in the owner's scope.
 * Active agreements are public (the register), so their version in force and its parties are readable by anyone.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
create table agreements (
  id uuid primary key default gen_random_uuid(),
  organisation_id uuid not null references organisations(id),
  reference text not null unique check (reference ~ '^[A-Z0-9][A-Z0-9-]{2,59}$'),
  title text not null check (length(title) between 1 and 300),
  status text not null default 'draft'
    check (status in ('draft', 'awaiting_approval', 'active', 'suspended', 'expired', 'lapsed_review', 'terminated')),
  version_in_force_id uuid,
  review_reminder_sent_for date,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index agreements_organisation_idx on agreements (organisation_id);

create table agreement_versions (
  id uuid primary key default gen_random_uuid(),
  organisation_id uuid not null references organisations(id),
  agreement_id uuid not null references agreements(id) on delete cascade,
  version integer not null check (version >= 1),
  status text not null default 'draft' check (status in ('draft', 'awaiting_approval', 'approved', 'superseded', 'withdrawn')),
  terms jsonb not null,
  purposes text[] not null,
  start_date date not null,
  end_date date not null,
  review_date date not null,
  created_by uuid,
  created_at timestamptz not null default now(),
  submitted_at timestamptz,
  approved_at timestamptz,
  unique (agreement_id, version),
  check (end_date >= start_date)
);
create index agreement_versions_organisation_idx on agreement_versions (organisation_id);

alter table agreements add constraint agreements_version_in_force_fk
  foreign key (version_in_force_id) references agreement_versions(id) deferrable initially deferred;

create table agreement_parties (
  agreement_id uuid not null references agreements(id) on delete cascade,
  party_organisation_id uuid not null references organisations(id),
  organisation_id uuid not null references organisations(id),
  added_at timestamptz not null default now(),
  primary key (agreement_id, party_organisation_id)
);
create index agreement_parties_party_idx on agreement_parties (party_organisation_id);

create table agreement_approvals (
  id uuid primary key default gen_random_uuid(),
  organisation_id uuid not null references organisations(id),
  agreement_id uuid not null references agreements(id) on delete cascade,
  version_id uuid not null references agreement_versions(id) on delete cascade,
  party_organisation_id uuid not null references organisations(id),
  approver_role text not null check (approver_role in ('data_protection_officer', 'senior_information_risk_owner')),
  user_id uuid not null,
  decision text not null check (decision in ('approved', 'declined')),
  comment text not null default '',
  decided_at timestamptz not null default now()
);
create index agreement_approvals_version_idx on agreement_approvals (version_id);

create table agreement_transitions (
  id bigint generated always as identity primary key,
  organisation_id uuid not null references organisations(id),
  agreement_id uuid not null references agreements(id) on delete cascade,
  version_id uuid references agreement_versions(id) on delete set null,
  from_status text,
  to_status text not null,
  actor_user_id uuid,
  actor_kind text not null check (actor_kind in ('user', 'token', 'platform', 'system')),
  reason text not null,
  occurred_at timestamptz not null default now()
);
create index agreement_transitions_agreement_idx on agreement_transitions (agreement_id, occurred_at);

create table exchange_exports (
  id uuid primary key default gen_random_uuid(),
  organisation_id uuid not null references organisations(id),
  recipient_organisation_id uuid not null references organisations(id),
  agreement_id uuid not null references agreements(id),
  agreement_version_id uuid not null references agreement_versions(id),
  dataset_id uuid not null references datasets(id),
  resource_id uuid not null references resources(id),
  format text not null check (format in ('csv', 'jsonl')),
  purpose text not null,
  fields text[] not null,
  status text not null default 'running' check (status in ('running', 'completed', 'stopped')),
  row_count bigint not null default 0,
  content_digest text,
  signature text,
  error_code text,
  request_id text,
  started_at timestamptz not null default now(),
  finished_at timestamptz
);
create index exchange_exports_recipient_idx on exchange_exports (recipient_organisation_id, started_at);

create table webhook_subscriptions (
  id uuid primary key default gen_random_uuid(),
  organisation_id uuid not null references organisations(id),
  url text not null check (length(url) <= 2000),
  agreement_id uuid references agreements(id) on delete cascade,
  description text not null default '',
  created_by uuid,
  created_at timestamptz not null default now(),
  disabled_at timestamptz
);
create index webhook_subscriptions_organisation_idx on webhook_subscriptions (organisation_id);

create table webhook_deliveries (
  id bigint generated always as identity primary key,
  organisation_id uuid not null references organisations(id),
  subscription_id uuid not null references webhook_subscriptions(id) on delete cascade,
  event_id uuid not null,
  event_type text not null,
  attempt integer not null,
  status_code integer,
  error text,
  duration_ms integer not null,
  attempted_at timestamptz not null default now()
);
create index webhook_deliveries_subscription_idx on webhook_deliveries (subscription_id, attempted_at);

create table jobs (
  id bigint generated always as identity primary key,
  organisation_id uuid references organisations(id),
  kind text not null check (kind ~ '^[a-z][a-z0-9_.]{2,99}$'),
  payload jsonb not null default '{}',
  status text not null default 'pending' check (status in ('pending', 'completed', 'failed')),
  run_at timestamptz not null default now(),
  attempts integer not null default 0,
  max_attempts integer not null default 8 check (max_attempts between 1 and 50),
  locked_until timestamptz,
  locked_by text,
  last_error text,
  unique_key text unique,
  created_at timestamptz not null default now(),
  finished_at timestamptz
);
create index jobs_due_idx on jobs (run_at) where status = 'pending';

-- New dataset versions become webhook events: the row is queued in the importing transaction, so the event exists
-- exactly when the version does.
create or replace function civic_queue_resource_event() returns trigger
  language plpgsql
  as $$
begin
  insert into jobs (organisation_id, kind, payload)
  values (new.organisation_id, 'exchange.dataset_version',
          jsonb_build_object('resource_id', new.id, 'dataset_id', new.dataset_id, 'version', new.version));
  return new;
end $$;
create trigger resources_queue_event after insert on resources
  for each row execute function civic_queue_resource_event();

alter table agreements enable row level security;
alter table agreements force row level security;
create policy agreements_read on agreements for select
  using (organisation_id = civic_current_organisation() or civic_is_platform() or status = 'active'
         or exists (select 1 from agreement_parties p where p.agreement_id = agreements.id
                    and p.party_organisation_id = civic_current_organisation()));
create policy agreements_write on agreements for all
  using (organisation_id = civic_current_organisation() or civic_is_platform())
  with check (organisation_id = civic_current_organisation() or civic_is_platform());

alter table agreement_versions enable row level security;
alter table agreement_versions force row level security;
create policy agreement_versions_read on agreement_versions for select
  using (organisation_id = civic_current_organisation() or civic_is_platform()
         or exists (select 1 from agreement_parties p where p.agreement_id = agreement_versions.agreement_id
                    and p.party_organisation_id = civic_current_organisation())
         or exists (select 1 from agreements a where a.version_in_force_id = agreement_versions.id and a.status = 'active'));
create policy agreement_versions_write on agreement_versions for all
  using (organisation_id = civic_current_organisation() or civic_is_platform())
  with check (organisation_id = civic_current_organisation() or civic_is_platform());

alter table agreement_parties enable row level security;
alter table agreement_parties force row level security;
create policy agreement_parties_read on agreement_parties for select
  using (organisation_id = civic_current_organisation() or party_organisation_id = civic_current_organisation()
         or civic_is_platform());
create policy agreement_parties_write on agreement_parties for all
  using (organisation_id = civic_current_organisation() or civic_is_platform())
  with check (organisation_id = civic_current_organisation() or civic_is_platform());

alter table agreement_approvals enable row level security;
alter table agreement_approvals force row level security;
create policy agreement_approvals_read on agreement_approvals for select
  using (organisation_id = civic_current_organisation() or civic_is_platform()
         or exists (select 1 from agreement_parties p where p.agreement_id = agreement_approvals.agreement_id
                    and p.party_organisation_id = civic_current_organisation()));
create policy agreement_approvals_write on agreement_approvals for insert
  with check (organisation_id = civic_current_organisation() or civic_is_platform());

alter table agreement_transitions enable row level security;
alter table agreement_transitions force row level security;
create policy agreement_transitions_read on agreement_transitions for select
  using (organisation_id = civic_current_organisation() or civic_is_platform()
         or exists (select 1 from agreement_parties p where p.agreement_id = agreement_transitions.agreement_id
                    and p.party_organisation_id = civic_current_organisation()));
create policy agreement_transitions_write on agreement_transitions for insert
  with check (organisation_id = civic_current_organisation() or civic_is_platform());

alter table exchange_exports enable row level security;
alter table exchange_exports force row level security;
create policy exchange_exports_read on exchange_exports for select
  using (organisation_id = civic_current_organisation() or recipient_organisation_id = civic_current_organisation()
         or civic_is_platform());
create policy exchange_exports_write on exchange_exports for all
  using (organisation_id = civic_current_organisation() or civic_is_platform())
  with check (organisation_id = civic_current_organisation() or civic_is_platform());

alter table webhook_subscriptions enable row level security;
alter table webhook_subscriptions force row level security;
create policy webhook_subscriptions_all on webhook_subscriptions for all
  using (organisation_id = civic_current_organisation() or civic_is_platform())
  with check (organisation_id = civic_current_organisation() or civic_is_platform());

alter table webhook_deliveries enable row level security;
alter table webhook_deliveries force row level security;
create policy webhook_deliveries_read on webhook_deliveries for select
  using (organisation_id = civic_current_organisation() or civic_is_platform());
create policy webhook_deliveries_insert on webhook_deliveries for insert
  with check (organisation_id = civic_current_organisation() or civic_is_platform());

alter table jobs enable row level security;
alter table jobs force row level security;
create policy jobs_read on jobs for select
  using (organisation_id = civic_current_organisation() or civic_is_platform());
create policy jobs_insert on jobs for insert
  with check (organisation_id = civic_current_organisation() or civic_is_platform());
create policy jobs_update on jobs for update
  using (civic_is_platform()) with check (civic_is_platform());

grant select, insert, update on agreements, agreement_versions, exchange_exports, webhook_subscriptions to ${APP_ROLE};
grant select, insert on agreement_parties, agreement_approvals, agreement_transitions, webhook_deliveries to ${APP_ROLE};
grant select, insert, update on jobs to ${APP_ROLE};
`,
    )
    .execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `drop trigger if exists resources_queue_event on resources;
       drop function if exists civic_queue_resource_event();
       drop table if exists jobs, webhook_deliveries, webhook_subscriptions, exchange_exports, agreement_transitions,
         agreement_approvals, agreement_parties cascade;
       alter table agreements drop constraint if exists agreements_version_in_force_fk;
       drop table if exists agreement_versions, agreements cascade;`,
    )
    .execute(db);
}
