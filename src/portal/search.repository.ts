import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DB } from '../db/schema.ts';

/**
 * Faceted dataset search for the portal. Each facet is a list of chosen values: a dataset matches a facet when it has
 * any chosen value, and must match every facet and the search text. Facet counts leave out the facet's own choices,
 * so ticking one box shows how many more datasets its neighbours would add. All queries run on the transaction given,
 * so row-level security decides which datasets exist.
 */
export const FACETS = ['organisation', 'theme', 'format', 'licence', 'tag'] as const;
export type FacetName = (typeof FACETS)[number];

export type SearchSort = 'relevance' | 'updated' | 'title';

export interface SearchFilters {
  text: string;
  facets: Record<FacetName, string[]>;
}

export interface SearchHitRow {
  id: string;
  slug: string;
  title: string;
  description: string;
  visibility: string;
  licence_id: string;
  theme: string | null;
  tags: string[];
  modified_at: Date;
  organisation_slug: string;
  organisation_name: string;
  format: string | null;
  row_count: number | null;
}

export interface FacetCountRow {
  value: string;
  label: string;
  count: number;
}

const FROM = sql`datasets d
  join organisations o on o.id = d.organisation_id
  left join resources r on r.id = d.current_resource_id`;

function textCondition(text: string): RawBuilder<unknown> | null {
  // websearch_to_tsquery reads any text without raising a syntax error: quotes, `or` and `-` are the only operators.
  return text === '' ? null : sql`d.search_vector @@ websearch_to_tsquery('english', ${text})`;
}

function facetCondition(facet: FacetName, values: string[]): RawBuilder<unknown> | null {
  if (values.length === 0) return null;
  const list = sql.join(values.map((value) => sql`${value}`));
  switch (facet) {
    case 'organisation':
      return sql`o.slug in (${list})`;
    case 'theme':
      return sql`d.theme in (${list})`;
    case 'format':
      return sql`upper(r.format) in (${sql.join(values.map((value) => sql`upper(${value})`))})`;
    case 'licence':
      return sql`d.licence_id in (${list})`;
    case 'tag':
      return sql`d.tags && ${sql.val(values)}::text[]`;
  }
}

function whereClause(filters: SearchFilters, except?: FacetName): RawBuilder<unknown> {
  const conditions: RawBuilder<unknown>[] = [];
  const text = textCondition(filters.text);
  if (text) conditions.push(text);
  for (const facet of FACETS) {
    if (facet === except) continue;
    const condition = facetCondition(facet, filters.facets[facet]);
    if (condition) conditions.push(condition);
  }
  return conditions.length === 0 ? sql`` : sql`where ${sql.join(conditions, sql` and `)}`;
}

export async function countMatches(db: Kysely<DB>, filters: SearchFilters): Promise<number> {
  const { rows } = await sql<{ total: number }>`select count(*)::int as total from ${FROM} ${whereClause(filters)}`.execute(db);
  return Number(rows[0]?.total ?? 0);
}

export async function searchDatasets(db: Kysely<DB>, filters: SearchFilters, sort: SearchSort, limit: number, offset: number): Promise<SearchHitRow[]> {
  let order: RawBuilder<unknown>;
  if (sort === 'relevance' && filters.text !== '') order = sql`ts_rank(d.search_vector, websearch_to_tsquery('english', ${filters.text})) desc, d.modified_at desc`;
  else if (sort === 'title') order = sql`lower(d.title) asc`;
  else order = sql`d.modified_at desc`;
  const { rows } = await sql<SearchHitRow>`
    select d.id, d.slug, d.title, d.description, d.visibility, d.licence_id, d.theme, d.tags, d.modified_at,
           o.slug as organisation_slug, o.name as organisation_name, r.format, r.row_count
    from ${FROM} ${whereClause(filters)}
    order by ${order}, d.slug
    limit ${limit} offset ${offset}`.execute(db);
  return rows;
}

/** Counts per value of one facet, most common first, at most `limit` values. */
export async function facetCounts(db: Kysely<DB>, filters: SearchFilters, facet: FacetName, limit = 30): Promise<FacetCountRow[]> {
  const where = whereClause(filters, facet);
  let query: RawBuilder<FacetCountRow>;
  switch (facet) {
    case 'organisation':
      query = sql`select o.slug as value, min(o.name) as label, count(*)::int as count from ${FROM} ${where} group by o.slug`;
      break;
    case 'theme':
      query = sql`select d.theme as value, d.theme as label, count(*)::int as count from ${FROM} ${where} group by d.theme having d.theme is not null`;
      break;
    case 'format':
      query = sql`select upper(r.format) as value, upper(r.format) as label, count(*)::int as count from ${FROM} ${where} group by upper(r.format) having upper(r.format) is not null`;
      break;
    case 'licence':
      query = sql`select d.licence_id as value, d.licence_id as label, count(*)::int as count from ${FROM} ${where} group by d.licence_id`;
      break;
    case 'tag':
      query = sql`select tag as value, tag as label, count(*)::int as count from ${FROM} cross join lateral unnest(d.tags) as tag ${where} group by tag`;
      break;
  }
  const { rows } = await sql<FacetCountRow>`select * from (${query}) as counted order by count desc, label asc limit ${limit}`.execute(db);
  return rows.map((row) => ({ ...row, count: Number(row.count) }));
}
