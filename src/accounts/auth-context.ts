import type { ApplicationId, PlanId } from '../tenancy/tenancy.tables.ts';
import type { OrganisationRole, TokenScope } from './accounts.tables.ts';

/** An organisation's plan and the applications it has enabled. */
export interface OrganisationAccess {
  plan: PlanId;
  applications: ApplicationId[];
}

/**
 * Who is making a request, set by the authentication hook from the session cookie or a bearer token. Features read
 * it as `request.auth` and run their queries in `withOrganisation(db.app, request.auth?.organisationId ?? null, …)`.
 */
export interface AuthContext {
  via: 'session' | 'token';
  userId: string;
  /** The organisation the user is acting in; null for a user with no membership chosen. */
  organisationId: string | null;
  /** The user's roles in `organisationId`. */
  roles: OrganisationRole[];
  /** Scopes of the bearer token; null for a browser session, which is limited by roles only. */
  scopes: TokenScope[] | null;
  platformAdmin: boolean;
  sessionId: string | null;
  tokenId: string | null;
  /** The plan and applications of `organisationId` when authentication has read them already (token requests). */
  access?: OrganisationAccess;
}

/** The fields of an audit event that say who acted. */
export function auditActor(auth: AuthContext): { actorUserId: string; actorKind: 'user' | 'token' } {
  return { actorUserId: auth.userId, actorKind: auth.via === 'token' ? 'token' : 'user' };
}
