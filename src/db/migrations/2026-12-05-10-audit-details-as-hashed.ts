import { sql, type Kysely } from 'kysely';

/**
 * Keeps each audit entry's details as the exact JSON text its hash covers. The appender writes the details with their
 * keys sorted; a `jsonb` column reorders keys and respaces the text, so a verifier had to parse and re-encode every
 * entry, which was the largest cost of checking a long log. A `json` column stores the text as given, so the verifier
 * hashes it as read and re-encodes only an entry whose stored text does not match.
 *
 * Entries written before this change keep the `jsonb` rendering; they still verify, through the re-encoding path.
 * No query reads the details with `jsonb` operators.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql.raw('alter table audit_log alter column details type json using details::json;').execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql.raw('alter table audit_log alter column details type jsonb using details::jsonb;').execute(db);
}
