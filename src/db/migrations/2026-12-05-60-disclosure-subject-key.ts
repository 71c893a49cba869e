import { sql, type Kysely } from 'kysely';

/**
 * Replaces the three foreign keys of `disclosure_subjects` (disclosure, disclosing organisation, recipient) with one
 * that names the disclosure and both parties. PostgreSQL checks a foreign key once per inserted row, and the subject
 * index inserts a row per person released, so three checks were about two thirds of its insert time. The one key
 * also keeps each subject row's two organisations equal to its disclosure's, which the separate keys did not.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
alter table disclosures add constraint disclosures_parties_key unique (id, organisation_id, recipient_organisation_id);
alter table disclosure_subjects drop constraint disclosure_subjects_disclosure_id_fkey;
alter table disclosure_subjects drop constraint disclosure_subjects_organisation_id_fkey;
alter table disclosure_subjects drop constraint disclosure_subjects_recipient_organisation_id_fkey;
alter table disclosure_subjects add constraint disclosure_subjects_disclosure_fkey
  foreign key (disclosure_id, organisation_id, recipient_organisation_id)
  references disclosures (id, organisation_id, recipient_organisation_id);
`,
    )
    .execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
alter table disclosure_subjects drop constraint disclosure_subjects_disclosure_fkey;
alter table disclosure_subjects add foreign key (disclosure_id) references disclosures (id);
alter table disclosure_subjects add foreign key (organisation_id) references organisations (id);
alter table disclosure_subjects add foreign key (recipient_organisation_id) references organisations (id);
alter table disclosures drop constraint disclosures_parties_key;
`,
    )
    .execute(db);
}
