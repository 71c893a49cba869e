import { notFound } from '../errors.ts';
import { COUNCIL_NAME, SERVICE_NAME } from '../http/views.ts';
import { organizationDetailDict, packageDict, resourceDict, type CkanDict } from './ckan.dicts.ts';
import { readBoolean, readDatastoreQuery, readInteger, readString, requireString } from './datastore-params.ts';
import { MAX_SQL_ROWS, type DatastoreResult } from './datastore.types.ts';
import { LIST_ACTIONS } from './list.actions.ts';
import type { OpenDataService } from './open-data.service.ts';
import { readFieldList, selectFields } from './package-fields.ts';
import { readPackageSearchQuery } from './package-search.ts';

/** Inputs of an action: the service, the caller's organisation and the raw request parameters. */
export interface ActionContext {
  service: OpenDataService;
  organisationId: string | null;
  params: Record<string, unknown>;
  /** The site's public base URL, without a trailing slash. */
  publicUrl: string;
}

export interface ActionParameter {
  name: string;
  description: string;
  required?: boolean;
  /**
   * The value's type in a JSON body, for the OpenAPI document (text when absent). In a query string every value is
   * text, which the action parses as its description gives (JSON text for an object).
   */
  type?: 'integer' | 'boolean' | 'object' | 'list' | 'text_or_object';
}

export interface CkanAction {
  /** The text help_show returns for the action. */
  help: string;
  parameters: ActionParameter[];
  run(context: ActionContext): Promise<unknown>;
}

function datastoreLinks(params: Record<string, unknown>, result: DatastoreResult): { start: string; next: string } {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (key === 'offset' || key === 'cursor' || value === undefined || value === null) continue;
    query.append(key, typeof value === 'string' ? value : JSON.stringify(value));
  }
  const start = `/api/3/action/datastore_search?${query.toString()}`;
  const next = new URLSearchParams(query);
  next.set('offset', String(result.offset + result.limit));
  if (result.nextCursor !== null) next.set('cursor', result.nextCursor);
  return { start, next: `/api/3/action/datastore_search?${next.toString()}` };
}

export const ACTIONS: Record<string, CkanAction> = {
  package_list: {
    help: 'Return the names of the site\'s open datasets, sorted by name. Parameters: limit, offset.',
    parameters: [
      { name: 'limit', description: 'Maximum number of names to return.', type: 'integer' },
      { name: 'offset', description: 'Number of names to skip, when limit is given.', type: 'integer' },
    ],
    async run({ service, organisationId, params }) {
      const limit = params.limit === undefined ? null : readInteger(params, 'limit', 1000, 0, 1_000_000);
      return service.listOpenDatasetSlugs(organisationId, limit, readInteger(params, 'offset', 0, 0, Number.MAX_SAFE_INTEGER));
    },
  },

  package_search: {
    help:
      'Search datasets. q is free text over titles, descriptions, tags and organisation names, or Solr field terms ' +
      '(name, title, notes, tags, organization, res_format, license_id as field:value, field:prefix* or ' +
      'field:"a phrase", with -field:value to exclude) combined with plain words; fq takes field terms only, also ' +
      'owner_org, id, dataset_type and capacity; rows (default 10, max 1000), start, sort (score, metadata_modified, ' +
      'metadata_created, title_string, name; asc or desc), fl (fields to return), facet.field (JSON list), ' +
      'facet.limit, include_private.',
    parameters: [
      { name: 'q', description: 'Free text (words match by prefix), or field terms such as tags:finance title:"public toilets" name:spend*.' },
      { name: 'fq', description: 'Filters such as organization:thurrock-council -tags:finance res_format:CSV license_id:OGL-UK-3.0.' },
      { name: 'fl', description: 'Fields to return instead of whole package dicts, separated by commas or spaces, such as "name,title".' },
      { name: 'rows', description: 'Datasets per page, 0 to 1000 (default 10).', type: 'integer' },
      { name: 'start', description: 'Datasets to skip.', type: 'integer' },
      { name: 'sort', description: 'Such as "metadata_modified desc" or "title_string asc" (default "score desc, metadata_modified desc").' },
      { name: 'facet.field', description: 'JSON list of organization, tags, res_format, license_id.', type: 'list' },
      { name: 'facet.limit', description: 'Items per facet (default 50, -1 for all).', type: 'integer' },
      { name: 'include_private', description: 'Include private datasets of the caller\'s organisation.', type: 'boolean' },
    ],
    async run({ service, organisationId, params, publicUrl }) {
      const query = readPackageSearchQuery(params);
      const fields = readFieldList(params);
      const page = await service.searchDatasets(organisationId, query);
      const facets: Record<string, Record<string, number>> = {};
      const searchFacets: Record<string, { title: string; items: Array<{ name: string; display_name: string; count: number }> }> = {};
      for (const [field, items] of Object.entries(page.facets)) {
        facets[field] = Object.fromEntries(items.map((item) => [item.name, item.count]));
        searchFacets[field] = { title: field, items: items.map((item) => ({ name: item.name, display_name: item.displayName, count: item.count })) };
      }
      return {
        count: page.count,
        results: page.datasets.map((dataset) => {
          const pkg = packageDict(dataset, page.resources.get(dataset.id) ?? [], publicUrl);
          return fields === null ? pkg : selectFields(pkg, fields);
        }),
        sort: query.sortText,
        facets,
        search_facets: searchFacets,
      };
    },
  },

  package_show: {
    help: 'Return a dataset (package) by name or id, with its resources (one per loaded version, newest first).',
    parameters: [{ name: 'id', description: 'Dataset name (slug) or id.', required: true }],
    async run({ service, organisationId, params, publicUrl }) {
      const { dataset, resources } = await service.showDataset(organisationId, requireString(params, 'id'));
      return packageDict(dataset, resources, publicUrl);
    },
  },

  resource_show: {
    help: 'Return a resource by id.',
    parameters: [{ name: 'id', description: 'Resource id.', required: true }],
    async run({ service, organisationId, params, publicUrl }) {
      const { resource, dataset, position } = await service.showResource(organisationId, requireString(params, 'id'));
      return resourceDict(resource, dataset, position, publicUrl);
    },
  },

  ...LIST_ACTIONS,

  organization_show: {
    help: 'Return an organisation by name or id; include_datasets=true adds its datasets (up to 1000) as packages.',
    parameters: [
      { name: 'id', description: 'Organisation name (slug) or id.', required: true },
      { name: 'include_datasets', description: 'Include the organisation\'s datasets.', type: 'boolean' },
    ],
    async run({ service, organisationId, params, publicUrl }) {
      const organisation = await service.showOrganisation(organisationId, requireString(params, 'id'));
      const dict: CkanDict = organizationDetailDict(organisation);
      if (readBoolean(params, 'include_datasets', false)) {
        const query = readPackageSearchQuery({ fq: `organization:${organisation.slug}`, rows: 1000, sort: 'title_string asc', include_private: true });
        const page = await service.searchDatasets(organisationId, query);
        dict.packages = page.datasets.map((dataset) => packageDict(dataset, page.resources.get(dataset.id) ?? [], publicUrl));
      }
      return dict;
    },
  },

  datastore_search: {
    help:
      'Search a resource\'s rows. Parameters: resource_id, filters (JSON object of column to value or list), q (text, ' +
      'or JSON object of column to text), fields, sort ("col asc, col2 desc"), limit (default 100, max 32000), offset, ' +
      'include_total, records_format (objects, lists, csv, tsv), distinct. Rows carry _id in source order from 1.',
    parameters: [
      { name: 'resource_id', description: 'Resource id.', required: true },
      { name: 'filters', description: 'JSON object of column to value or list of values.', type: 'object' },
      { name: 'q', description: 'Full-text search over the text columns, or a JSON object of column to text.', type: 'text_or_object' },
      { name: 'fields', description: 'Columns to return, comma-separated or a JSON list.', type: 'list' },
      { name: 'sort', description: 'Such as "amount desc, _id asc".' },
      { name: 'limit', description: 'Rows per page, 0 to 32000 (default 100).', type: 'integer' },
      { name: 'offset', description: 'Rows to skip.', type: 'integer' },
      { name: 'include_total', description: 'Whether to count matching rows (default true).', type: 'boolean' },
      { name: 'records_format', description: 'objects, lists, csv or tsv.' },
      { name: 'distinct', description: 'Return distinct rows of the chosen fields.', type: 'boolean' },
      { name: 'cursor', description: 'Continuation token from _links.next; pages deep results by _id.' },
    ],
    async run({ service, organisationId, params }) {
      const query = readDatastoreQuery(params);
      const result = await service.searchDatastore(organisationId, query);
      const body: CkanDict = {
        resource_id: result.resourceId,
        fields: result.fields,
        records: result.records,
        records_format: query.recordsFormat,
        limit: result.limit,
        offset: result.offset,
        include_total: query.includeTotal,
        total_was_estimated: false,
        _links: datastoreLinks(params, result),
      };
      if (result.total !== undefined) body.total = result.total;
      if (Object.keys(query.filters).length > 0) body.filters = query.filters;
      if (query.q !== null) body.q = query.q;
      if (query.sort.length > 0) body.sort = readString(params, 'sort') ?? query.sort.map((key) => `${key.column} ${key.descending ? 'desc' : 'asc'}`).join(', ');
      if (query.distinct) body.distinct = true;
      return body;
    },
  },

  datastore_search_sql: {
    help:
      `Run a read-only SELECT over datastore tables, named by resource id in double quotes. Only SELECT with allowed ` +
      `functions is accepted; results stop at ${MAX_SQL_ROWS} rows (records_truncated is then true).`,
    parameters: [{ name: 'sql', description: 'One SELECT statement, such as SELECT * FROM "<resource id>" LIMIT 5.', required: true }],
    async run({ service, organisationId, params }) {
      const result = await service.runSql(organisationId, requireString(params, 'sql'));
      return { sql: result.sql, fields: result.fields, records: result.records, records_truncated: result.recordsTruncated, records_limit: MAX_SQL_ROWS };
    },
  },

  help_show: {
    help: 'Return the help text of an action. Parameter: name.',
    parameters: [{ name: 'name', description: 'Action name.', required: true }],
    async run({ params }) {
      const name = requireString(params, 'name');
      const action = Object.hasOwn(ACTIONS, name) ? ACTIONS[name] : undefined;
      if (!action) throw notFound('action_not_found', `Action function "${name}" was not found.`);
      return action.help;
    },
  },

  status_show: {
    help: 'Return the site\'s status: title, URL, API level and extensions.',
    parameters: [],
    async run({ publicUrl }) {
      return {
        // The portal's own names, so CKAN clients label the site as its pages do.
        site_title: SERVICE_NAME,
        site_description: `Open data from ${COUNCIL_NAME} and its partners`,
        site_url: publicUrl,
        // The CKAN release whose Action API shapes this service follows.
        ckan_version: '2.10.0',
        error_emails_to: null,
        locale_default: 'en_GB',
        extensions: ['datastore'],
      };
    },
  },
};
