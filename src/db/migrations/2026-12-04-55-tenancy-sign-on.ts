import { sql, type Kysely } from 'kysely';

/**
 * Just-in-time accounts for single sign-on: when an organisation allows them, a person whose verified work email is in
 * one of its domains gets a viewer membership at their first sign-on; otherwise they need an invitation.
 * Also indexes organisations by email domain, which the single sign-on form looks up.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
alter table organisation_sso add column just_in_time boolean not null default false;
create index organisations_email_domains_idx on organisations using gin (email_domains);
`,
    )
    .execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql.raw('drop index if exists organisations_email_domains_idx; alter table organisation_sso drop column just_in_time;').execute(db);
}
