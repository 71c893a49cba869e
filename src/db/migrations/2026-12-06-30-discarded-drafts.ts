import { sql, type Kysely } from 'kysely';

/**
 * A drafter can discard a draft version. The version is kept with the status `discarded`, because approvals,
 * transitions and the audit log refer to it. An agreement whose first draft is discarded, with no version ever in
 * force, is kept with the status `discarded`, so its history stays readable and its reference is not reused.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
alter table agreements drop constraint if exists agreements_status_check;
alter table agreements add constraint agreements_status_check
  check (status in ('draft', 'awaiting_approval', 'active', 'suspended', 'expired', 'lapsed_review', 'terminated', 'discarded'));
alter table agreement_versions drop constraint if exists agreement_versions_status_check;
alter table agreement_versions add constraint agreement_versions_status_check
  check (status in ('draft', 'awaiting_approval', 'approved', 'superseded', 'withdrawn', 'discarded'));
`,
    )
    .execute(db);
}

// NOTE: down fails while any agreement or version is discarded, because the older checks reject that status.
export async function down(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
alter table agreement_versions drop constraint if exists agreement_versions_status_check;
alter table agreement_versions add constraint agreement_versions_status_check
  check (status in ('draft', 'awaiting_approval', 'approved', 'superseded', 'withdrawn'));
alter table agreements drop constraint if exists agreements_status_check;
alter table agreements add constraint agreements_status_check
  check (status in ('draft', 'awaiting_approval', 'active', 'suspended', 'expired', 'lapsed_review', 'terminated'));
`,
    )
    .execute(db);
}
