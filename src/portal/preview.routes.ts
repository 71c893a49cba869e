import type { FastifyInstance } from 'fastify';
import type { ResourceVersion } from '../catalogue/catalogue.types.ts';
import { searchDatastore } from '../ckan-api/datastore-search.ts';
import type { FilterValue } from '../ckan-api/datastore.types.ts';
import { notFound, type FieldError } from '../errors.ts';
import { formErrors } from '../http/forms.ts';
import type { TableSchemaField } from '../ingest/table-schema.ts';
import type { Services } from '../services.ts';
import { columnProfiles, usesThousandsSeparators } from './column-profile.ts';
import { pageItems } from './portal.routes.ts';
import { pickVersion, type PortalService } from './portal.service.ts';
import { badParameter, choice, pageNumber, queryString, singleValue, type QueryValues } from './query-params.ts';
import { parseDate } from './time-labels.ts';
import { viewerOf } from './viewer.ts';

/** Rows per page of the data preview. */
export const PREVIEW_ROWS = 25;

/** Reads `version` as a version number, or undefined for the current version. */
export function versionParameter(query: QueryValues): number | undefined {
  const raw = singleValue(query, 'version');
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d{1,6}$/.test(raw) || Number(raw) < 1) throw badParameter('version', `"${raw}" is not a version number. Use a whole number from 1, such as version=2.`);
  return Number(raw);
}

interface ColumnFilter {
  field: TableSchemaField;
  /** Form field name and id. */
  name: string;
  /** The text as typed, shown in the form and kept in links. */
  value: string;
  /** The value to match: the typed text, or for a date column the same date as ISO text (2025-04-29). */
  match: string;
}

/**
 * Checks the column filters typed into the preview form. Text columns match words at the start of any word in the
 * cell; other columns match the exact value, which must suit the column type. Dates may be typed day first, as UK
 * files write them (29/04/2025, 29-04-2025, 29 April 2025), or as ISO (2025-04-29).
 */
export function readColumnFilters(version: ResourceVersion, query: QueryValues): { filters: ColumnFilter[]; errors: FieldError[] } {
  const filters: ColumnFilter[] = [];
  const errors: FieldError[] = [];
  for (const field of version.tableSchema.fields) {
    const name = `filter-${field.name}`;
    const raw = query[name];
    const value = (Array.isArray(raw) ? raw[0] ?? '' : raw ?? '').trim().slice(0, 200);
    const date = field.type === 'date' ? parseDate(value) : null;
    filters.push({ field, name, value, match: date ?? value });
    if (value === '') continue;
    if ((field.type === 'integer' && !/^-?\d{1,18}$/.test(value)) || (field.type === 'number' && !Number.isFinite(Number(value)))) {
      errors.push({ field: name, message: `${field.title} must be a number, like 250 or 99.5` });
    } else if (field.type === 'date' && date === null) {
      errors.push({ field: name, message: `${field.title} must be a real date, like 31/01/2026, 31 January 2026 or 2026-01-31, not “${value}”` });
    } else if (field.type === 'datetime' && Number.isNaN(Date.parse(value))) {
      errors.push({ field: name, message: `${field.title} must be a date and time, like 2026-01-31T09:30` });
    } else if (field.type === 'boolean' && !['true', 'false'].includes(value)) {
      errors.push({ field: name, message: `Select yes or no for ${field.title}` });
    }
  }
  return { filters, errors };
}

export async function previewRoutes(app: FastifyInstance, services: Services & { portal: PortalService }): Promise<void> {
  const { portal, db } = services;

  app.get<{ Params: { slug: string }; Querystring: QueryValues }>('/dataset/:slug/preview', async (request, reply) => {
    const viewer = viewerOf(request);
    const dataset = await portal.dataset(viewer, request.params.slug);
    const version = pickVersion(dataset, versionParameter(request.query));
    const fields = version.tableSchema.fields;
    const sortColumn = singleValue(request.query, 'sort');
    if (sortColumn !== undefined && sortColumn !== '' && sortColumn !== '_id' && !fields.some((field) => field.name === sortColumn)) {
      throw badParameter('sort', `"${sortColumn}" is not a column of this dataset. Use one of: ${fields.map((field) => field.name).join(', ')}.`);
    }
    const order = choice(request.query, 'order', ['asc', 'desc'] as const, 'asc');
    const page = pageNumber(request.query);
    const { filters, errors } = readColumnFilters(version, request.query);
    const integers = fields.filter((field) => field.type === 'integer');
    const profiles = await columnProfiles(db, viewer, version, integers);

    const versionParam = request.query.version === undefined ? undefined : version.version;
    const filterParams = Object.fromEntries(filters.map((filter) => [filter.name, filter.value]));
    const state = { version: versionParam, sort: sortColumn || undefined, order: sortColumn ? order : undefined, ...filterParams };
    const context = {
      dataset,
      version,
      fields,
      filters,
      versionParam,
      sortColumn: sortColumn || '_id',
      order,
      separatedColumns: fields.filter((field) => usesThousandsSeparators(field, profiles.get(field.name))).map((field) => field.name),
      sortHref: (column: string) => {
        const descending = (sortColumn || '_id') === column && order === 'asc';
        return `/dataset/${dataset.slug}/preview${queryString({ ...state, sort: column, order: descending ? 'desc' : 'asc', page: undefined })}`;
      },
      breadcrumbs: [
        { text: 'Home', href: '/' },
        { text: 'Datasets', href: '/datasets' },
        { text: dataset.title, href: `/dataset/${dataset.slug}` },
      ],
    };
    if (errors.length > 0) {
      return reply.page('preview.njk', { ...context, ...formErrors(errors), result: null }, 400);
    }

    const filterValues: Record<string, FilterValue> = {};
    const textSearch: Record<string, string> = {};
    for (const filter of filters) {
      if (filter.value === '') continue;
      if (filter.field.type === 'string') textSearch[filter.field.name] = filter.match;
      else filterValues[filter.field.name] = filter.match;
    }
    const result = await searchDatastore(db.app, viewer, {
      resourceId: version.id,
      filters: filterValues,
      q: Object.keys(textSearch).length > 0 ? textSearch : null,
      fields: null,
      sort: [{ column: sortColumn || '_id', descending: order === 'desc' }],
      limit: PREVIEW_ROWS,
      offset: (page - 1) * PREVIEW_ROWS,
      includeTotal: true,
      recordsFormat: 'objects',
      distinct: false,
      cursor: null,
    });
    const total = result.total ?? 0;
    const pageCount = Math.max(1, Math.ceil(total / PREVIEW_ROWS));
    if (page > pageCount) throw notFound('page_not_found', `There is no page ${page} of these rows; there are ${pageCount}.`);
    const link = (number: number) => `/dataset/${dataset.slug}/preview${queryString({ ...state, page: number })}`;
    return reply.page('preview.njk', {
      ...context,
      result,
      total,
      page,
      pageCount,
      firstRow: total === 0 ? 0 : (page - 1) * PREVIEW_ROWS + 1,
      lastRow: Math.min(page * PREVIEW_ROWS, total),
      pagination: {
        previous: page > 1 ? { href: link(page - 1) } : undefined,
        next: page < pageCount ? { href: link(page + 1) } : undefined,
        items: pageItems(page, pageCount).map((number) => (number === null ? { ellipsis: true } : { number, href: link(number), current: number === page })),
      },
    });
  });
}
