import type { FastifyInstance } from 'fastify';
import { findLicence } from '../catalogue/catalogue.metadata.ts';
import { callerOrganisationId } from '../ckan-api/caller.ts';
import type { DatasetRecord, OrganisationRecord, ResourceRecord } from '../ckan-api/catalogue-read.repository.ts';
import { readDatastoreQuery } from '../ckan-api/datastore-params.ts';
import { readPackageSearchQuery } from '../ckan-api/package-search.ts';
import type { Services } from '../services.ts';
import {
  Dataset,
  DatasetList,
  DatasetListQuery,
  errorResponses,
  Organisation,
  OrganisationList,
  OrganisationListQuery,
  RecordsPage,
  RecordsQuery,
  ResourceParams,
  SlugParams,
  VersionList,
} from './api-v1.schemas.ts';
import { datasetMetadataRoutes } from './dataset-metadata.routes.ts';
import { OPTIONAL_TOKEN } from './openapi.ts';

/**
 * The native API under /api/v1: datasets (and changes to their details), their versions, organisations and a
 * resource's rows (the same engine
 * as datastore_search). Errors use the default JSON error body; private data follows the same rules as the CKAN API.
 */

function resourceBody(resource: ResourceRecord, datasetSlug: string, publicUrl: string) {
  return {
    id: resource.id,
    dataset_id: resource.dataset_id,
    version: resource.version,
    name: resource.name,
    description: resource.description,
    format: resource.format.toUpperCase(),
    media_type: resource.media_type,
    byte_size: resource.byte_size,
    sha256: resource.sha256,
    row_count: resource.row_count,
    created_at: resource.created_at.toISOString(),
    download_url: `${publicUrl}/dataset/${encodeURIComponent(datasetSlug)}/resource/${resource.id}/download`,
    records_url: `${publicUrl}/api/v1/resources/${resource.id}/records`,
  };
}

function datasetBody(dataset: DatasetRecord, resources: ResourceRecord[], publicUrl: string) {
  const licence = findLicence(dataset.licence_id);
  const current = resources.find((resource) => resource.id === dataset.current_resource_id) ?? null;
  return {
    id: dataset.id,
    slug: dataset.slug,
    title: dataset.title,
    description: dataset.description,
    licence: { id: dataset.licence_id, title: licence?.title ?? dataset.licence_id, url: licence?.url ?? '' },
    tags: dataset.tags,
    theme: dataset.theme,
    update_frequency: dataset.update_frequency,
    temporal_coverage: { start: dataset.temporal_start, end: dataset.temporal_end },
    spatial_coverage: dataset.spatial,
    retention_months: dataset.retention_months,
    visibility: dataset.visibility,
    organisation: { id: dataset.organisation_id, slug: dataset.organisation_slug, name: dataset.organisation_name },
    current_resource: current ? resourceBody(current, dataset.slug, publicUrl) : null,
    created_at: dataset.created_at.toISOString(),
    modified_at: dataset.modified_at.toISOString(),
  };
}

function organisationBody(organisation: OrganisationRecord) {
  return {
    id: organisation.id,
    slug: organisation.slug,
    name: organisation.name,
    description: organisation.description,
    website: organisation.website,
    dataset_count: organisation.dataset_count,
    created_at: organisation.created_at.toISOString(),
  };
}

export async function apiV1Routes(app: FastifyInstance, services: Services): Promise<void> {
  const service = services.openData;
  const publicUrl = services.config.publicUrl;

  app.get<{ Querystring: DatasetListQuery }>(
    '/api/v1/datasets',
    { schema: { security: OPTIONAL_TOKEN, tags: ['Datasets'], summary: 'List datasets', description: 'Open datasets, and the caller\'s organisation\'s private ones, newest first.', querystring: DatasetListQuery, response: { 200: DatasetList, ...errorResponses } } },
    async (request) => {
      const { page, per_page: perPage, q, organisation, tag } = request.query;
      const fq = [organisation ? `organization:"${organisation.replace(/"/g, '')}"` : '', tag ? `tags:"${tag.replace(/"/g, '')}"` : ''].join(' ').trim();
      const query = readPackageSearchQuery({ q, fq, rows: perPage, start: (page - 1) * perPage, sort: q ? 'score desc, metadata_modified desc' : 'metadata_modified desc', include_private: true });
      const result = await service.searchDatasets(callerOrganisationId(request), query);
      return {
        items: result.datasets.map((dataset) => datasetBody(dataset, result.resources.get(dataset.id) ?? [], publicUrl)),
        page,
        per_page: perPage,
        total: result.count,
      };
    },
  );

  app.get<{ Params: SlugParams }>(
    '/api/v1/datasets/:slug',
    { schema: { security: OPTIONAL_TOKEN, tags: ['Datasets'], summary: 'Show a dataset', params: SlugParams, response: { 200: Dataset, ...errorResponses } } },
    async (request) => {
      const { dataset, resources } = await service.showDataset(callerOrganisationId(request), request.params.slug);
      return datasetBody(dataset, resources, publicUrl);
    },
  );

  // The owner reads its own dataset back, so a token with the write scope alone still gets the private dataset.
  await datasetMetadataRoutes(app, services, async (organisationId, slug) => {
    const { dataset, resources } = await service.showDataset(organisationId, slug);
    return datasetBody(dataset, resources, publicUrl);
  });

  app.get<{ Params: SlugParams }>(
    '/api/v1/datasets/:slug/versions',
    { schema: { security: OPTIONAL_TOKEN, tags: ['Datasets'], summary: 'List a dataset\'s versions', description: 'Every loaded version (resource), newest first.', params: SlugParams, response: { 200: VersionList, ...errorResponses } } },
    async (request) => {
      const { dataset, resources } = await service.showDataset(callerOrganisationId(request), request.params.slug);
      return { items: resources.map((resource) => resourceBody(resource, dataset.slug, publicUrl)) };
    },
  );

  app.get<{ Params: ResourceParams; Querystring: RecordsQuery }>(
    '/api/v1/resources/:id/records',
    { schema: { security: OPTIONAL_TOKEN, tags: ['Datastore'], summary: 'Read a resource\'s rows', description: 'Filter, search, sort and page the rows of one version, as datastore_search does.', params: ResourceParams, querystring: RecordsQuery, response: { 200: RecordsPage, ...errorResponses } } },
    async (request) => {
      const query = readDatastoreQuery({ ...request.query, resource_id: request.params.id, records_format: 'objects' });
      const result = await service.searchDatastore(callerOrganisationId(request), query);
      let next: string | null = null;
      if (query.limit > 0 && Array.isArray(result.records) && result.records.length === query.limit) {
        const link = new URLSearchParams(Object.entries(request.query).filter(([key]) => key !== 'offset' && key !== 'cursor').map(([key, value]) => [key, String(value)]));
        link.set('offset', String(query.offset + query.limit));
        if (result.nextCursor !== null) link.set('cursor', result.nextCursor);
        next = `${publicUrl}/api/v1/resources/${result.resourceId}/records?${link.toString()}`;
      }
      return { resource_id: result.resourceId, fields: result.fields, records: result.records, total: result.total, limit: result.limit, offset: result.offset, links: { next } };
    },
  );

  app.get<{ Querystring: OrganisationListQuery }>(
    '/api/v1/organisations',
    { schema: { security: OPTIONAL_TOKEN, tags: ['Organisations'], summary: 'List organisations', querystring: OrganisationListQuery, response: { 200: OrganisationList, ...errorResponses } } },
    async (request) => {
      const { page, per_page: perPage } = request.query;
      const result = await service.listOrganisations(callerOrganisationId(request), { sort: 'title', descending: false, limit: perPage, offset: (page - 1) * perPage });
      return { items: result.organisations.map(organisationBody), page, per_page: perPage, total: result.total };
    },
  );

  app.get<{ Params: SlugParams }>(
    '/api/v1/organisations/:slug',
    { schema: { security: OPTIONAL_TOKEN, tags: ['Organisations'], summary: 'Show an organisation', params: SlugParams, response: { 200: Organisation, ...errorResponses } } },
    async (request) => organisationBody(await service.showOrganisation(callerOrganisationId(request), request.params.slug)),
  );
}
