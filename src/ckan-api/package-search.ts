import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DB } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { selectDatasets, type DatasetRecord } from './catalogue-read.repository.ts';
import { invalidParameter, readBoolean, readInteger, readJson, readString } from './datastore-params.ts';
import { toPrefixQuery } from './datastore-search.ts';

/**
 * package_search without Solr: `q` is free text over titles, descriptions, tags and organisation names (read as
 * words, never as query syntax), `fq` takes the `field:value` filters CKAN clients send, and facets are counted with
 * SQL over the same matching datasets.
 */

export const FACET_FIELDS = ['organization', 'tags', 'res_format', 'license_id'] as const;
export type FacetField = (typeof FACET_FIELDS)[number];

export interface PackageSearchQuery {
  q: string | null;
  filters: Array<{ field: string; value: string }>;
  rows: number;
  start: number;
  sort: Array<{ key: string; descending: boolean }>;
  sortText: string;
  facetFields: FacetField[];
  facetLimit: number;
  includePrivate: boolean;
}

const FQ_FIELDS = new Set(['organization', 'owner_org', 'tags', 'res_format', 'license_id', 'name', 'id', 'dataset_type', 'capacity']);
const SORT_KEYS = new Set(['score', 'metadata_modified', 'metadata_created', 'title_string', 'name', 'title']);
const DEFAULT_SORT = 'score desc, metadata_modified desc';

export function searchQueryError(message: string): AppError {
  return new AppError('validation', 'search_query_error', message, { fields: [{ field: 'fq', message }] });
}

/** Reads `fq` such as `organization:thurrock-council +tags:"social care" AND res_format:CSV`. */
export function parseFilterQuery(text: string): Array<{ field: string; value: string }> {
  const filters: Array<{ field: string; value: string }> = [];
  const pattern = /\s*(?:AND\s+)?\+?([a-z_]+):("([^"]*)"|[^\s"()]+)\s*/gy;
  let position = 0;
  while (position < text.length) {
    pattern.lastIndex = position;
    const match = pattern.exec(text);
    if (!match || match[0].length === 0) {
      throw searchQueryError(`Search Query is invalid: cannot read fq from "${text.slice(position, position + 40)}". Write filters as field:value, such as organization:thurrock-council.`);
    }
    const field = match[1]!;
    if (!FQ_FIELDS.has(field)) {
      throw searchQueryError(`Search Query is invalid: fq field "${field}" is not supported. Use one of: ${[...FQ_FIELDS].join(', ')}.`);
    }
    filters.push({ field, value: match[3] ?? match[2]! });
    position = pattern.lastIndex;
  }
  return filters;
}

function parseSort(text: string): PackageSearchQuery['sort'] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => {
      const match = /^(\w+)(?:\s+(asc|desc))?$/i.exec(part);
      if (!match || !SORT_KEYS.has(match[1]!)) {
        throw invalidParameter('sort', `Cannot sort by "${part}". Use one of ${[...SORT_KEYS].join(', ')}, each followed by asc or desc.`);
      }
      return { key: match[1]!, descending: match[2]?.toLowerCase() === 'desc' };
    });
}

export function readPackageSearchQuery(params: Record<string, unknown>): PackageSearchQuery {
  const rawQ = readString(params, 'q')?.trim() ?? '';
  const facetValue = readJson(params, 'facet.field', '["organization", "tags"]') ?? [];
  if (!Array.isArray(facetValue) || !facetValue.every((field) => typeof field === 'string')) {
    throw invalidParameter('facet.field', 'facet.field must be a JSON list of field names, such as ["organization", "tags"].');
  }
  for (const field of facetValue) {
    if (!(FACET_FIELDS as readonly string[]).includes(field)) {
      throw invalidParameter('facet.field', `Cannot facet on "${field}". Use any of: ${FACET_FIELDS.join(', ')}.`);
    }
  }
  const sortText = readString(params, 'sort')?.trim() || DEFAULT_SORT;
  return {
    q: rawQ === '' || rawQ === '*:*' ? null : rawQ,
    filters: parseFilterQuery(readString(params, 'fq')?.trim() ?? ''),
    rows: readInteger(params, 'rows', 10, 0, 1000),
    start: readInteger(params, 'start', 0, 0, Number.MAX_SAFE_INTEGER),
    sort: parseSort(sortText),
    sortText,
    facetFields: facetValue as FacetField[],
    facetLimit: readInteger(params, 'facet.limit', 50, -1, 10000),
    includePrivate: readBoolean(params, 'include_private', false),
  };
}

function filterCondition(filter: { field: string; value: string }): RawBuilder<unknown> {
  const { field, value } = filter;
  switch (field) {
    case 'organization':
      return sql`o.slug = ${value}`;
    case 'owner_org':
      return sql`(o.id::text = ${value} or o.slug = ${value})`;
    case 'tags':
      return sql`${value} = any(d.tags)`;
    case 'res_format':
      return sql`exists (select 1 from resources r where r.dataset_id = d.id and upper(r.format) = upper(${value}))`;
    case 'license_id':
      return sql`d.licence_id = ${value}`;
    case 'name':
      return sql`d.slug = ${value}`;
    case 'id':
      return sql`d.id::text = ${value}`;
    case 'capacity':
      return value === 'private' ? sql`d.visibility = 'private'` : sql`d.visibility = 'open'`;
    default:
      // dataset_type: every Civic Exchange dataset is of CKAN type "dataset".
      return value === 'dataset' ? sql`true` : sql`false`;
  }
}

export interface PackageSearchPage {
  count: number;
  datasets: DatasetRecord[];
  facets: Record<string, Array<{ name: string; displayName: string; count: number }>>;
}

/** Runs the search in the caller's transaction; private datasets appear only with include_private and visibility. */
export async function searchPackages(trx: Kysely<DB>, query: PackageSearchQuery): Promise<PackageSearchPage> {
  const conditions: RawBuilder<unknown>[] = query.includePrivate ? [] : [sql`d.visibility = 'open'`];
  const tsquery = query.q === null ? null : toPrefixQuery(query.q);
  const document = sql`(d.search_vector || setweight(to_tsvector('english', o.name || ' ' || o.slug), 'D'))`;
  if (query.q !== null) conditions.push(tsquery === null ? sql`false` : sql`${document} @@ to_tsquery('english', ${tsquery})`);
  conditions.push(...query.filters.map(filterCondition));
  const where = conditions.length > 0 ? sql`${sql.join(conditions, sql` and `)}` : sql`true`;
  // Without search words every dataset scores the same, so sorting by score leaves the order to the next key.
  const score = tsquery === null ? null : sql<number>`ts_rank(${document}, to_tsquery('english', ${tsquery}))`;

  let page = selectDatasets(trx).where(where as RawBuilder<boolean>);
  for (const key of query.sort) {
    const direction = key.descending ? 'desc' : 'asc';
    if (key.key === 'score') page = score === null ? page : page.orderBy(score, direction);
    else if (key.key === 'metadata_modified') page = page.orderBy('d.modified_at', direction);
    else if (key.key === 'metadata_created') page = page.orderBy('d.created_at', direction);
    else if (key.key === 'name') page = page.orderBy('d.slug', direction);
    else page = page.orderBy(sql`lower(d.title)`, direction);
  }
  const datasets = await page.orderBy('d.slug').limit(query.rows).offset(query.start).execute();

  const matching = sql`select d.id, d.organisation_id, d.tags, d.licence_id from datasets d join organisations o on o.id = d.organisation_id where ${where}`;
  const countRow = await sql<{ count: number }>`select count(*)::int as count from (${matching}) as m`.execute(trx);
  const facets: PackageSearchPage['facets'] = {};
  for (const field of query.facetFields) facets[field] = await countFacet(trx, field, matching, query.facetLimit);
  return { count: Number(countRow.rows[0]?.count ?? 0), datasets, facets };
}

async function countFacet(trx: Kysely<DB>, field: FacetField, matching: RawBuilder<unknown>, limit: number) {
  const cap = limit < 0 ? sql`` : sql`limit ${limit}`;
  let query: RawBuilder<{ name: string; display_name: string; count: number }>;
  if (field === 'organization') {
    query = sql`select o.slug as name, o.name as display_name, count(*)::int as count from (${matching}) as m join organisations o on o.id = m.organisation_id group by o.slug, o.name order by count desc, name ${cap}`;
  } else if (field === 'tags') {
    query = sql`select tag as name, tag as display_name, count(*)::int as count from (${matching}) as m cross join lateral unnest(m.tags) as tag group by tag order by count desc, name ${cap}`;
  } else if (field === 'res_format') {
    query = sql`select upper(r.format) as name, upper(r.format) as display_name, count(distinct m.id)::int as count from (${matching}) as m join resources r on r.dataset_id = m.id group by upper(r.format) order by count desc, name ${cap}`;
  } else {
    query = sql`select licence_id as name, licence_id as display_name, count(*)::int as count from (${matching}) as m group by licence_id order by count desc, name ${cap}`;
  }
  const { rows } = await query.execute(trx);
  return rows.map((row) => ({ name: row.name, displayName: row.display_name, count: Number(row.count) }));
}
