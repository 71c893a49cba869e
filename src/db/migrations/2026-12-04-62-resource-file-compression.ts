import { sql, type Kysely } from 'kysely';

/**
 * Compresses stored original files with LZ4 instead of the default pglz, which is several times slower on large
 * CSV files and dominated the time to store them. PostgreSQL built without LZ4 support (PGlite is) keeps pglz.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
do $$ begin
  alter table resource_files alter column content set compression lz4;
exception when feature_not_supported then null;
end $$;
`,
    )
    .execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql.raw('alter table resource_files alter column content set compression default;').execute(db);
}
