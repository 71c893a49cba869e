import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorKind } from '../errors.ts';

export const STATUS_BY_KIND: Record<ErrorKind, number> = {
  validation: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  rate_limited: 429,
  unavailable: 503,
};

/** The status and public body for any thrown value; unknown errors become a generic 500 with no internals. */
export function describeError(error: unknown): { status: number; code: string; message: string; fields: AppError['fields'] } {
  if (error instanceof AppError) {
    return { status: STATUS_BY_KIND[error.kind], code: error.code, message: error.message, fields: error.fields };
  }
  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.validation) {
    return { status: 400, code: 'invalid_request', message: `Invalid request: ${fastifyError.message ?? 'bad input'}.`, fields: [] };
  }
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return { status: fastifyError.statusCode, code: fastifyError.code ?? 'bad_request', message: fastifyError.message ?? 'Bad request', fields: [] };
  }
  return { status: 500, code: 'internal_error', message: 'Sorry, there is a problem with the service. Try again later.', fields: [] };
}

/** Default JSON error handler; feature plugins with their own envelope (CKAN, HTML pages) set their own. */
export function jsonErrorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const described = describeError(error);
  if (described.status >= 500) request.log.error({ err: error }, 'request failed');
  else request.log.info({ code: described.code }, 'request rejected');
  // Returned, so that an async error handler hands Fastify the reply it sent instead of undefined, which Fastify would
  // try to send again.
  return reply.status(described.status).send({
    error: { code: described.code, message: described.message, fields: described.fields, request_id: request.id },
  });
}
