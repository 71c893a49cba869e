import { sql, type Kysely } from 'kysely';
import { APP_ROLE } from '../roles.ts';

/**
 * Authenticating an API token took three transactions per request: the token row (visible through the presented
 * secret), the owner's membership and the organisation's status, plan and applications. civic_token_caller() returns
 * all of it in one statement. It is SECURITY DEFINER but reveals only what the holder of the secret may know: the
 * token with exactly that hash, its owner's role in the token's organisation, and that organisation's status, plan
 * and applications. Without the secret it returns nothing.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `
create or replace function civic_token_caller(presented_hash text)
  returns table (
    id uuid, organisation_id uuid, user_id uuid, prefix text, secret_hash text, scopes text[],
    expires_at timestamptz, revoked_at timestamptz, last_used_at timestamptz,
    role text, organisation_status text, plan text, applications text[]
  )
  language sql stable security definer set search_path = public, pg_temp
  as $$
    select t.id, t.organisation_id, t.user_id, t.prefix, t.secret_hash, t.scopes,
           t.expires_at, t.revoked_at, t.last_used_at,
           m.role, o.status, o.plan, o.applications
      from api_tokens t
      join organisations o on o.id = t.organisation_id
      left join memberships m on m.organisation_id = t.organisation_id and m.user_id = t.user_id
     where t.secret_hash = presented_hash
  $$;
revoke all on function civic_token_caller(text) from public;
grant execute on function civic_token_caller(text) to ${APP_ROLE};
`,
    )
    .execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql.raw('drop function if exists civic_token_caller(text);').execute(db);
}
