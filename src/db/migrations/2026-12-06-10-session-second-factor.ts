import { sql, type Kysely } from 'kysely';

/**
 * Records on each session when its second factor was given (a TOTP code entered, or an authenticator app set up), so
 * that every request can tell whether the session may use a role that needs two-factor authentication. Until now only
 * sign-in asked for it, so a member promoted to administrator kept full powers in a session that never had one.
 *
 * Existing password sessions are backfilled from the account: sign-in has always asked for a code when the account
 * had an authenticator app, so a complete session that started after the app was set up has given its second factor.
 * Any other session is asked for a code, or to set up an app, on its next request if its roles need one.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
select set_config('civic.platform', 'on', true);
alter table sessions add column second_factor_at timestamptz;
update sessions s set second_factor_at = s.created_at
  from users u
  where u.id = s.user_id and s.stage = 'complete' and s.via = 'password'
    and u.totp_enabled_at is not null and u.totp_enabled_at <= s.created_at;
`,
    )
    .execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql.raw(`alter table sessions drop column if exists second_factor_at;`).execute(db);
}
