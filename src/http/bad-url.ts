import { randomBytes } from 'node:crypto';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ckanError, helpUrl } from '../ckan-api/ckan.routes.ts';
import { validationError } from '../errors.ts';
import { isApiRequest } from './error-pages.ts';
import { contentSecurityPolicy } from './content-security.ts';
import { jsonErrorHandler } from './errors.ts';
import { renderPage } from './views.ts';

/** Returns whether a path is under the CKAN Action API, whose clients expect CKAN's error envelope. */
function isCkanPath(url: string): boolean {
  return url.startsWith('/api/3/action/') || url.startsWith('/api/action/');
}

/**
 * Sends the errors that Fastify raises before any route or error handler runs, in the format of the path: CKAN's
 * envelope, the native API's JSON or a GOV.UK page. With no asynchronous route constraints in this app, the one such
 * error is a path whose percent-encoded bytes are not UTF-8 (FST_ERR_BAD_URL), such as a Latin-1 file name.
 */
export function sendFrameworkError(publicUrl: string, error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply | Promise<FastifyReply> {
  // The app's hooks do not run for these errors, so the headers they add to every reply are set here.
  request.cspNonce = randomBytes(16).toString('base64');
  void reply.headers({
    'x-request-id': request.id,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'strict-origin-when-cross-origin',
    'x-frame-options': 'DENY',
    'content-security-policy': contentSecurityPolicy(request.cspNonce),
  });
  if (error.code !== 'FST_ERR_BAD_URL') {
    request.log.error({ err: error }, 'request failed before routing');
    return jsonErrorHandler(error, request, reply);
  }
  const path = request.url.split('?')[0] ?? '/';
  const invalid = validationError(
    'invalid_url',
    `${path} is not a valid web address: it has percent-encoded bytes that are not UTF-8. Encode each character in UTF-8, such as %C3%A9 for é.`,
  );
  request.log.info({ code: invalid.code, status: 400 }, 'request rejected');
  if (isCkanPath(request.url)) {
    return reply.status(400).send({ help: helpUrl(publicUrl, 'help_show'), success: false, error: ckanError(invalid).error });
  }
  if (isApiRequest(request)) return jsonErrorHandler(invalid, request, reply);
  // reply.page, which the routes use, is not set up on this reply.
  return renderPage(reply, 'errors/400.njk', { message: invalid.message }, 400);
}
