import { randomBytes } from 'node:crypto';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ckanError, helpUrl } from '../ckan-api/ckan.routes.ts';
import { validationError } from '../errors.ts';
import { contentSecurityPolicy } from './content-security.ts';
import { isApiRequest } from './error-pages.ts';
import { setSecurityHeaders } from './security-headers.ts';
import { renderPage } from './views.ts';

const MESSAGES: Record<string, string> = {
  FST_ERR_BAD_URL:
    'The web address is not valid: each % in it must be followed by two hexadecimal digits, and the bytes they encode must be UTF-8, such as %C3%A9 for é. Check the address, or write a % sign as %25.',
  FST_ERR_MAX_PARAM_LENGTH: 'A part of the web address is too long. Check that the address was copied correctly.',
};

/** Returns whether a path is under the CKAN Action API, whose clients expect CKAN's error envelope. */
function isCkanPath(url: string): boolean {
  return url.startsWith('/api/3/action/') || url.startsWith('/api/action/');
}

/**
 * Builds the handler for the requests Fastify rejects before routing: a malformed percent-encoding, one of bytes that
 * are not UTF-8, or an over-long path segment. It replies in the format of the path: CKAN's envelope, the native API's
 * JSON or a GOV.UK page. Fastify runs no hooks for these requests, so the handler sets the security headers, the
 * content security policy and the log line itself. The reply never repeats the address, which may hold a reset or
 * invitation secret.
 */
export function frameworkErrorHandler(options: { production: boolean; publicUrl: string }) {
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
    if (isCkanPath(request.url)) {
      void reply.status(status).send({ help: helpUrl(options.publicUrl, 'help_show'), success: false, error: ckanError(validationError('invalid_url', message)).error });
      return;
    }
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
