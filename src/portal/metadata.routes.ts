import type { FastifyInstance, RouteShorthandOptions } from 'fastify';
import { describeError, jsonErrorHandler } from '../http/errors.ts';
import { ErrorResponse } from '../api-v1/api-v1.schemas.ts';
import { findLicence } from '../catalogue/catalogue.metadata.ts';
import type { DatasetDetail } from '../catalogue/catalogue.types.ts';
import { withOrganisation } from '../db/tenant.ts';
import { notFound } from '../errors.ts';
import type { Services } from '../services.ts';
import { CATALOGUE_PAGE_SIZE, catalogueEntries, catalogueEntry, catalogueGraph, councilPublisher, datasetNode } from './dcat.ts';
import type { PortalService } from './portal.service.ts';
import { badParameter, pageNumber, queryString, singleValue, type QueryValues } from './query-params.ts';
import { toJsonLd, toTurtle } from './rdf.ts';
import { viewerOf } from './viewer.ts';

const METADATA_CACHE = 'public, max-age=300';

/** Reads `modified_since` as an ISO 8601 date or date and time; absent gives null. */
export function modifiedSince(query: QueryValues): Date | null {
  const raw = singleValue(query, 'modified_since');
  if (raw === undefined || raw === '') return null;
  const text = /^\d{4}-\d{2}-\d{2}$/.test(raw) ? `${raw}T00:00:00Z` : raw;
  const date = /^\d{4}-\d{2}-\d{2}/.test(raw) ? new Date(text) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) {
    throw badParameter('modified_since', `"${raw}" is not an ISO 8601 date. Use a date such as 2026-01-31 or a date and time such as 2026-01-31T09:00:00Z.`);
  }
  return date;
}

/** Builds the Frictionless Data Package of a dataset (https://specs.frictionlessdata.io/data-package/). */
export function dataPackage(dataset: DatasetDetail, publicUrl: string): Record<string, unknown> {
  const licence = findLicence(dataset.licenceId);
  const current = dataset.currentResource;
  return {
    profile: 'tabular-data-package',
    name: dataset.slug,
    id: `${publicUrl}/dataset/${dataset.slug}`,
    title: dataset.title,
    description: dataset.description,
    homepage: `${publicUrl}/dataset/${dataset.slug}`,
    version: current ? String(current.version) : undefined,
    created: dataset.createdAt.toISOString(),
    keywords: dataset.tags,
    licenses: licence?.url ? [{ name: licence.id, path: licence.url, title: licence.title }] : [{ name: dataset.licenceId, title: dataset.licenceId }],
    contributors: [{ title: dataset.organisation.name, role: 'publisher', path: `${publicUrl}/organisation/${dataset.organisation.slug}` }],
    resources: current
      ? [
          {
            profile: 'tabular-data-resource',
            name: dataset.slug.replace(/[^a-z0-9._-]/g, '-'),
            path: `${publicUrl}/dataset/${dataset.slug}/resource/${current.id}/download.csv?header=names`,
            format: 'csv',
            mediatype: 'text/csv',
            encoding: 'utf-8',
            dialect: { delimiter: ',', doubleQuote: true, header: true },
            schema: current.tableSchema,
          },
        ]
      : [],
  };
}

/**
 * Error handling for the DCAT routes, whose clients are harvesters rather than browsers: JSON errors (the native API's
 * shape) for JSON-LD, and plain text for Turtle, with the same status a page would have. Query strings and path
 * parameters are checked by the handlers, so the route schemas only document them.
 */
function machineRoute(format: 'json' | 'text'): Pick<RouteShorthandOptions, 'errorHandler' | 'validatorCompiler'> {
  return {
    validatorCompiler: () => (value) => ({ value }),
    errorHandler(error, request, reply) {
      if (format === 'json') return jsonErrorHandler(error, request, reply);
      const described = describeError(error);
      if (described.status >= 500) request.log.error({ err: error }, 'request failed');
      else request.log.info({ code: described.code, status: described.status }, 'request rejected');
      const details = described.fields.map((field) => `${field.field}: ${field.message}`);
      return reply.status(described.status).type('text/plain; charset=utf-8').send(`${[described.message, ...details].join('\n')}\n`);
    },
  };
}

/** Builds the error responses of a DCAT route: the native API's JSON error for JSON-LD, plain text for Turtle. */
function errorResponses(mediaType: string) {
  const content = mediaType === 'text/turtle' ? { 'text/plain': { schema: { type: 'string' } } } : { 'application/json': { schema: ErrorResponse } };
  return {
    400: { description: 'A query parameter is not valid; the error names it.', content },
    404: { description: 'No such page of the catalogue, or no open dataset of that name.', content },
  };
}

function catalogueSchema(syntax: string, mediaType: string) {
  return {
    tags: ['DCAT metadata'],
    summary: `Open data catalogue as DCAT 3 in ${syntax}`,
    description:
      `A page of ${CATALOGUE_PAGE_SIZE} open datasets, most recently changed first, with their distributions and the ` +
      'CKAN API as a dcat:DataService. hydra:view links the other pages. Errors are JSON for JSON-LD and plain text for Turtle.',
    querystring: {
      type: 'object',
      properties: {
        page: { type: 'integer', minimum: 1, description: 'Page number, from 1.' },
        modified_since: { type: 'string', description: 'Only datasets changed at or after this ISO 8601 date or date and time, such as 2026-01-31.' },
      },
    },
    response: {
      200: { description: `The catalogue page in ${syntax}.`, content: { [mediaType]: { schema: { type: mediaType === 'text/turtle' ? 'string' : 'object' } } } },
      ...errorResponses(mediaType),
    },
  };
}

const DATASET_SCHEMA = {
  tags: ['DCAT metadata'],
  summary: 'One open dataset as DCAT 3 in JSON-LD',
  description: 'The dcat:Dataset of an open dataset, with its publisher and distributions. Errors are JSON.',
  params: { type: 'object', properties: { slug: { type: 'string', description: 'Dataset name (slug).' } }, required: ['slug'] },
  response: { 200: { description: 'The dataset in JSON-LD.', content: { 'application/ld+json': { schema: { type: 'object' } } } }, 404: errorResponses('application/ld+json')[404] },
};

export async function metadataRoutes(app: FastifyInstance, services: Services & { portal: PortalService }): Promise<void> {
  const { db, config, portal } = services;
  const publicUrl = config.publicUrl;

  const cataloguePage = async (query: QueryValues, extension: string) => {
    const page = pageNumber(query);
    const since = modifiedSince(query);
    const { total, entries, publisher } = await withOrganisation(db.app, null, async (trx) => ({ ...(await catalogueEntries(trx, page, since)), publisher: await councilPublisher(trx) }));
    const pageCount = Math.max(1, Math.ceil(total / CATALOGUE_PAGE_SIZE));
    if (page > pageCount) throw notFound('page_not_found', `There is no page ${page} of the catalogue; there are ${pageCount}.`);
    const sinceParam = singleValue(query, 'modified_since') || undefined;
    const link = (number: number) => `${publicUrl}/catalog.${extension}${queryString({ modified_since: sinceParam, page: number })}`;
    return catalogueGraph(publicUrl, publisher, entries, total, {
      self: link(page),
      first: link(1),
      last: link(pageCount),
      next: page < pageCount ? link(page + 1) : undefined,
      previous: page > 1 ? link(page - 1) : undefined,
    });
  };

  app.get<{ Querystring: QueryValues }>('/catalog.jsonld', { ...machineRoute('json'), schema: catalogueSchema('JSON-LD', 'application/ld+json') }, async (request, reply) => {
    const graph = await cataloguePage(request.query, 'jsonld');
    return reply.type('application/ld+json; charset=utf-8').header('cache-control', METADATA_CACHE).send(JSON.stringify(toJsonLd(graph), null, 2));
  });

  app.get<{ Querystring: QueryValues }>('/catalog.ttl', { ...machineRoute('text'), schema: catalogueSchema('Turtle', 'text/turtle') }, async (request, reply) => {
    const graph = await cataloguePage(request.query, 'ttl');
    return reply.type('text/turtle; charset=utf-8').header('cache-control', METADATA_CACHE).send(toTurtle(graph));
  });

  app.get<{ Params: { slug: string } }>('/dataset/:slug.jsonld', { ...machineRoute('json'), schema: DATASET_SCHEMA }, async (request, reply) => {
    const entry = await withOrganisation(db.app, null, (trx) => catalogueEntry(trx, request.params.slug));
    if (!entry) throw notFound('dataset_not_found', `Dataset "${request.params.slug}" was not found.`);
    return reply.type('application/ld+json; charset=utf-8').header('cache-control', METADATA_CACHE).send(JSON.stringify(toJsonLd([datasetNode(entry, publicUrl)]), null, 2));
  });

  app.get<{ Params: { slug: string } }>('/dataset/:slug/datapackage.json', async (request, reply) => {
    const dataset = await portal.dataset(viewerOf(request), request.params.slug);
    return reply.type('application/json; charset=utf-8').header('cache-control', dataset.visibility === 'open' ? METADATA_CACHE : 'private, no-store').send(JSON.stringify(dataPackage(dataset, publicUrl), null, 2));
  });

  app.get<{ Params: { slug: string; id: string } }>('/dataset/:slug/resource/:id/schema.json', async (request, reply) => {
    const dataset = await portal.dataset(viewerOf(request), request.params.slug);
    const version = dataset.versions.find((candidate) => candidate.id === request.params.id);
    if (!version) throw notFound('resource_not_found', `Dataset "${dataset.slug}" has no resource "${request.params.id}".`);
    return reply.type('application/schema+json; charset=utf-8').header('cache-control', dataset.visibility === 'open' ? METADATA_CACHE : 'private, no-store').send(JSON.stringify(version.tableSchema, null, 2));
  });
}
