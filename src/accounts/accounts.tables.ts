import type { ColumnType, Generated } from 'kysely';

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export const ORGANISATION_ROLES = ['administrator', 'data_steward', 'data_protection_officer', 'analyst', 'viewer'] as const;
export type OrganisationRole = (typeof ORGANISATION_ROLES)[number];

export const TOKEN_SCOPES = ['read', 'write', 'exchange'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

export interface UsersTable {
  id: Generated<string>;
  /** Lower case; unique. */
  email: string;
  display_name: string;
  /** Argon2id PHC string; null for accounts that only sign in through single sign-on. */
  password_hash: string | null;
  email_verified_at: NullableTimestamp;
  /** TOTP secret sealed with the key ring (see src/accounts/secret-box.ts). */
  totp_secret_encrypted: string | null;
  totp_enabled_at: NullableTimestamp;
  /** The last accepted TOTP time step, so one code cannot be used twice. */
  totp_last_step: ColumnType<number | null, number | null | undefined, number | null>;
  is_platform_admin: Generated<boolean>;
  failed_sign_ins: Generated<number>;
  /** How many times the account has been locked since its last successful sign-in; the lock doubles each time. */
  lockout_count: Generated<number>;
  locked_until: NullableTimestamp;
  last_failed_sign_in_at: NullableTimestamp;
  last_sign_in_at: NullableTimestamp;
  created_at: CreatedAt;
}

export interface MembershipsTable {
  organisation_id: string;
  user_id: string;
  role: OrganisationRole;
  created_at: CreatedAt;
}

export interface ApiTokensTable {
  id: Generated<string>;
  organisation_id: string;
  user_id: string;
  name: string;
  /** Public part of the token, shown in lists so people can tell tokens apart. */
  prefix: string;
  /** Hex HMAC-SHA-256 of the secret part. */
  secret_hash: string;
  scopes: TokenScope[];
  created_at: CreatedAt;
  expires_at: Timestamp;
  revoked_at: NullableTimestamp;
  last_used_at: NullableTimestamp;
}

export type SessionStage = 'second_factor' | 'second_factor_setup' | 'complete';

export interface SessionsTable {
  /** SHA-256 hex of the cookie value; the cookie value itself is never stored. */
  id: string;
  user_id: string;
  /** The organisation the user is acting in; a session is not owned by it. */
  current_organisation_id: string | null;
  /** `complete` once the second factor, where required, has been given or set up. */
  stage: SessionStage;
  csrf_token: string;
  via: ColumnType<'password' | 'single_sign_on', 'password' | 'single_sign_on' | undefined, never>;
  /**
   * When this session gave its second factor, or null if it never did. The factor is a TOTP code, a newly set-up
   * authenticator app, or a single sign-on whose provider reported several factors.
   */
  second_factor_at: NullableTimestamp;
  created_at: CreatedAt;
  last_seen_at: ColumnType<Date, Date | string | undefined, Date | string>;
  /** Absolute expiry; the idle timeout is measured from `last_seen_at`. */
  expires_at: Timestamp;
  revoked_at: NullableTimestamp;
}

export type AccountLinkPurpose = 'password_reset' | 'email_verification';

export interface AccountLinksTable {
  /** SHA-256 hex of the secret in the emailed link. */
  id: string;
  user_id: string;
  purpose: AccountLinkPurpose;
  created_at: CreatedAt;
  expires_at: Timestamp;
  used_at: NullableTimestamp;
}

export interface InvitationsTable {
  id: Generated<string>;
  organisation_id: string;
  token_hash: string;
  email: string;
  role: OrganisationRole;
  invited_by: string | null;
  created_at: CreatedAt;
  expires_at: Timestamp;
  accepted_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
}

export interface SsoLoginsTable {
  state_hash: string;
  organisation_id: string;
  code_verifier: string;
  nonce: string;
  created_at: CreatedAt;
  expires_at: Timestamp;
  used_at: NullableTimestamp;
}

export interface OutboxTable {
  id: Generated<number>;
  created_at: CreatedAt;
  recipient: string;
  subject: string;
  text_body: string;
}

export interface RateLimitCountersTable {
  bucket: string;
  key_hash: string;
  window_start: Timestamp;
  hits: number;
}

export interface AccountsTables {
  users: UsersTable;
  memberships: MembershipsTable;
  api_tokens: ApiTokensTable;
  sessions: SessionsTable;
  account_links: AccountLinksTable;
  invitations: InvitationsTable;
  sso_logins: SsoLoginsTable;
  outbox: OutboxTable;
  rate_limit_counters: RateLimitCountersTable;
}
