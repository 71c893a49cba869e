import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * One year, in seconds. Browsers then refuse plain http to this host and its subdomains for that long, so
 * the header is sent only in production, where the service is reached over https.
 */
const STRICT_TRANSPORT_SECURITY = 'max-age=31536000; includeSubDomains';

/** Sets the request id and the hardening headers on one reply, and `no-store` when the request is authenticated. */
export function setSecurityHeaders(request: FastifyRequest, reply: FastifyReply, options: { production: boolean }): void {
  void reply.header('x-request-id', request.id);
  void reply.header('x-content-type-options', 'nosniff');
  void reply.header('referrer-policy', 'strict-origin-when-cross-origin');
  if (!reply.hasHeader('x-frame-options')) void reply.header('x-frame-options', 'DENY');
  if (options.production) void reply.header('strict-transport-security', STRICT_TRANSPORT_SECURITY);
  // A reply to a signed-in browser or an API token may hold private data, a new API token or a TOTP secret, so no
  // cache keeps it unless its route chose a policy (downloads of open datasets do).
  const authenticated = request.auth !== null || request.session !== null;
  if (authenticated && !reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
}

/**
 * Adds the request id and the hardening headers to every response, pages and API alike, and `no-store` to replies
 * to authenticated requests. The content security policy is set by `registerContentSecurityPolicy`.
 */
export function registerSecurityHeaders(app: FastifyInstance, options: { production: boolean }): void {
  app.addHook('onSend', async (request, reply) => setSecurityHeaders(request, reply, options));
}
