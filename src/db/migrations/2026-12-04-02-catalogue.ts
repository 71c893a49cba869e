import { sql, type Kysely } from 'kysely';
import { APP_ROLE } from '../roles.ts';

/** Organisations, datasets, resources (one per loaded version) and the original files behind them. */
export async function up(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
create table organisations (
  id uuid primary key default gen_random_uuid(),
  slug text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{1,99}$'),
  name text not null check (length(name) between 1 and 300),
  kind text not null default 'council',
  status text not null default 'active' check (status in ('pending', 'active', 'declined', 'closed')),
  description text not null default '',
  website text,
  created_at timestamptz not null default now()
);

create table datasets (
  id uuid primary key default gen_random_uuid(),
  organisation_id uuid not null references organisations(id),
  slug text not null unique check (slug ~ '^[a-z0-9][a-z0-9_-]{1,99}$'),
  title text not null check (length(title) between 1 and 500),
  description text not null default '',
  licence_id text not null default 'OGL-UK-3.0',
  tags text[] not null default '{}',
  theme text,
  update_frequency text,
  temporal_start date,
  temporal_end date,
  spatial text,
  visibility text not null default 'private' check (visibility in ('private', 'open')),
  current_resource_id uuid,
  created_at timestamptz not null default now(),
  modified_at timestamptz not null default now()
);
create index datasets_organisation_idx on datasets (organisation_id);

create table resources (
  id uuid primary key default gen_random_uuid(),
  organisation_id uuid not null references organisations(id),
  dataset_id uuid not null references datasets(id) on delete cascade,
  version integer not null check (version >= 1),
  name text not null,
  description text not null default '',
  format text not null,
  media_type text not null,
  original_filename text not null,
  byte_size bigint not null,
  sha256 text not null,
  table_name text not null unique,
  row_count bigint not null,
  table_schema jsonb not null,
  load_report jsonb not null,
  created_at timestamptz not null default now(),
  unique (dataset_id, version)
);
create index resources_organisation_idx on resources (organisation_id);

alter table datasets add constraint datasets_current_resource_fk
  foreign key (current_resource_id) references resources(id) deferrable initially deferred;

create table resource_files (
  resource_id uuid primary key references resources(id) on delete cascade,
  organisation_id uuid not null references organisations(id),
  content bytea not null
);

alter table organisations enable row level security;
alter table organisations force row level security;
create policy organisations_read on organisations for select
  using (status = 'active' or id = civic_current_organisation() or civic_is_platform());
create policy organisations_write on organisations for all
  using (civic_is_platform() or id = civic_current_organisation())
  with check (civic_is_platform() or id = civic_current_organisation());

alter table datasets enable row level security;
alter table datasets force row level security;
create policy datasets_read on datasets for select
  using (visibility = 'open' or organisation_id = civic_current_organisation() or civic_is_platform());
create policy datasets_write on datasets for all
  using (organisation_id = civic_current_organisation() or civic_is_platform())
  with check (organisation_id = civic_current_organisation() or civic_is_platform());

alter table resources enable row level security;
alter table resources force row level security;
create policy resources_read on resources for select
  using (organisation_id = civic_current_organisation() or civic_is_platform()
         or exists (select 1 from datasets d where d.id = dataset_id and d.visibility = 'open'));
create policy resources_write on resources for all
  using (organisation_id = civic_current_organisation() or civic_is_platform())
  with check (organisation_id = civic_current_organisation() or civic_is_platform());

alter table resource_files enable row level security;
alter table resource_files force row level security;
create policy resource_files_read on resource_files for select
  using (organisation_id = civic_current_organisation() or civic_is_platform()
         or exists (select 1 from resources r where r.id = resource_id));
create policy resource_files_write on resource_files for all
  using (organisation_id = civic_current_organisation() or civic_is_platform())
  with check (organisation_id = civic_current_organisation() or civic_is_platform());

grant select, insert, update on organisations to ${APP_ROLE};
grant select, insert, update, delete on datasets, resources, resource_files to ${APP_ROLE};
`,
    )
    .execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql.raw('drop table if exists resource_files, resources, datasets, organisations cascade;').execute(db);
}
