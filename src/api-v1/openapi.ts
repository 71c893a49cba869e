import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import type { Services } from '../services.ts';

/** Returns whether a route belongs in the OpenAPI document: the CKAN and native APIs under /api/. */
export function isDocumentedPath(url: string): boolean {
  return url.startsWith('/api/');
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
      ],
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API token, sent as "Authorization: Bearer civic_…".' } },
      },
    },
    // Only the APIs belong in the document; the portal's pages and HTML forms are not an API for clients.
    transform: ({ schema, url }) => ({ schema: isDocumentedPath(url) ? schema : { ...schema, hide: true }, url }),
  });
  app.get('/api/openapi.json', { schema: { hide: true } }, async (_request, reply) => reply.header('cache-control', 'no-cache').send(app.swagger()));
}
