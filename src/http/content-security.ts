import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** Base64 nonce allowed by this response's content security policy, for the inline scripts a page emits. */
    cspNonce: string;
  }
}

/**
 * The content security policy of every response. Scripts run only from this origin or with the request's nonce (the
 * GOV.UK template emits one inline script that adds the `js-enabled` class); styles, images and forms stay on this
 * origin; nothing may frame the pages.
 */
export function contentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}'`,
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Gives each request a fresh nonce and sends the policy with every response that has none of its own. */
export function registerContentSecurityPolicy(app: FastifyInstance): void {
  app.decorateRequest('cspNonce', '');
  app.addHook('onRequest', async (request) => {
    request.cspNonce = randomBytes(16).toString('base64');
  });
  app.addHook('onSend', async (request, reply) => {
    if (!reply.hasHeader('content-security-policy')) void reply.header('content-security-policy', contentSecurityPolicy(request.cspNonce));
  });
}
