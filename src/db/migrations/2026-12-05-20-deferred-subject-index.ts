import { sql, type Kysely } from 'kysely';
import { APP_ROLE } from '../roles.ts';

/**
 * Lets a release record its subjects after it commits. A disclosure now names the exact rows it released: the dataset
 * version (`resource_id`, whose table never changes), the agreement version whose row filter applied, and the `_id`
 * range `after_row_id < _id <= last_row_id`, with `row_count` rows. A job hashes the subjects of those rows into
 * `disclosure_subjects` later. Until then the disclosure waits in `disclosure_index_queue`, and `subject_count` is
 * null because the count is not known when the disclosure is written.
 *
 * Subject access search, Article 19 notices and retention index the queued disclosures they need first, so their
 * answers stay exact, and retention never drops a version table that queued disclosures still read.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
alter table disclosures add column after_row_id bigint check (after_row_id >= 0);
alter table disclosures add column last_row_id bigint;
alter table disclosures alter column subject_count drop not null;
alter table disclosures add constraint disclosures_row_range_check
  check ((after_row_id is null) = (last_row_id is null) and (last_row_id is null or last_row_id > after_row_id));

create table disclosure_index_queue (
  disclosure_id uuid primary key references disclosures(id),
  organisation_id uuid not null references organisations(id),
  resource_id uuid not null,
  queued_at timestamptz not null default now()
);
create index disclosure_index_queue_organisation_idx on disclosure_index_queue (organisation_id);
create index disclosure_index_queue_resource_idx on disclosure_index_queue (resource_id);

alter table disclosure_index_queue enable row level security;
alter table disclosure_index_queue force row level security;
create policy disclosure_index_queue_read on disclosure_index_queue for select
  using (organisation_id = civic_current_organisation() or civic_is_platform());
create policy disclosure_index_queue_insert on disclosure_index_queue for insert
  with check (organisation_id = civic_current_organisation() or civic_is_platform());
create policy disclosure_index_queue_delete on disclosure_index_queue for delete
  using (organisation_id = civic_current_organisation() or civic_is_platform());
-- Indexers lock queue rows with SELECT … FOR UPDATE, which needs UPDATE rights on a column and an UPDATE policy.
-- Only queued_at can be updated, and nothing does.
create policy disclosure_index_queue_lock on disclosure_index_queue for update
  using (organisation_id = civic_current_organisation() or civic_is_platform())
  with check (organisation_id = civic_current_organisation() or civic_is_platform());
grant select, insert, delete on disclosure_index_queue to ${APP_ROLE};
grant update (queued_at) on disclosure_index_queue to ${APP_ROLE};
`,
    )
    .execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
drop table if exists disclosure_index_queue;
alter table disclosures drop constraint if exists disclosures_row_range_check;
alter table disclosures drop column if exists after_row_id, drop column if exists last_row_id;
`,
    )
    .execute(db);
}
