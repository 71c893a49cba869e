import { sql, type Kysely } from 'kysely';

/**
 * The public register shows the version in force of every active agreement. The read policy on agreement_versions
 * looks that up by `agreements.version_in_force_id`, which had no index, so a reader outside the parties scanned
 * every agreement for each version. This index makes it a lookup.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index if not exists agreements_version_in_force_idx on agreements (version_in_force_id) where status = 'active'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists agreements_version_in_force_idx`.execute(db);
}
