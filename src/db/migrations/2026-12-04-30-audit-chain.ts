import { sql, type Kysely } from 'kysely';
import { APP_ROLE } from '../roles.ts';

/**
 * Tamper evidence for the audit log and the disclosure log.
 *
 * Each audit entry stores the hash of the entry before it and its own hash, so the log is a hash chain. The entry id
 * becomes the entry's position in the chain (1, 2, 3, … with no gaps), assigned by `appendAuditEvent` under the
 * chain head's row lock, so a missing entry shows as a gap. `audit_chain_head` holds the size, the last hash and the
 * right edge of the Merkle tree; signed checkpoints of that tree go to `audit_checkpoints`.
 *
 * Disclosures record every release of data to another organisation; `disclosure_subjects` indexes them by keyed hashes
 * of the people's identifiers. Triggers reject UPDATE and DELETE on the log tables, for the owner too, so only someone
 * who first disables the triggers can change history, and the chain then shows it.
 *
 * The actor's user id stays in an entry after the user is deleted: the foreign key's `on delete set null` would rewrite
 * logged entries and break the chain, so it is dropped and the id is kept as a plain reference.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
alter table audit_log drop constraint if exists audit_log_actor_user_id_fkey;
alter table audit_log alter column id drop identity if exists;
alter table audit_log add column prev_hash bytea not null check (length(prev_hash) = 32);
alter table audit_log add column entry_hash bytea not null check (length(entry_hash) = 32);

create table audit_chain_head (
  id boolean primary key default true check (id),
  size bigint not null check (size >= 0),
  head_hash bytea not null check (length(head_hash) = 32),
  frontier bytea not null
);
insert into audit_chain_head (id, size, head_hash, frontier) values (true, 0, '\\x${'00'.repeat(32)}', '\\x');
grant select, update on audit_chain_head to ${APP_ROLE};

create table audit_checkpoints (
  tree_size bigint primary key check (tree_size >= 1),
  root_hash bytea not null check (length(root_hash) = 32),
  created_at timestamptz not null,
  key_id text not null,
  signature bytea not null
);
grant select, insert on audit_checkpoints to ${APP_ROLE};

create or replace function civic_dataset_organisation(dataset uuid) returns uuid
  language sql stable security definer set search_path = public
  as $$ select organisation_id from datasets where id = dataset $$;
revoke all on function civic_dataset_organisation(uuid) from public;
grant execute on function civic_dataset_organisation(uuid) to ${APP_ROLE};

create table disclosures (
  id uuid primary key default gen_random_uuid(),
  organisation_id uuid not null references organisations(id),
  recipient_organisation_id uuid not null references organisations(id),
  agreement_id uuid not null,
  agreement_version integer not null check (agreement_version >= 1),
  purpose text not null,
  dataset_id uuid not null,
  resource_id uuid not null,
  fields text[] not null,
  row_count bigint not null check (row_count >= 0),
  subject_count integer not null check (subject_count >= 0),
  occurred_at timestamptz not null,
  request_id text,
  audit_entry_id bigint not null references audit_log(id)
);
create index disclosures_organisation_idx on disclosures (organisation_id, occurred_at);
create index disclosures_recipient_idx on disclosures (recipient_organisation_id, occurred_at);

create table disclosure_subjects (
  disclosure_id uuid not null references disclosures(id),
  subject_hash bytea not null check (length(subject_hash) = 32),
  organisation_id uuid not null references organisations(id),
  recipient_organisation_id uuid not null references organisations(id),
  primary key (disclosure_id, subject_hash)
);
create index disclosure_subjects_subject_hash_idx on disclosure_subjects (subject_hash);

alter table disclosures enable row level security;
alter table disclosures force row level security;
create policy disclosures_read on disclosures for select
  using (organisation_id = civic_current_organisation() or recipient_organisation_id = civic_current_organisation()
         or civic_is_platform());
create policy disclosures_insert on disclosures for insert
  with check (organisation_id = civic_current_organisation() or recipient_organisation_id = civic_current_organisation()
              or civic_is_platform());

alter table disclosure_subjects enable row level security;
alter table disclosure_subjects force row level security;
create policy disclosure_subjects_read on disclosure_subjects for select
  using (organisation_id = civic_current_organisation() or recipient_organisation_id = civic_current_organisation()
         or civic_is_platform());
create policy disclosure_subjects_insert on disclosure_subjects for insert
  with check (organisation_id = civic_current_organisation() or recipient_organisation_id = civic_current_organisation()
              or civic_is_platform());

grant select, insert on disclosures, disclosure_subjects to ${APP_ROLE};

create or replace function civic_reject_log_change() returns trigger
  language plpgsql
  as $$ begin
    raise exception '% is append-only: % is not allowed', tg_table_name, tg_op using errcode = 'insufficient_privilege';
  end $$;
create trigger audit_log_append_only before update or delete on audit_log
  for each row execute function civic_reject_log_change();
create trigger audit_checkpoints_append_only before update or delete on audit_checkpoints
  for each row execute function civic_reject_log_change();
create trigger disclosures_append_only before update or delete on disclosures
  for each row execute function civic_reject_log_change();
create trigger disclosure_subjects_append_only before update or delete on disclosure_subjects
  for each row execute function civic_reject_log_change();
create trigger audit_log_no_truncate before truncate on audit_log
  for each statement execute function civic_reject_log_change();
create trigger audit_checkpoints_no_truncate before truncate on audit_checkpoints
  for each statement execute function civic_reject_log_change();
create trigger disclosures_no_truncate before truncate on disclosures
  for each statement execute function civic_reject_log_change();
create trigger disclosure_subjects_no_truncate before truncate on disclosure_subjects
  for each statement execute function civic_reject_log_change();
`,
    )
    .execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
drop table if exists disclosure_subjects, disclosures, audit_checkpoints, audit_chain_head;
drop function if exists civic_dataset_organisation(uuid);
drop trigger if exists audit_log_append_only on audit_log;
drop function if exists civic_reject_log_change();
alter table audit_log drop column if exists prev_hash, drop column if exists entry_hash;
`,
    )
    .execute(db);
}
