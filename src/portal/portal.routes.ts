import type { FastifyInstance } from 'fastify';
import type { Services } from '../services.ts';
import { canAddDataset } from './dataset-create.routes.ts';
import { canEditDataset } from './dataset-edit.routes.ts';
import { datasetPageContext } from './dataset-view.ts';
import { PortalService } from './portal.service.ts';
import { choice, freeText, listValues, pageNumber, queryString, type QueryValues } from './query-params.ts';
import { FACETS, type FacetName, type SearchFilters, type SearchSort } from './search.repository.ts';
import { schemaOrgDataset, scriptJson } from './schema-org.ts';
import { viewerOf } from './viewer.ts';

const SORTS = ['relevance', 'updated', 'title'] as const satisfies readonly SearchSort[];

const FACET_LEGENDS: Record<FacetName, string> = {
  organisation: 'Organisation',
  theme: 'Theme',
  format: 'Format',
  licence: 'Licence',
  tag: 'Tag',
};

/** Reads the search form's parameters; a bad page or sort raises a 400 naming it. */
export function readSearch(query: QueryValues): { filters: SearchFilters; sort: SearchSort; page: number } {
  const text = freeText(query, 'q');
  const facets = Object.fromEntries(FACETS.map((facet) => [facet, listValues(query, facet)])) as Record<FacetName, string[]>;
  const sort = choice(query, 'sort', SORTS, text === '' ? 'updated' : 'relevance');
  return { filters: { text, facets }, sort, page: pageNumber(query) };
}

/** Registers the home, search, dataset, organisation and information pages. */
export async function portalPageRoutes(app: FastifyInstance, services: Services & { portal: PortalService }): Promise<void> {
  const { portal, config } = services;

  app.get('/', async (request, reply) => {
    const home = await portal.home(viewerOf(request));
    return reply.page('home.njk', { ...home, pageDescription: 'Find and download open data published by Thurrock Council and its partners.' });
  });

  app.get<{ Querystring: QueryValues }>('/datasets', async (request, reply) => {
    const { filters, sort, page } = readSearch(request.query);
    const results = await portal.search(viewerOf(request), filters, sort, page);
    const base = { q: filters.text, ...filters.facets, sort: sort === (filters.text === '' ? 'updated' : 'relevance') ? undefined : sort };
    const pagination = {
      previous: page > 1 ? { href: `/datasets${queryString({ ...base, page: page - 1 })}` } : undefined,
      next: page < results.pageCount ? { href: `/datasets${queryString({ ...base, page: page + 1 })}` } : undefined,
      items: pageItems(page, results.pageCount).map((number) =>
        number === null ? { ellipsis: true } : { number, href: `/datasets${queryString({ ...base, page: number })}`, current: number === page },
      ),
    };
    const chosen = FACETS.flatMap((facet) =>
      filters.facets[facet].map((value) => ({
        facet: FACET_LEGENDS[facet],
        label: results.facets[facet].find((option) => option.value === value)?.label ?? value,
        removeHref: `/datasets${queryString({ ...base, [facet]: filters.facets[facet].filter((other) => other !== value) })}`,
      })),
    );
    return reply.page('datasets.njk', {
      query: filters.text,
      sort,
      sorts: SORTS.filter((option) => option !== 'relevance' || filters.text !== ''),
      results,
      facetNames: FACETS,
      facetLegends: FACET_LEGENDS,
      chosen,
      pagination,
      clearHref: filters.text === '' ? '/datasets' : `/datasets${queryString({ q: filters.text })}`,
    });
  });

  app.get<{ Params: { slug: string }; Querystring: QueryValues }>('/dataset/:slug', async (request, reply) => {
    const dataset = await portal.dataset(viewerOf(request), request.params.slug);
    const context = datasetPageContext(dataset, config.publicUrl);
    return reply.page('dataset.njk', {
      ...context,
      canEdit: canEditDataset(request.auth, dataset),
      detailsSaved: request.query.saved === 'details',
      schemaOrg: scriptJson(schemaOrgDataset(dataset, config.publicUrl)),
      pageDescription: dataset.description.slice(0, 300),
      breadcrumbs: [
        { text: 'Home', href: '/' },
        { text: 'Datasets', href: '/datasets' },
        { text: dataset.organisation.name, href: `/organisation/${dataset.organisation.slug}` },
      ],
    });
  });

  app.get('/organisations', async (request, reply) => {
    const organisations = await portal.organisations(viewerOf(request));
    return reply.page('organisations.njk', { organisations });
  });

  app.get<{ Params: { slug: string }; Querystring: QueryValues }>('/organisation/:slug', async (request, reply) => {
    const viewer = viewerOf(request);
    const organisation = await portal.organisation(viewer, request.params.slug);
    const page = pageNumber(request.query);
    const filters: SearchFilters = { text: '', facets: { organisation: [organisation.slug], theme: [], format: [], licence: [], tag: [] } };
    const results = await portal.search(viewer, filters, 'title', page);
    const link = (number: number) => `/organisation/${organisation.slug}${queryString({ page: number === 1 ? undefined : number })}`;
    return reply.page('organisation.njk', {
      organisation,
      canAddDataset: canAddDataset(request.auth, organisation),
      results,
      pagination: {
        previous: page > 1 ? { href: link(page - 1) } : undefined,
        next: page < results.pageCount ? { href: link(page + 1) } : undefined,
        items: pageItems(page, results.pageCount).map((number) => (number === null ? { ellipsis: true } : { number, href: link(number), current: number === page })),
      },
      breadcrumbs: [
        { text: 'Home', href: '/' },
        { text: 'Organisations', href: '/organisations' },
      ],
    });
  });

  app.get('/accessibility', async (_request, reply) => reply.page('accessibility.njk', {}));
  app.get('/cookies', async (_request, reply) => reply.page('cookies.njk', {}));
  app.get('/api-guide', async (_request, reply) => reply.page('api-guide.njk', { publicUrl: config.publicUrl }));
}

/** Page numbers for GOV.UK pagination: first, last and two either side of the current page, null for a gap. */
export function pageItems(current: number, count: number): Array<number | null> {
  const numbers = [...new Set([1, count, current - 2, current - 1, current, current + 1, current + 2])].filter((number) => number >= 1 && number <= count).sort((a, b) => a - b);
  const items: Array<number | null> = [];
  for (const [index, number] of numbers.entries()) {
    if (index > 0 && number - numbers[index - 1]! > 1) items.push(null);
    items.push(number);
  }
  return count <= 1 ? [] : items;
}
