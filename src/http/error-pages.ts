import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import { SECOND_FACTOR_PATHS } from './auth.ts';
import { describeError, jsonErrorHandler } from './errors.ts';

/** Whether a request is for the JSON API, which keeps JSON errors; everything else gets HTML error pages. */
export function isApiRequest(request: FastifyRequest): boolean {
  return request.url === '/api' || request.url.startsWith('/api/') || request.url.startsWith('/api?');
}

const TITLES: Record<number, string> = {
  401: 'You need to sign in to see this page',
  403: 'You do not have permission to see this page',
  409: 'This change could not be made',
  413: 'The file or request is too large',
  429: 'Too many requests',
  503: 'Sorry, the service is unavailable',
};

/** Titles for errors whose status title would mislead, such as a 403 for a form whose CSRF token has expired. */
const CODE_TITLES: Record<string, string> = {
  csrf_failed: 'This form has expired',
};

/** The web address without its query string, offered on the 400 page as a way back. */
function pathOf(request: FastifyRequest): string {
  return request.url.split('?')[0] ?? '/';
}

/** Sends the GOV.UK style page for an error: 404 "Page not found", 400 naming the parameters, 500 with a reference. */
export async function sendErrorPage(request: FastifyRequest, reply: FastifyReply, error: unknown): Promise<FastifyReply> {
  const described = describeError(error, request);
  if (described.status >= 500) request.log.error({ err: error }, 'request failed');
  else request.log.info({ code: described.code, status: described.status }, 'request rejected');

  try {
    if (described.status === 404) return await reply.page('errors/404.njk', { message: described.message }, 404);
    if (described.status === 400) {
      // A rejected form post has no page at its own address to go back to, so it gets no link and a title of its own.
      const formPost = request.method !== 'GET' && request.method !== 'HEAD';
      return await reply.page('errors/400.njk', { message: described.message, fields: described.fields, formPost, backHref: formPost ? null : pathOf(request) }, 400);
    }
    if (described.status >= 500) return await reply.page('errors/500.njk', { requestId: request.id }, described.status);
    const secondFactorPath = SECOND_FACTOR_PATHS[described.code as keyof typeof SECOND_FACTOR_PATHS];
    if (secondFactorPath !== undefined) {
      // A page request before the second factor redirects to it, as sign-in does. A form post is rejected with a link.
      if (request.method === 'GET' || request.method === 'HEAD') return await reply.redirect(secondFactorPath, 303);
      const link = { href: secondFactorPath, text: described.code === 'second_factor_required' ? 'Enter your code' : 'Set up two-factor authentication' };
      return await reply.page('errors/error.njk', { title: 'Two-factor authentication needed', message: described.message, link }, described.status);
    }
    const title = CODE_TITLES[described.code] ?? TITLES[described.status] ?? 'There is a problem';
    return await reply.page('errors/error.njk', { title, message: described.message }, described.status);
  } catch (renderError) {
    // A broken template must not hide the original error behind a blank response.
    request.log.error({ err: renderError }, 'error page failed to render');
    return reply.status(described.status).type('text/plain; charset=utf-8').send('Sorry, there is a problem with the service. Try again later.');
  }
}

/**
 * Installs the error and not-found handlers of the whole app: JSON for /api routes, HTML pages for everything else.
 * Feature plugins with their own envelope (the CKAN API) set their own handler inside their plugin.
 */
export function registerErrorPages(app: FastifyInstance): void {
  app.setErrorHandler(async (error, request, reply) => {
    if (reply.sent) {
      // A streamed body failed part-way: the status and headers are gone, so the error can only be logged.
      request.log.error({ err: error }, 'request failed after its reply started');
      return reply;
    }
    const retryAfter = error instanceof AppError ? error.options.retryAfterSeconds : undefined;
    if (retryAfter !== undefined) void reply.header('retry-after', String(retryAfter));
    if (isApiRequest(request)) return jsonErrorHandler(error, request, reply);
    return sendErrorPage(request, reply, error);
  });
  app.setNotFoundHandler(async (request, reply) => {
    if (isApiRequest(request)) {
      return reply.status(404).send({ error: { code: 'not_found', message: `No API route matches ${request.method} ${pathOf(request)}.`, fields: [], request_id: request.id } });
    }
    request.log.info({ code: 'page_not_found', status: 404 }, 'request rejected');
    return reply.page('errors/404.njk', {}, 404);
  });
}
