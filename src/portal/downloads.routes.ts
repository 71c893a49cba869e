import path from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { DatasetDetail, ResourceVersion } from '../catalogue/catalogue.types.ts';
import { notFound } from '../errors.ts';
import type { Services } from '../services.ts';
import { attachment, csvExport, jsonExport } from './downloads.ts';
import { pickVersion, viewerScope, type PortalService } from './portal.service.ts';
import { choice, type QueryValues } from './query-params.ts';
import { viewerOf } from './viewer.ts';

/** The version with this resource id among the dataset's versions; 404 when it belongs to another dataset or none. */
function versionById(dataset: DatasetDetail, id: string): ResourceVersion {
  const version = dataset.versions.find((candidate) => candidate.id === id);
  if (!version) throw notFound('resource_not_found', `Dataset "${dataset.slug}" has no resource "${id}".`);
  return version;
}

/** Private downloads must not sit in shared caches; open ones may be cached briefly. */
function cacheControl(dataset: DatasetDetail): string {
  return dataset.visibility === 'open' ? 'public, max-age=300' : 'private, no-store';
}

export async function downloadRoutes(app: FastifyInstance, services: Services & { portal: PortalService }): Promise<void> {
  const { portal, db, logger, catalogue } = services;

  const sendCsv = (reply: FastifyReply, dataset: DatasetDetail, version: ResourceVersion, query: QueryValues, viewer: string | null) => {
    const bom = choice(query, 'bom', ['true', 'false'] as const, 'false') === 'true';
    const header = choice(query, 'header', ['titles', 'names'] as const, 'titles');
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', attachment(dataset.slug, version.version, '.csv'))
      .header('cache-control', cacheControl(dataset))
      .send(csvExport(db, logger, viewer, version, { bom, header }));
  };

  app.get<{ Params: { slug: string }; Querystring: QueryValues }>('/dataset/:slug/latest.csv', async (request, reply) => {
    const viewer = viewerOf(request);
    const dataset = await portal.dataset(viewer, request.params.slug);
    return sendCsv(reply, dataset, pickVersion(dataset, undefined), request.query, viewer);
  });

  app.get<{ Params: { slug: string; id: string }; Querystring: QueryValues }>('/dataset/:slug/resource/:id/download.csv', async (request, reply) => {
    const viewer = viewerOf(request);
    const dataset = await portal.dataset(viewer, request.params.slug);
    return sendCsv(reply, dataset, versionById(dataset, request.params.id), request.query, viewer);
  });

  app.get<{ Params: { slug: string; id: string } }>('/dataset/:slug/resource/:id/download.json', async (request, reply) => {
    const viewer = viewerOf(request);
    const dataset = await portal.dataset(viewer, request.params.slug);
    const version = versionById(dataset, request.params.id);
    return reply
      .type('application/json; charset=utf-8')
      .header('content-disposition', attachment(dataset.slug, version.version, '.json'))
      .header('cache-control', cacheControl(dataset))
      .send(jsonExport(db, logger, viewer, version));
  });

  app.get<{ Params: { slug: string; id: string } }>('/dataset/:slug/resource/:id/download', async (request, reply) => {
    const viewer = viewerOf(request);
    const dataset = await portal.dataset(viewer, request.params.slug);
    const version = versionById(dataset, request.params.id);
    const file = await catalogue.getResourceFile(viewerScope(viewer), version.id);
    return reply
      .type(file.mediaType)
      .header('content-disposition', attachment(dataset.slug, version.version, path.extname(file.filename) || '.bin'))
      .header('content-length', file.content.length)
      .header('cache-control', cacheControl(dataset))
      .send(file.content);
  });
}
