import { sql, type Kysely } from 'kysely';

/**
 * The exchange and agreement routes now admit only organisations that have the Secure data exchange application
 * enabled. New organisations are on the partner plan unless told otherwise, and a partner organisation starts with
 * the data workspace and the exchange (as registration does), so the column default now includes `exchange`.
 * Partner-plan organisations that already provide or receive data under an agreement get it enabled, so that sharing
 * in force does not stop when the check arrives.
 *
 * NOTE: the backfill writes no audit entry per organisation, because the audit chain is appended by the service.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
select set_config('civic.platform', 'on', true);
alter table organisations alter column applications set default '{data_workspace,exchange}';
update organisations o set applications = array_append(o.applications, 'exchange')
  where o.plan = 'partner' and not ('exchange' = any (o.applications))
    and (exists (select 1 from agreements a where a.organisation_id = o.id)
         or exists (select 1 from agreement_parties p where p.party_organisation_id = o.id));
`,
    )
    .execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql.raw(`alter table organisations alter column applications set default '{data_workspace}';`).execute(db);
}
