import type { FastifyRequest } from 'fastify';

/**
 * Returns the organisation a portal request reads as: the signed-in organisation when the tenancy feature has set
 * `request.auth`, else null for the public. Row-level security then hides every private dataset from the public.
 */
export function viewerOf(request: FastifyRequest): string | null {
  const auth = (request as FastifyRequest & { auth?: { organisationId?: string | null } | null }).auth;
  return auth?.organisationId ?? null;
}
