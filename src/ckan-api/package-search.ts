import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DB } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import { selectDatasets, type DatasetRecord } from './catalogue-read.repository.ts';
import { invalidParameter, readBoolean, readInteger, readJson, readString } from './datastore-params.ts';
import { toPrefixQuery } from './datastore-search.ts';
import { hasFieldSyntax, parseSolrQuery, QuerySyntaxError, type FieldTerm, type SearchTerm, type TermMatch, type TextTerm } from './solr-query.ts';

/**
 * package_search without Solr. CKAN reads a `q` without a colon with Solr's dismax parser, so here such a `q` is plain
 * words over titles, descriptions, tags and organisation names. Once `q` names a field (`tags:spending`), CKAN uses
 * the standard query parser, so here it is read with the Solr syntax of solr-query.ts. `fq` takes field terms only.
 * Facets are counted with SQL over the same matching datasets.
 */

export const FACET_FIELDS = ['organization', 'tags', 'res_format', 'license_id'] as const;
export type FacetField = (typeof FACET_FIELDS)[number];

export interface PackageSearchQuery {
  /** Plain words of `q`; null when `q` is empty, `*:*` or uses field syntax. */
  q: string | null;
  /** Terms of a `q` that uses field syntax; empty otherwise. */
  qTerms: SearchTerm[];
  filters: SearchTerm[];
  rows: number;
  start: number;
  sort: Array<{ key: string; descending: boolean }>;
  sortText: string;
  facetFields: FacetField[];
  facetLimit: number;
  includePrivate: boolean;
}

/** Fields that a `q` term may name: the ones CKAN clients search by. */
export const Q_FIELDS = ['name', 'title', 'notes', 'tags', 'organization', 'res_format', 'license_id'] as const;
/** Fields that an `fq` term may name: the `q` fields and the ones CKAN clients filter by. */
export const FQ_FIELDS = [...Q_FIELDS, 'owner_org', 'id', 'dataset_type', 'capacity'] as const;
/** Fields whose values are matched as text (stemmed words); the others compare whole values. */
const TEXT_FIELDS = new Set(['title', 'notes']);
/** Fields compared as whole values that also take a trailing `*` for a prefix. */
const PREFIX_FIELDS = new Set(['name', 'tags', 'organization', 'res_format', 'license_id']);
const SORT_KEYS = new Set(['score', 'metadata_modified', 'metadata_created', 'title_string', 'name', 'title']);
const DEFAULT_SORT = 'score desc, metadata_modified desc';

export function searchQueryError(message: string): AppError {
  return new AppError('validation', 'search_query_error', message, { fields: [{ field: 'fq', message }] });
}

/**
 * Reads `fq` such as `organization:thurrock-council -tags:"social care" AND res_format:CSV`. Errors are CKAN's
 * Search Query Error (400), as for any filter that Solr cannot read.
 */
export function parseFilterQuery(text: string): SearchTerm[] {
  try {
    return checkPrefixes(parseSolrQuery(text, FQ_FIELDS, false));
  } catch (error) {
    if (error instanceof QuerySyntaxError) throw searchQueryError(`Search Query is invalid: ${error.message}`);
    throw error;
  }
}

/** Reads a `q` that uses field syntax; errors are Validation Errors on `q` naming the term and the supported fields. */
function parseQ(text: string): SearchTerm[] {
  try {
    return checkPrefixes(parseSolrQuery(text, Q_FIELDS, true));
  } catch (error) {
    if (error instanceof QuerySyntaxError) throw invalidParameter('q', `${error.message} Supported fields in q: ${Q_FIELDS.join(', ')}.`);
    throw error;
  }
}

function checkPrefixes(terms: SearchTerm[]): SearchTerm[] {
  for (const term of terms) {
    if (term.kind === 'field' && term.match === 'prefix' && !TEXT_FIELDS.has(term.field) && !PREFIX_FIELDS.has(term.field)) {
      throw new QuerySyntaxError(`${term.field} takes whole values only, not a prefix with *.`);
    }
  }
  return terms;
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
  const everything = rawQ === '' || rawQ === '*:*';
  const fieldSyntax = !everything && hasFieldSyntax(rawQ);
  return {
    q: everything || fieldSyntax ? null : rawQ,
    qTerms: fieldSyntax ? parseQ(rawQ) : [],
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

/** The text search document of a dataset: its title, description and tags, and its organisation's name and slug. */
const DOCUMENT = sql`(d.search_vector || setweight(to_tsvector('english', o.name || ' ' || o.slug), 'D'))`;

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (character) => `\\${character}`);
}

/** Matches a text column (title or notes) as Solr matches a stemmed text field: by word, phrase or word prefix. */
function textMatch(document: RawBuilder<unknown>, value: string, match: TermMatch): RawBuilder<unknown> {
  if (match === 'prefix') {
    const tsquery = toPrefixQuery(value);
    return tsquery === null ? sql`false` : sql`${document} @@ to_tsquery('english', ${tsquery})`;
  }
  return sql`${document} @@ phraseto_tsquery('english', ${value})`;
}

/** Compares a whole value, or its start when the term ends in `*`. */
function valueMatch(column: RawBuilder<unknown>, value: string, match: TermMatch): RawBuilder<unknown> {
  return match === 'prefix' ? sql`${column} like ${`${escapeLike(value)}%`}` : sql`${column} = ${value}`;
}

function fieldCondition(term: FieldTerm): RawBuilder<unknown> {
  const { field, value, match } = term;
  switch (field) {
    case 'title':
      return textMatch(sql`to_tsvector('english', d.title)`, value, match);
    case 'notes':
      return textMatch(sql`to_tsvector('english', d.description)`, value, match);
    case 'name':
      return valueMatch(sql`d.slug`, value, match);
    case 'organization':
      return valueMatch(sql`o.slug`, value, match);
    case 'license_id':
      return valueMatch(sql`d.licence_id`, value, match);
    case 'tags':
      return sql`exists (select 1 from unnest(d.tags) as tag where ${valueMatch(sql`tag`, value, match)})`;
    case 'res_format':
      return sql`exists (select 1 from resources r where r.dataset_id = d.id and ${valueMatch(sql`upper(r.format)`, value.toUpperCase(), match)})`;
    case 'owner_org':
      return sql`(o.id::text = ${value} or o.slug = ${value})`;
    case 'id':
      return sql`d.id::text = ${value}`;
    case 'capacity':
      return value === 'private' ? sql`d.visibility = 'private'` : sql`d.visibility = 'open'`;
    default:
      // dataset_type: every Civic Exchange dataset is of CKAN type "dataset".
      return value === 'dataset' ? sql`true` : sql`false`;
  }
}

function termCondition(term: SearchTerm): RawBuilder<unknown> {
  let condition: RawBuilder<unknown>;
  if (term.kind === 'field') condition = fieldCondition(term);
  else if (term.phrase) condition = sql`${DOCUMENT} @@ phraseto_tsquery('english', ${term.text})`;
  else {
    const tsquery = toPrefixQuery(term.text);
    // A term of punctuation alone carries no words, so it adds no condition.
    condition = tsquery === null ? sql`true` : sql`${DOCUMENT} @@ to_tsquery('english', ${tsquery})`;
  }
  return term.negated ? sql`not (${condition})` : condition;
}

/** Picks the words that rank results: the plain words of `q`, or the words of its positive text terms. */
function rankingWords(query: PackageSearchQuery): string | null {
  if (query.q !== null) return query.q;
  const words = query.qTerms.filter((term): term is TextTerm => term.kind === 'text' && !term.negated).map((term) => term.text);
  return words.length > 0 ? words.join(' ') : null;
}

export interface PackageSearchPage {
  count: number;
  datasets: DatasetRecord[];
  facets: Record<string, Array<{ name: string; displayName: string; count: number }>>;
}

/** Runs the search in the caller's transaction; private datasets appear only with include_private and visibility. */
export async function searchPackages(trx: Kysely<DB>, query: PackageSearchQuery): Promise<PackageSearchPage> {
  const conditions: RawBuilder<unknown>[] = query.includePrivate ? [] : [sql`d.visibility = 'open'`];
  if (query.q !== null) {
    const tsquery = toPrefixQuery(query.q);
    conditions.push(tsquery === null ? sql`false` : sql`${DOCUMENT} @@ to_tsquery('english', ${tsquery})`);
  }
  conditions.push(...query.qTerms.map(termCondition), ...query.filters.map(termCondition));
  const where = conditions.length > 0 ? sql`${sql.join(conditions, sql` and `)}` : sql`true`;
  // Without search words every dataset scores the same, so sorting by score leaves the order to the next key.
  const words = rankingWords(query);
  const tsquery = words === null ? null : toPrefixQuery(words);
  const score = tsquery === null ? null : sql<number>`ts_rank(${DOCUMENT}, to_tsquery('english', ${tsquery}))`;

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
