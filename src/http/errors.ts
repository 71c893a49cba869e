import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorKind } from '../errors.ts';
import { describeBodyError } from './body-errors.ts';

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

/**
 * Returns the status and public body for any thrown value; unknown errors become a generic 500 with no internals.
 * The request, when given, lets a refused Content-Type and a repeated query parameter be named.
 */
export function describeError(error: unknown, request?: Pick<FastifyRequest, 'headers' | 'query'>): { status: number; code: string; message: string; fields: AppError['fields'] } {
  if (error instanceof AppError) {
    return { status: STATUS_BY_KIND[error.kind], code: error.code, message: error.message, fields: error.fields };
  }
  const fastifyError = error as Partial<FastifyError>;
  const bodyError = describeBodyError(fastifyError.code, request?.headers['content-type']);
  if (bodyError !== null) return { ...bodyError, fields: [] };
  if (fastifyError.validation) {
    const fields = describeValidation(fastifyError.validation, fastifyError.validationContext, request?.query);
    const message = fields.length > 0 ? fields.map((field) => field.message).join('; ') : (fastifyError.message ?? 'bad input');
    return { status: 400, code: 'invalid_request', message: `Invalid request: ${message}.`, fields };
  }
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return { status: fastifyError.statusCode, code: fastifyError.code ?? 'bad_request', message: fastifyError.message ?? 'Bad request', fields: [] };
  }
  return { status: 500, code: 'internal_error', message: 'Sorry, there is a problem with the service. Try again later.', fields: [] };
}

/** Default JSON error handler; feature plugins with their own envelope (CKAN, HTML pages) set their own. */
export function jsonErrorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const described = describeError(error, request);
  if (described.status >= 500) request.log.error({ err: error }, 'request failed');
  else request.log.info({ code: described.code }, 'request rejected');
  // Returned, so that an async error handler hands Fastify the reply it sent instead of undefined, which Fastify would
  // try to send again.
  return reply.status(described.status).send({
    error: { code: described.code, message: described.message, fields: described.fields, request_id: request.id },
  });
}

const LOCATIONS: Record<string, string> = { querystring: 'query parameter', body: 'body field', params: 'path parameter', headers: 'header' };

interface SchemaProblem {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

/**
 * Turns schema validation errors into one field error per value, in words a client can act on. A choice between fixed
 * values (a union of constants, or an enum) lists the values allowed, where the validator reports one failure per
 * constant. A missing or unknown property is named as such.
 */
export function describeValidation(problems: readonly SchemaProblem[], context: string | undefined, query?: unknown): AppError['fields'] {
  const location = LOCATIONS[context ?? ''] ?? 'value';
  const queryValues = context === 'querystring' && typeof query === 'object' && query !== null ? (query as Record<string, unknown>) : {};
  const byPath = new Map<string, SchemaProblem[]>();
  for (const problem of problems) {
    let missing: string | undefined;
    if (problem.keyword === 'required') missing = String(problem.params.missingProperty);
    if (problem.keyword === 'additionalProperties') missing = String(problem.params.additionalProperty);
    const path = [...problem.instancePath.split('/').filter((part) => part !== ''), ...(missing ? [missing] : [])].join('.');
    byPath.set(path, [...(byPath.get(path) ?? []), problem]);
  }
  const fields: AppError['fields'] = [];
  for (const [path, group] of byPath) {
    const name = path === '' ? (context ?? 'request') : path;
    const allowed = group.flatMap((problem) => {
      if (problem.keyword === 'const') return [String(problem.params.allowedValue)];
      if (problem.keyword === 'enum') return (problem.params.allowedValues as unknown[]).map(String);
      return [];
    });
    let message: string;
    const repeated = Object.hasOwn(queryValues, name) && Array.isArray(queryValues[name]) ? (queryValues[name] as unknown[]).length : 0;
    if (repeated > 1) message = `${location} ${name} was given ${repeated} times; give it once`;
    else if (group.some((problem) => problem.keyword === 'required')) message = `${location} ${name} is missing`;
    else if (group.some((problem) => problem.keyword === 'additionalProperties')) message = `${location} ${name} is not recognised`;
    else if (allowed.length > 0) message = `${location} ${name} must be one of: ${[...new Set(allowed)].join(', ')}`;
    else if (group.some((problem) => problem.keyword === 'minProperties')) {
      const least = Number(group.find((problem) => problem.keyword === 'minProperties')!.params.limit);
      message = `${path === '' ? `The ${context ?? 'request'}` : `${location} ${name}`} is empty: send at least ${least} ${least === 1 ? 'field' : 'fields'}`;
    }
    // A whole body of the wrong type (such as text sent as text/plain) is named as the body, not as "body field body".
    else if (path === '' && context === 'body' && group.some((problem) => problem.keyword === 'type')) message = 'The request body must be a JSON object, sent with the header Content-Type: application/json';
    else message = `${location} ${name} ${group[0]!.message ?? 'is not valid'}`;
    fields.push({ field: name, message });
  }
  return fields;
}
