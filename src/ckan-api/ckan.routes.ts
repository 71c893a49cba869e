import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';
import { describeError, STATUS_BY_KIND } from '../http/errors.ts';
import type { Services } from '../services.ts';
import { ACTIONS, type ActionParameter, type CkanAction } from './ckan.actions.ts';
import { authenticateCkanApiKey, callerOrganisationId } from './caller.ts';
import { BadRequest, registerBodyParsers } from './request-body.ts';

/**
 * The CKAN Action API 3 at /api/3/action/NAME (and /api/action/NAME, which CKAN serves as version 3). Actions take
 * GET query parameters or a POST JSON body and respond in CKAN's envelope with CKAN's status codes. Parameters are
 * checked by the actions themselves, so every error comes back in the envelope; the route schemas only document them.
 */

const ERROR_TYPES: Record<string, { status: number; type: string; prefix: string }> = {
  not_found: { status: 404, type: 'Not Found Error', prefix: 'Not found: ' },
  forbidden: { status: 403, type: 'Authorization Error', prefix: 'Access denied: ' },
  unauthenticated: { status: 403, type: 'Authorization Error', prefix: 'Access denied: ' },
};

export function helpUrl(publicUrl: string, name: string): string {
  return `${publicUrl}/api/3/action/help_show?name=${encodeURIComponent(name)}`;
}

/** Maps a thrown value to CKAN's error body and status. Internal details of unexpected errors are not sent. */
export function ckanError(error: unknown, request?: Pick<FastifyRequest, 'headers' | 'query'>): { status: number; error: Record<string, unknown> } {
  if (error instanceof AppError) {
    if (error.code === 'search_query_error') return { status: 400, error: { __type: 'Search Query Error', message: error.message } };
    if (error.kind === 'validation') {
      const body: Record<string, unknown> = { __type: 'Validation Error', message: error.message };
      for (const field of error.fields) body[field.field] = [...((body[field.field] as string[] | undefined) ?? []), field.message];
      return { status: 409, error: body };
    }
    const mapped = ERROR_TYPES[error.kind];
    if (mapped) return { status: mapped.status, error: { __type: mapped.type, message: mapped.prefix + error.message } };
    return { status: STATUS_BY_KIND[error.kind], error: { __type: 'Error', message: error.message } };
  }
  const described = describeError(error, request);
  if (described.status < 500) return { status: described.status, error: { __type: 'Error', message: described.message } };
  return { status: 500, error: { __type: 'Internal Server Error', message: 'Internal Server Error' } };
}

function queryParameters(request: FastifyRequest): Record<string, unknown> {
  const query = (request.query ?? {}) as Record<string, unknown>;
  const params: Record<string, unknown> = {};
  // CKAN reads a repeated query parameter as a list and a single one as a string.
  for (const [key, value] of Object.entries(query)) params[key] = Array.isArray(value) && value.length === 1 ? value[0] : value;
  delete params.callback;
  return params;
}

function requestParameters(request: FastifyRequest): Record<string, unknown> {
  if (request.method === 'GET') return queryParameters(request);
  const body = request.body;
  // CKAN 2.10 reads a POST without a body from its query string, for the read-only actions that all of these are.
  const emptyBody = body === undefined || body === null || body === '' || (typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0);
  if (emptyBody) return queryParameters(request);
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequest(`Bad request - Bad request data: Request data JSON decoded to ${JSON.stringify(body).slice(0, 100)} but it needs to be a dictionary.`);
  }
  return body as Record<string, unknown>;
}

async function runAction(services: Services, name: string, action: CkanAction, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const publicUrl = services.config.publicUrl;
  const help = helpUrl(publicUrl, name);
  try {
    const params = requestParameters(request);
    const result = await action.run({ service: services.openData, organisationId: callerOrganisationId(request), params, publicUrl });
    await reply.header('cache-control', 'no-store').send({ help, success: true, result });
  } catch (error) {
    if (error instanceof BadRequest) {
      await reply.status(400).type('application/json; charset=utf-8').send(JSON.stringify(error.message));
      return;
    }
    const { status, error: body } = ckanError(error);
    if (status >= 500) request.log.error({ err: error, action: name }, 'CKAN action failed');
    else request.log.info({ action: name, status, type: body.__type }, 'CKAN action rejected');
    await reply.status(status).send({ help, success: false, error: body });
  }
}

/** Returns a parameter's schema in a query string (`query`) and in a JSON body (`body`). */
function parameterSchemas(parameter: ActionParameter): { query: Record<string, unknown>; body: Record<string, unknown> } {
  const description = parameter.description;
  const jsonText = { type: 'string', description: `${description} In a query string, as JSON text.` };
  switch (parameter.type) {
    case 'integer':
    case 'boolean':
      return { query: { type: parameter.type, description }, body: { type: parameter.type, description } };
    case 'object':
      return { query: jsonText, body: { anyOf: [{ type: 'object' }, { type: 'string' }], description } };
    case 'list':
      return { query: { type: 'string', description }, body: { anyOf: [{ type: 'array', items: { type: 'string' } }, { type: 'string' }], description } };
    case 'text_or_object':
      return { query: { type: 'string', description }, body: { anyOf: [{ type: 'string' }, { type: 'object', additionalProperties: { type: 'string' } }], description } };
    default:
      return { query: { type: 'string', description }, body: { type: 'string', description } };
  }
}

function documentation(name: string, action: CkanAction) {
  const schemas = action.parameters.map((parameter) => [parameter.name, parameterSchemas(parameter)] as const);
  const queryProperties = Object.fromEntries(schemas.map(([parameterName, schema]) => [parameterName, schema.query]));
  const bodyProperties = Object.fromEntries(schemas.map(([parameterName, schema]) => [parameterName, schema.body]));
  const required = action.parameters.filter((parameter) => parameter.required).map((parameter) => parameter.name);
  const envelope = {
    type: 'object',
    description: 'CKAN envelope: help, success and result, or error with __type and message.',
    properties: { help: { type: 'string' }, success: { type: 'boolean' }, result: {}, error: { type: 'object', additionalProperties: true } },
    additionalProperties: true,
  };
  // A malformed request (bad JSON, a body that is not an object) gets CKAN's bare JSON string, and a q that cannot be
  // parsed gets the envelope with a Search Query Error.
  const badRequest = { anyOf: [envelope, { type: 'string', description: 'CKAN\'s message, such as "Bad request - JSON Error: …".' }] };
  // A POST body of another type than JSON, a form or text/plain is refused with 415 in the envelope.
  const responses = { 200: envelope, 400: badRequest, 403: envelope, 404: envelope, 409: envelope, 415: envelope };
  // Open data needs no token; CKAN clients may send one in Authorization (bare or Bearer) or X-CKAN-API-Key.
  const security: Array<Record<string, string[]>> = [{}, { bearerAuth: [] }, { ckanApiKey: [] }];
  return {
    get: { tags: ['CKAN Action API'], summary: name, description: action.help, security, querystring: { type: 'object', properties: queryProperties, required }, response: responses },
    post: { tags: ['CKAN Action API'], summary: name, description: action.help, security, body: { type: 'object', properties: bodyProperties, required }, response: responses },
  };
}

function apiVersionSchema(path: string, version: number) {
  return {
    operationId: version === 3 ? 'getCkanApiVersion' : 'getApiVersion',
    tags: ['CKAN Action API'],
    summary: `API version at ${path}, as CKAN serves it`,
    response: { 200: { type: 'object', properties: { version: { type: 'integer', const: version } }, required: ['version'] } },
  };
}

export async function ckanRoutes(app: FastifyInstance, services: Services): Promise<void> {
  // Actions check their own parameters so errors come back in the CKAN envelope; schemas here document them only.
  app.setValidatorCompiler(() => (value) => ({ value }));

  app.addHook('onRequest', async (request) => authenticateCkanApiKey(request, services.tokens));

  registerBodyParsers(app);

  app.setErrorHandler(async (error, request, reply) => {
    if (error instanceof BadRequest) {
      return reply.status(400).type('application/json; charset=utf-8').send(JSON.stringify(error.message));
    }
    const { status, error: body } = ckanError(error, request);
    if (status >= 500) request.log.error({ err: error }, 'CKAN request failed');
    const action = request.routeOptions.url?.split('/').pop();
    const helpFor = action !== undefined && Object.hasOwn(ACTIONS, action) ? action : 'help_show';
    return reply.status(status).send({ help: helpUrl(services.config.publicUrl, helpFor), success: false, error: body });
  });

  for (const [name, action] of Object.entries(ACTIONS)) {
    const docs = documentation(name, action);
    for (const prefix of ['/api/3/action', '/api/action']) {
      const hide = prefix === '/api/action';
      app.get(`${prefix}/${name}`, { schema: { ...docs.get, hide } }, (request, reply) => runAction(services, name, action, request, reply));
      app.post(`${prefix}/${name}`, { schema: { ...docs.post, hide } }, (request, reply) => runAction(services, name, action, request, reply));
    }
  }

  // CKAN 2.10 returns the API version at its API root (get_api in ckan/views/api.py).
  app.get('/api', { schema: apiVersionSchema('/api', 1) }, async () => ({ version: 1 }));
  app.get('/api/3', { schema: apiVersionSchema('/api/3', 3) }, async () => ({ version: 3 }));

  const unknownAction = async (request: FastifyRequest<{ Params: { name: string } }>, reply: FastifyReply) => {
    await reply.status(400).type('application/json; charset=utf-8').send(JSON.stringify(`Bad request - Action name not known: ${request.params.name}`));
  };
  for (const prefix of ['/api/3/action', '/api/action']) {
    app.get(`${prefix}/:name`, { schema: { hide: true } }, unknownAction);
    app.post(`${prefix}/:name`, { schema: { hide: true } }, unknownAction);
  }
}
