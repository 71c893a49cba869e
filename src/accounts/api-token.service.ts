import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { appendAuditEvent } from '../audit/audit.repository.ts';
import type { OrganisationStatus } from '../catalogue/catalogue.tables.ts';
import { executePrepared } from '../db/prepared.ts';
import type { DB } from '../db/schema.ts';
import { withOrganisation } from '../db/tenant.ts';
import { AppError, notFound, validationError } from '../errors.ts';
import type { KeyRing } from '../keys/key-ring.ts';
import { ROLE_NAMES } from '../tenancy/members.service.ts';
import { APPLICATION_NAMES, PLANS } from '../tenancy/plans.ts';
import { TOKEN_SCOPES, type OrganisationRole, type TokenScope } from './accounts.tables.ts';
import { auditActor, type AuthContext, type OrganisationAccess } from './auth-context.ts';

export const DEFAULT_TOKEN_DAYS = 90;
export const MAX_TOKEN_DAYS = 365;
/** `last_used_at` is written at most once per this many milliseconds per token, so busy clients do not write per request. */
const LAST_USED_RESOLUTION_MS = 60_000;
const TOKEN_PATTERN = /^civic_([a-z0-9]{8})_([A-Za-z0-9_-]{43})$/;
const PREFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export interface AuthenticatedToken {
  tokenId: string;
  userId: string;
  organisationId: string;
  scopes: TokenScope[];
  /** The token owner's roles in the organisation, which limit the token as they limit the owner. */
  roles: OrganisationRole[];
  /** The organisation's plan and enabled applications, read in the same statement. */
  access: OrganisationAccess;
}

/** Builds the request identity of a caller authenticated by an API token, which replaces any browser session. */
export function tokenAuthContext(token: AuthenticatedToken): AuthContext {
  return {
    via: 'token',
    userId: token.userId,
    organisationId: token.organisationId,
    roles: token.roles,
    scopes: token.scopes,
    platformAdmin: false,
    sessionId: null,
    tokenId: token.tokenId,
    access: token.access,
  };
}

/** A row of civic_token_caller() for a presented secret. */
interface TokenCallerRow {
  id: string;
  organisation_id: string;
  user_id: string;
  prefix: string;
  secret_hash: string;
  scopes: TokenScope[];
  expires_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
  role: OrganisationRole | null;
  organisation_status: string;
  plan: OrganisationAccess['plan'];
  applications: OrganisationAccess['applications'];
}

export interface NewToken {
  id: string;
  name: string;
  prefix: string;
  scopes: TokenScope[];
  expiresAt: Date;
  /** The whole token, `civic_<prefix>_<secret>`. Shown once; only its hash is stored. */
  token: string;
}

export interface TokenSummary {
  id: string;
  name: string;
  prefix: string;
  scopes: TokenScope[];
  userId: string;
  /** The creator's name and email; null once they are no longer a member, because their account is then not visible. */
  ownerName: string | null;
  ownerEmail: string | null;
  createdAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

export interface CreateTokenInput {
  name: string;
  scopes: string[];
  /** Days until expiry; 90 when absent, at most 365. */
  expiresInDays?: number;
}

/** The roles that may use each scope; a token's requests are also limited by its owner's role. */
export const SCOPE_ROLES: Record<TokenScope, readonly OrganisationRole[] | 'every role'> = {
  read: 'every role',
  // Uploads, agreements, DPIAs and notices are changed only by these roles (see the routes that need the write scope).
  write: ['data_steward', 'data_protection_officer', 'administrator'],
  exchange: 'every role',
};

/** The organisation facts that decide which scopes its members may use. */
export interface TokenOrganisation {
  status: OrganisationStatus;
  access: OrganisationAccess;
}

/** A scope offered on the token form, with the reason the member cannot use it (null when they can). */
export interface ScopeOption {
  scope: TokenScope;
  refusal: string | null;
}

/** Returns why a member with `roles` in `organisation` cannot use `scope`, or null when they can. */
export function scopeRefusal(scope: TokenScope, roles: readonly OrganisationRole[], organisation: TokenOrganisation): string | null {
  const allowed = SCOPE_ROLES[scope];
  if (allowed !== 'every role' && !roles.some((role) => allowed.includes(role))) {
    const plural = allowed.map((role) => `${ROLE_NAMES[role].toLowerCase()}s`);
    return `Your role cannot use the ${scope} scope, which is for ${plural.slice(0, -1).join(', ')} and ${plural.at(-1)}`;
  }
  if (scope === 'exchange') {
    const name = APPLICATION_NAMES.exchange;
    const plan = PLANS[organisation.access.plan];
    if (organisation.status !== 'active') return `The exchange scope needs ${name}, which your organisation can use once it has been approved`;
    if (!plan.applications.includes('exchange')) return `The exchange scope needs ${name}, which is not part of the ${plan.name} your organisation is on`;
    if (!organisation.access.applications.includes('exchange')) return `The exchange scope needs ${name}, which your organisation has not enabled`;
  }
  return null;
}

/** Returns whether `auth` may revoke a token created by `ownerUserId`. Its owner may, and so may an administrator. */
export function mayRevokeToken(auth: AuthContext, ownerUserId: string): boolean {
  return ownerUserId === auth.userId || auth.roles.includes('administrator');
}

/** Checks a plan limit before a row is created; supplied by the tenancy service. */
export type TokenLimitCheck = (trx: Kysely<DB>, organisationId: string) => Promise<void>;

function randomPrefix(): string {
  const bytes = randomBytes(8);
  return Array.from(bytes, (byte) => PREFIX_ALPHABET[byte % PREFIX_ALPHABET.length]).join('');
}

/** Scoped, expiring, revocable API tokens for machine clients, stored as HMAC-SHA-256 hashes. */
export class ApiTokenService {
  readonly #hashKey: Buffer;

  constructor(
    private readonly db: { app: Kysely<DB> },
    keys: KeyRing,
    private readonly checkLimit: TokenLimitCheck = async () => {},
  ) {
    this.#hashKey = keys.derive('api-token');
  }

  hashSecret(secret: string): string {
    return createHmac('sha256', this.#hashKey).update(secret, 'utf8').digest('hex');
  }

  /** Creates a token for the acting user in their current organisation; the returned `token` is shown once. */
  async create(auth: AuthContext, input: CreateTokenInput, requestId?: string): Promise<NewToken> {
    const organisationId = auth.organisationId;
    if (organisationId === null) throw new AppError('forbidden', 'no_organisation', 'Choose an organisation before creating an API token.');
    const name = input.name.trim();
    const errors = [];
    if (name.length === 0 || name.length > 100) errors.push({ field: 'name', message: 'Enter a token name of 1 to 100 characters' });
    const scopes = [...new Set(input.scopes)];
    const unknown = scopes.filter((scope) => !(TOKEN_SCOPES as readonly string[]).includes(scope));
    if (scopes.length === 0) errors.push({ field: 'scopes', message: 'Select at least one scope' });
    if (unknown.length > 0) errors.push({ field: 'scopes', message: `Unknown scope ${unknown.join(', ')}: use read, write or exchange` });
    const days = input.expiresInDays ?? DEFAULT_TOKEN_DAYS;
    if (!Number.isInteger(days) || days < 1 || days > MAX_TOKEN_DAYS) {
      errors.push({ field: 'expiresInDays', message: `Enter an expiry from 1 to ${MAX_TOKEN_DAYS} days` });
    }
    if (errors.length > 0) throw validationError('invalid_token_request', errors[0]!.message, errors);

    const prefix = randomPrefix();
    const secret = randomBytes(32).toString('base64url');
    const expiresAt = new Date(Date.now() + days * 86_400_000);
    const row = await withOrganisation(this.db.app, organisationId, async (trx) => {
      // A scope the member cannot use is rejected before the plan limit, so it never takes one of the plan's tokens.
      const organisation = await this.readOrganisation(trx, organisationId);
      // Bearer authentication accepts tokens of active organisations only, so a token made now could not be used.
      if (organisation.status !== 'active') {
        throw new AppError('conflict', 'organisation_not_active', 'You can make API tokens once the organisation has been approved. A council administrator reviews it first.');
      }
      const refusals = scopes.map((scope) => scopeRefusal(scope as TokenScope, auth.roles, organisation)).filter((refusal) => refusal !== null);
      if (refusals.length > 0) {
        const message = `${refusals[0]}. Select a scope you can use`;
        throw validationError('token_scope_not_allowed', message, [{ field: 'scopes', message }]);
      }
      await this.checkLimit(trx, organisationId);
      const inserted = await trx
        .insertInto('api_tokens')
        .values({ organisation_id: organisationId, user_id: auth.userId, name, prefix, secret_hash: this.hashSecret(secret), scopes: scopes as TokenScope[], expires_at: expiresAt })
        .returning(['id'])
        .executeTakeFirstOrThrow();
      await appendAuditEvent(trx, {
        organisationId,
        ...auditActor(auth),
        action: 'api_token.created',
        subjectType: 'api_token',
        subjectId: inserted.id,
        requestId,
        details: { name, prefix, scopes, expires_at: expiresAt.toISOString() },
      });
      return inserted;
    });
    return { id: row.id, name, prefix, scopes: scopes as TokenScope[], expiresAt, token: `civic_${prefix}_${secret}` };
  }

  private async readOrganisation(trx: Kysely<DB>, organisationId: string): Promise<TokenOrganisation> {
    const row = await trx.selectFrom('organisations').select(['status', 'plan', 'applications']).where('id', '=', organisationId).executeTakeFirstOrThrow();
    return { status: row.status, access: { plan: row.plan, applications: row.applications } };
  }

  /** Lists every scope with the reason, if any, that the member in `auth` cannot use it, for the token form. */
  async scopeOptions(auth: AuthContext): Promise<ScopeOption[]> {
    const organisationId = auth.organisationId;
    if (organisationId === null) return TOKEN_SCOPES.map((scope) => ({ scope, refusal: 'Choose an organisation first' }));
    const organisation = await withOrganisation(this.db.app, organisationId, (trx) => this.readOrganisation(trx, organisationId));
    return TOKEN_SCOPES.map((scope) => ({ scope, refusal: scopeRefusal(scope, auth.roles, organisation) }));
  }

  /** Lists the organisation's tokens with their creators and last use; never the hashes. */
  async list(organisationId: string): Promise<TokenSummary[]> {
    const rows = await withOrganisation(this.db.app, organisationId, (trx) =>
      trx
        .selectFrom('api_tokens')
        .leftJoin('users', 'users.id', 'api_tokens.user_id')
        .select([
          'api_tokens.id',
          'api_tokens.name',
          'api_tokens.prefix',
          'api_tokens.scopes',
          'api_tokens.user_id',
          'api_tokens.created_at',
          'api_tokens.expires_at',
          'api_tokens.revoked_at',
          'api_tokens.last_used_at',
          'users.display_name',
          'users.email',
        ])
        .where('api_tokens.organisation_id', '=', organisationId)
        .orderBy('api_tokens.created_at', 'desc')
        .execute(),
    );
    return rows.map((row) => ({
      id: row.id,
      name: row.name,
      prefix: row.prefix,
      scopes: row.scopes,
      userId: row.user_id,
      ownerName: row.display_name,
      ownerEmail: row.email,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      revokedAt: row.revoked_at,
      lastUsedAt: row.last_used_at,
    }));
  }

  /**
   * Revokes a token of the current organisation. Its owner may revoke it, and so may an administrator; anyone else
   * gets not found, so token ids of other people do not leak.
   */
  async revoke(auth: AuthContext, tokenId: string, requestId?: string): Promise<void> {
    const organisationId = auth.organisationId;
    if (organisationId === null) throw notFound('token_not_found', 'API token not found.');
    await withOrganisation(this.db.app, organisationId, async (trx) => {
      const token = await trx.selectFrom('api_tokens').select(['id', 'user_id', 'revoked_at']).where('id', '=', tokenId).executeTakeFirst();
      const mayRevoke = token !== undefined && mayRevokeToken(auth, token.user_id);
      if (!mayRevoke) throw notFound('token_not_found', 'API token not found.');
      if (token.revoked_at !== null) return;
      await trx.updateTable('api_tokens').set({ revoked_at: new Date() }).where('id', '=', tokenId).execute();
      await appendAuditEvent(trx, {
        organisationId,
        ...auditActor(auth),
        action: 'api_token.revoked',
        subjectType: 'api_token',
        subjectId: tokenId,
        requestId,
      });
    });
  }

  /**
   * Checks an `Authorization: Bearer civic_…` header and the scope a route needs. Throws AppError `unauthenticated`
   * for a missing, malformed, unknown, expired or revoked token (or one whose organisation or membership has gone),
   * and `forbidden` for a valid token without `requiredScope`.
   */
  async authenticateBearer(header: string | undefined, requiredScope: TokenScope | null): Promise<AuthenticatedToken> {
    // CKAN clients send the key alone, without the scheme, so a bare civic_ token is taken too.
    const presented = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1] ?? /^\s*(civic_\S+)\s*$/.exec(header ?? '')?.[1];
    if (presented === undefined) {
      throw new AppError('unauthenticated', 'token_missing', 'Send an API token in the Authorization header as "Bearer civic_…".');
    }
    const match = TOKEN_PATTERN.exec(presented);
    if (!match) throw new AppError('unauthenticated', 'token_invalid', 'The API token is not valid. Check that it was copied in full, or make a new one at /account/tokens.');
    const [, prefix, secret] = match as unknown as [string, string, string];
    const secretHash = this.hashSecret(secret);

    // One statement, outside any transaction: the token, its owner's role and its organisation's access. Every request
    // with a token runs it, so it is prepared once per connection.
    const [found] = await executePrepared(this.db.app, sql<TokenCallerRow>`select * from civic_token_caller(${secretHash})`.compile(this.db.app));
    const same = found !== undefined && found.prefix === prefix && timingSafeEqual(Buffer.from(found.secret_hash), Buffer.from(secretHash));
    if (!same) throw new AppError('unauthenticated', 'token_invalid', 'The API token is not valid. Check that it was copied in full, or make a new one at /account/tokens.');
    if (found.revoked_at !== null) throw new AppError('unauthenticated', 'token_revoked', 'The API token has been revoked. Make a new one at /account/tokens.');
    if (found.expires_at.getTime() <= Date.now()) throw new AppError('unauthenticated', 'token_expired', 'The API token has expired. Make a new one at /account/tokens.');
    if (found.role === null || found.organisation_status !== 'active') {
      throw new AppError('unauthenticated', 'token_inactive', 'The API token belongs to an organisation that is not active (waiting for review, or closed) or to a member who has left it.');
    }
    if (requiredScope !== null && !found.scopes.includes(requiredScope)) {
      throw new AppError('forbidden', 'token_scope', `The API token does not have the "${requiredScope}" scope. Create a token with that scope.`);
    }
    if (found.last_used_at === null || Date.now() - found.last_used_at.getTime() >= LAST_USED_RESOLUTION_MS) {
      await withOrganisation(this.db.app, found.organisation_id, (trx) => trx.updateTable('api_tokens').set({ last_used_at: new Date() }).where('id', '=', found.id).execute());
    }
    return {
      tokenId: found.id,
      userId: found.user_id,
      organisationId: found.organisation_id,
      scopes: found.scopes,
      roles: [found.role],
      access: { plan: found.plan, applications: found.applications },
    };
  }
}
