import { sql, type Kysely } from 'kysely';
import { APP_ROLE } from '../roles.ts';

/**
 * Original files uploaded on a connection of their own while the import's transaction analyses and loads the rows.
 * Storing a large file took the server about a second (160 MB), and on the import's own connection it came before the
 * rows' COPY could start. The upload commits on its own; the import moves it into `resource_files` inside its
 * transaction with civic_attach_upload, so a failed import still stores nothing. The table is unlogged, which
 * spares the server writing each upload to its write-ahead log twice: a crash empties it, and with it only uploads of
 * imports that the crash stopped anyway.
 *
 * The application role may only insert uploads and call the functions, so one tenant cannot read another's upload.
 * There is no row-level security here, because COPY FROM refuses tables that have it: a trigger checks each new row's
 * organisation as a policy would, and the functions check it against the transaction's tenant setting. There is no foreign key to the organisation either, because an
 * operator's import may create the organisation in its transaction, which the upload's connection cannot see. The daily retention run removes uploads left by an import
 * that stopped without cleaning up (the process was killed, say).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
create unlogged table file_uploads (
  id uuid primary key,
  organisation_id uuid not null,
  content bytea not null,
  created_at timestamptz not null default now()
);
do $$ begin
  alter table file_uploads alter column content set compression lz4;
exception when feature_not_supported then null;
end $$;
grant insert on file_uploads to ${APP_ROLE};

-- What row-level security's WITH CHECK would do: an upload belongs to the organisation of the transaction.
create or replace function civic_check_upload_organisation() returns trigger
  language plpgsql
  as $$
  begin
    if not (new.organisation_id = civic_current_organisation() or civic_is_platform()) then
      raise exception 'permission denied: an upload must belong to the organisation of the transaction'
        using errcode = 'insufficient_privilege';
    end if;
    return new;
  end
  $$;
create trigger file_uploads_organisation before insert on file_uploads
  for each row execute function civic_check_upload_organisation();

create or replace function civic_attach_upload(upload uuid, resource uuid) returns bigint
  language plpgsql volatile security definer set search_path = public, pg_temp
  as $$
  declare
    stored bigint;
  begin
    insert into resource_files (resource_id, organisation_id, content)
      select resource, u.organisation_id, u.content from file_uploads u
       where u.id = upload and (u.organisation_id = civic_current_organisation() or civic_is_platform());
    get diagnostics stored = row_count;
    if stored = 0 then
      raise exception 'upload % is not waiting for this organisation', upload using errcode = 'no_data_found';
    end if;
    delete from file_uploads where id = upload;
    return stored;
  end
  $$;

create or replace function civic_discard_upload(upload uuid) returns void
  language sql volatile security definer set search_path = public, pg_temp
  as $$
    delete from file_uploads where id = upload and (organisation_id = civic_current_organisation() or civic_is_platform());
  $$;

create or replace function civic_discard_stale_uploads(cutoff timestamptz) returns bigint
  language sql volatile security definer set search_path = public, pg_temp
  as $$
    with removed as (delete from file_uploads where created_at < cutoff and civic_is_platform() returning 1)
    select count(*) from removed;
  $$;

revoke all on function civic_attach_upload(uuid, uuid), civic_discard_upload(uuid), civic_discard_stale_uploads(timestamptz) from public;
grant execute on function civic_attach_upload(uuid, uuid), civic_discard_upload(uuid), civic_discard_stale_uploads(timestamptz) to ${APP_ROLE};
`,
    )
    .execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
drop function if exists civic_discard_stale_uploads(timestamptz);
drop function if exists civic_discard_upload(uuid);
drop function if exists civic_attach_upload(uuid, uuid);
drop table if exists file_uploads;
drop function if exists civic_check_upload_organisation();
`,
    )
    .execute(db);
}
