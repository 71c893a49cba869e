import { randomBytes } from 'node:crypto';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { contentSecurityPolicy } from './content-security.ts';
import { isApiRequest } from './error-pages.ts';
import { setSecurityHeaders } from './security-headers.ts';
import { renderPage } from './views.ts';

const MESSAGES: Record<string, string> = {
  FST_ERR_BAD_URL: 'The web address is not valid: a % in it must be followed by two hexadecimal digits. Check the address, or write a % sign as %25.',
  FST_ERR_MAX_PARAM_LENGTH: 'A part of the web address is too long. Check that the address was copied correctly.',
};

/**
 * Builds the handler for the requests Fastify rejects before routing (a malformed percent-encoding, an over-long path
 * segment). Fastify runs no hooks for them, so the handler sets the security headers, the content security policy and
 * the log line itself. The reply never repeats the address, which may hold a reset or invitation secret.
 */
export function frameworkErrorHandler(options: { production: boolean }) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
    const message = MESSAGES[error.code] ?? 'The web address could not be read. Check the address and try again.';
    // The request has none of the decorations that hooks fill in, so they are set here as for an anonymous visitor.
    request.auth = null;
    request.session = null;
    request.cspNonce = randomBytes(16).toString('base64');
    setSecurityHeaders(request, reply, options);
    void reply.header('content-security-policy', contentSecurityPolicy(request.cspNonce));
    request.log.info({ code: 'invalid_url', status }, 'request rejected');
    if (isApiRequest(request)) {
      void reply.status(status).send({ error: { code: 'invalid_url', message, fields: [], request_id: request.id } });
      return;
    }
    renderPage(reply, 'errors/400.njk', { message, fields: [] }, status).catch((renderError: unknown) => {
      request.log.error({ err: renderError }, 'error page failed to render');
      void reply.status(status).type('text/plain; charset=utf-8').send(message);
    });
  };
}
