import { sql, type Kysely } from 'kysely';

/**
 * Email addresses longer than 254 characters cannot be delivered (RFC 5321 limits a path to 256 octets with its angle
 * brackets), and the forms now reject them. These checks stop one being stored by any other path. They are added
 * NOT VALID, so a longer address stored before them does not stop the migration, and they apply to every new or
 * changed row.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
alter table users add constraint users_email_length check (char_length(email) <= 254) not valid;
alter table invitations add constraint invitations_email_length check (char_length(email) <= 254) not valid;
`,
    )
    .execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql.raw(`alter table invitations drop constraint if exists invitations_email_length; alter table users drop constraint if exists users_email_length;`).execute(db);
}
