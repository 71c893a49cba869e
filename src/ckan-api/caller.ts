import type { FastifyRequest } from 'fastify';

/**
 * Returns the organisation whose private data the caller may read: the signed-in member's organisation, or a bearer token's
 * organisation when the token carries the `read` scope. Anonymous callers, and tokens without `read`, get null, so
 * row-level security shows them open data only.
 */
export function callerOrganisationId(request: FastifyRequest): string | null {
  const auth = request.auth;
  if (!auth) return null;
  if (auth.via === 'token' && !auth.scopes?.includes('read')) return null;
  return auth.organisationId;
}
