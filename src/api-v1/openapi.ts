import swagger, { type SwaggerTransform } from '@fastify/swagger';
import type { TSchema } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Services } from '../services.ts';
import { ErrorResponse } from './api-v1.schemas.ts';
import { addOperationIds } from './operation-ids.ts';

/** The DCAT metadata routes, which harvesters call as an API although they sit outside /api/. */
export const DCAT_PATHS: readonly string[] = ['/catalog.jsonld', '/catalog.ttl', '/dataset/:slug.jsonld'];

/** Returns whether a route belongs in the OpenAPI document: the CKAN and native APIs under /api/, and the DCAT routes. */
export function isDocumentedPath(url: string): boolean {
  return url.startsWith('/api/') || DCAT_PATHS.includes(url);
}

/** The security of an operation that serves open data without a token and a token's private data with one. */
export const OPTIONAL_TOKEN: Array<Record<string, string[]>> = [{}, { bearerAuth: [] }];

/** Request parts that a route lists in the OpenAPI document but checks in its handler or service. */
export interface DocumentedRequest {
  headers?: TSchema;
  body?: TSchema;
}

/**
 * Builds a route's `config.swaggerTransform` that adds `parts` to the route's entry in the document only. Fastify
 * never validates them, so the handler or service keeps its own checks and error codes (such as `purpose_missing`,
 * or every DPIA problem at once with the form's field names) and no value is coerced.
 */
export function documentRequest(parts: DocumentedRequest): SwaggerTransform {
  return ({ schema, url }) => ({ schema: isDocumentedPath(url) ? { ...schema, ...parts } : { ...schema, hide: true }, url });
}

interface JsonBodyOperation {
  requestBody?: { content?: Record<string, unknown> };
  responses?: Record<string, unknown>;
}

/**
 * Adds the 415 that the JSON error handler sends for a body of a type no parser takes (such as application/xml) to
 * each native operation with a JSON body. The CKAN actions list their own.
 */
function addUnsupportedMediaType(paths: Record<string, Record<string, JsonBodyOperation>>): void {
  for (const [path, operations] of Object.entries(paths)) {
    if (path.startsWith('/api/3/action/')) continue;
    for (const operation of Object.values(operations)) {
      if (!operation.requestBody?.content?.['application/json'] || operation.responses?.['415']) continue;
      const unsupported = { description: 'The body was sent with a Content-Type that this operation does not take, such as application/xml.', content: { 'application/json': { schema: ErrorResponse } } };
      operation.responses = { ...operation.responses, 415: unsupported };
    }
  }
}

/**
 * Registers @fastify/swagger, which records the schema of every route added after it, and serves the resulting
 * OpenAPI 3.1 document at /api/openapi.json. It must be registered before the routes it documents.
 */
export async function registerOpenApi(app: FastifyInstance, services: Services): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Civic Exchange API',
        version: '1.0.0',
        description:
          'Open and shared data of Thurrock Council and its partners: the CKAN Action API 3 for existing open-data ' +
          'tools, and the native API under /api/v1. Anonymous callers see open data; an API token with the read ' +
          'scope also sees its organisation\'s private data.',
        license: { name: 'Open Government Licence v3.0 (data)', url: 'https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/' },
      },
      servers: [{ url: services.config.publicUrl }],
      tags: [
        { name: 'Datasets', description: 'Datasets and their versions.' },
        { name: 'Datastore', description: 'Rows of a loaded version, filtered, searched and paged.' },
        { name: 'Organisations', description: 'Publishing organisations.' },
        { name: 'CKAN Action API', description: 'CKAN API 3 actions, with the CKAN envelope {help, success, result}.' },
        { name: 'DCAT metadata', description: 'The open data catalogue as DCAT 3, in JSON-LD and Turtle, for harvesters.' },
        { name: 'Agreements', description: 'Data sharing agreements: drafting, approval, amendment and status changes.' },
        { name: 'Secure data exchange', description: 'Releases of data to recipients under agreements, signed exports and webhook subscriptions.' },
        { name: 'Data protection', description: 'Subject access, Article 19 rectification notices and data protection impact assessments.' },
        { name: 'Audit log', description: 'Signed checkpoints of the tamper-evident audit log and inclusion proofs of its entries.' },
        { name: 'API tokens', description: 'API tokens of your organisation, managed from a signed-in browser session.' },
      ],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API token, sent as "Authorization: Bearer civic_…".' },
          ckanApiKey: {
            type: 'apiKey',
            in: 'header',
            name: 'X-CKAN-API-Key',
            description: 'An API token in the header CKAN clients use. The CKAN actions also take the token bare in Authorization.',
          },
          sessionCookie: {
            type: 'apiKey',
            in: 'cookie',
            name: services.accounts.sessions.cookieName,
            description:
              'The session cookie set by signing in at /sign-in. A POST, PUT, PATCH or DELETE must also send the ' +
              'session\'s CSRF token (the _csrf field of the service\'s forms) in the X-CSRF-Token header.',
          },
        },
      },
    },
    // Only the APIs and the DCAT routes belong in the document; the portal's pages and HTML forms are not an API for clients.
    transform: ({ schema, url }) => ({ schema: isDocumentedPath(url) ? schema : { ...schema, hide: true }, url }),
    transformObject: (documentObject) => {
      const document = 'openapiObject' in documentObject ? documentObject.openapiObject : documentObject.swaggerObject;
      addOperationIds((document.paths ?? {}) as Parameters<typeof addOperationIds>[0]);
      addUnsupportedMediaType((document.paths ?? {}) as Record<string, Record<string, JsonBodyOperation>>);
      return document;
    },
  });
  app.get('/api/openapi.json', { schema: { hide: true } }, async (_request, reply) => reply.header('cache-control', 'no-cache').send(app.swagger()));
}
