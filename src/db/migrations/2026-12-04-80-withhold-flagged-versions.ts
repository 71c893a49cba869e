import { sql, type Kysely } from 'kysely';

/**
 * Withholds from public readers every version of an open dataset whose load report lists personal-data findings,
 * unless a data steward recorded a justification for that version. Opening a dataset after redacting it in a new
 * version must not expose the earlier, unredacted version, its table or its original file.
 *
 * The justification is mirrored onto the resource row (`publication_justified`) because the justifications table is
 * hidden from anonymous readers by its own row-level security, and a policy subquery runs with the reader's rights.
 * A trigger keeps the mirror in step with every justification inserted, whatever path inserts it.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
alter table resources add column publication_justified boolean not null default false;

update resources r set publication_justified = true
  where exists (select 1 from publication_justifications j where j.resource_id = r.id);

create function civic_mirror_publication_justification() returns trigger language plpgsql as $$
begin
  update resources set publication_justified = true where id = new.resource_id;
  return new;
end
$$;

create trigger publication_justifications_mirror after insert on publication_justifications
  for each row execute function civic_mirror_publication_justification();

create or replace function civic_has_personal_data_findings(report jsonb) returns boolean
  language sql immutable
  as $$ select jsonb_typeof(report -> 'personal_data') = 'array' and jsonb_array_length(report -> 'personal_data') > 0 $$;

drop policy resources_read on resources;
create policy resources_read on resources for select
  using (organisation_id = civic_current_organisation() or civic_is_platform()
         or (exists (select 1 from datasets d where d.id = dataset_id and d.visibility = 'open')
             and (publication_justified or not coalesce(civic_has_personal_data_findings(load_report), false))));
`,
    )
    .execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
drop policy resources_read on resources;
create policy resources_read on resources for select
  using (organisation_id = civic_current_organisation() or civic_is_platform()
         or exists (select 1 from datasets d where d.id = dataset_id and d.visibility = 'open'));
drop function if exists civic_has_personal_data_findings(jsonb);
drop trigger if exists publication_justifications_mirror on publication_justifications;
drop function if exists civic_mirror_publication_justification();
alter table resources drop column publication_justified;
`,
    )
    .execute(db);
}
