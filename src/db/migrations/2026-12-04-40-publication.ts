import { sql, type Kysely } from 'kysely';
import { APP_ROLE } from '../roles.ts';

/**
 * The publication gate and disclosure control.
 *
 * `publication_justifications` records a data steward's reasons for opening a dataset version that the personal-data
 * scan flagged. `released_aggregates` keeps the true cell counts of every aggregate released from a dataset version,
 * keyed by a hash of the query, so later queries can be checked for differencing.
 *
 * A trigger on `datasets` rejects making a dataset open while its current version has personal-data findings in its
 * load report and no justification, whatever path the change takes (service, API or a later feature). It raises
 * SQLSTATE CX409, which the publication service turns into a 409.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
create table publication_justifications (
  id uuid primary key default gen_random_uuid(),
  organisation_id uuid not null references organisations(id),
  dataset_id uuid not null references datasets(id) on delete cascade,
  resource_id uuid not null references resources(id) on delete cascade,
  recorded_by_user_id uuid,
  recorded_by text not null check (length(recorded_by) between 1 and 200),
  reason text not null check (length(btrim(reason)) between 10 and 2000),
  findings jsonb not null,
  created_at timestamptz not null default now()
);
create index publication_justifications_resource_idx on publication_justifications (resource_id);
create index publication_justifications_organisation_idx on publication_justifications (organisation_id);

create table released_aggregates (
  id uuid primary key default gen_random_uuid(),
  organisation_id uuid not null references organisations(id),
  dataset_id uuid not null references datasets(id) on delete cascade,
  resource_id uuid not null references resources(id) on delete cascade,
  query_hash text not null check (query_hash ~ '^[0-9a-f]{64}$'),
  query jsonb not null,
  cell_counts jsonb not null,
  released_at timestamptz not null default now(),
  unique (resource_id, query_hash)
);
create index released_aggregates_dataset_idx on released_aggregates (dataset_id, query_hash);

alter table publication_justifications enable row level security;
alter table publication_justifications force row level security;
create policy publication_justifications_access on publication_justifications for all
  using (organisation_id = civic_current_organisation() or civic_is_platform())
  with check (organisation_id = civic_current_organisation() or civic_is_platform());

-- Anonymous readers of an open dataset release aggregates too, so the differencing record of an open dataset is
-- readable and writable in any context; the API never returns these rows.
alter table released_aggregates enable row level security;
alter table released_aggregates force row level security;
create policy released_aggregates_access on released_aggregates for all
  using (organisation_id = civic_current_organisation() or civic_is_platform()
         or exists (select 1 from datasets d where d.id = dataset_id and d.visibility = 'open'))
  with check (organisation_id = civic_current_organisation() or civic_is_platform()
         or exists (select 1 from datasets d where d.id = dataset_id and d.visibility = 'open'));

grant select, insert on publication_justifications to ${APP_ROLE};
grant select, insert on released_aggregates to ${APP_ROLE};

create function civic_publication_gate() returns trigger language plpgsql as $$
declare
  findings jsonb;
begin
  if new.visibility <> 'open' or new.current_resource_id is null then
    return new;
  end if;
  if tg_op = 'UPDATE' and old.visibility = 'open' and old.current_resource_id is not distinct from new.current_resource_id then
    return new;
  end if;
  select r.load_report -> 'personal_data' into findings from resources r where r.id = new.current_resource_id;
  if findings is not null and jsonb_typeof(findings) = 'array' and jsonb_array_length(findings) > 0
     and not exists (select 1 from publication_justifications j where j.resource_id = new.current_resource_id) then
    raise exception using
      errcode = 'CX409',
      message = format('Dataset %s has personal-data findings and cannot be made open.', new.slug),
      hint = 'Fix the data with civic publish, or record a justification.';
  end if;
  return new;
end
$$;

create trigger datasets_publication_gate before insert or update of visibility, current_resource_id on datasets
  for each row execute function civic_publication_gate();
`,
    )
    .execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
drop trigger if exists datasets_publication_gate on datasets;
drop function if exists civic_publication_gate();
drop table if exists released_aggregates, publication_justifications cascade;
`,
    )
    .execute(db);
}
