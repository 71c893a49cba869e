import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import type { DB } from '../db/schema.ts';
import { isUuid } from './access.ts';

/**
 * Read queries behind the CKAN actions and the native API. Every query runs in a transaction scoped by
 * withOrganisation, so row-level security decides which datasets, resources and organisations come back.
 */

export interface DatasetRecord {
  id: string;
  slug: string;
  title: string;
  description: string;
  licence_id: string;
  tags: string[];
  theme: string | null;
  update_frequency: string | null;
  temporal_start: string | null;
  temporal_end: string | null;
  spatial: string | null;
  retention_months: number | null;
  visibility: 'open' | 'private';
  current_resource_id: string | null;
  created_at: Date;
  modified_at: Date;
  organisation_id: string;
  organisation_slug: string;
  organisation_name: string;
  organisation_description: string;
  organisation_created_at: Date;
}

export interface ResourceRecord {
  id: string;
  dataset_id: string;
  version: number;
  name: string;
  description: string;
  format: string;
  media_type: string;
  byte_size: number;
  sha256: string;
  row_count: number;
  created_at: Date;
}

export interface OrganisationRecord {
  id: string;
  slug: string;
  name: string;
  description: string;
  website: string | null;
  created_at: Date;
  /** Datasets of the organisation that the caller can see. */
  dataset_count: number;
}

type DatasetQuery = SelectQueryBuilder<DB & { d: DB['datasets']; o: DB['organisations'] }, 'd' | 'o', DatasetRecord>;

export function selectDatasets(trx: Kysely<DB>): DatasetQuery {
  return trx
    .selectFrom('datasets as d')
    .innerJoin('organisations as o', 'o.id', 'd.organisation_id')
    .select([
      'd.id', 'd.slug', 'd.title', 'd.description', 'd.licence_id', 'd.tags', 'd.theme', 'd.update_frequency',
      'd.temporal_start', 'd.temporal_end', 'd.spatial', 'd.retention_months', 'd.visibility', 'd.current_resource_id', 'd.created_at',
      'd.modified_at', 'd.organisation_id',
      'o.slug as organisation_slug', 'o.name as organisation_name', 'o.description as organisation_description',
      'o.created_at as organisation_created_at',
    ]) as unknown as DatasetQuery;
}

/**
 * Finds a visible dataset by slug, or by id when the reference is a UUID (CKAN accepts either). New slugs cannot have
 * the form of a UUID, and the id wins over a slug stored before that rule, so no dataset can take another's id.
 */
export function findDataset(trx: Kysely<DB>, reference: string): Promise<DatasetRecord | undefined> {
  const query = selectDatasets(trx);
  if (isUuid(reference)) {
    return query
      .where((eb) => eb.or([eb('d.slug', '=', reference), eb('d.id', '=', reference)]))
      .orderBy((eb) => eb('d.id', '=', reference), 'desc')
      .executeTakeFirst();
  }
  return query.where('d.slug', '=', reference).executeTakeFirst();
}

export async function listOpenDatasetSlugs(trx: Kysely<DB>, limit: number | null, offset: number): Promise<string[]> {
  let query = trx.selectFrom('datasets').select('slug').where('visibility', '=', 'open').orderBy('slug').offset(offset);
  if (limit !== null) query = query.limit(limit);
  return (await query.execute()).map((row) => row.slug);
}

const RESOURCE_COLUMNS = [
  'id', 'dataset_id', 'version', 'name', 'description', 'format', 'media_type', 'byte_size', 'sha256', 'row_count', 'created_at',
] as const;

/** Resources of the given datasets, newest version first within each dataset. */
export async function listResources(trx: Kysely<DB>, datasetIds: string[]): Promise<Map<string, ResourceRecord[]>> {
  const byDataset = new Map<string, ResourceRecord[]>(datasetIds.map((id) => [id, []]));
  if (datasetIds.length === 0) return byDataset;
  const rows = await trx.selectFrom('resources').select(RESOURCE_COLUMNS).where('dataset_id', 'in', datasetIds).orderBy('dataset_id').orderBy('version', 'desc').execute();
  for (const row of rows) byDataset.get(row.dataset_id)?.push({ ...row, byte_size: Number(row.byte_size), row_count: Number(row.row_count) });
  return byDataset;
}

export async function findResource(trx: Kysely<DB>, id: string): Promise<ResourceRecord | undefined> {
  if (!isUuid(id)) return undefined;
  const row = await trx.selectFrom('resources').select(RESOURCE_COLUMNS).where('id', '=', id).executeTakeFirst();
  return row ? { ...row, byte_size: Number(row.byte_size), row_count: Number(row.row_count) } : undefined;
}

function selectOrganisations(trx: Kysely<DB>) {
  return trx
    .selectFrom('organisations as o')
    .select(['o.id', 'o.slug', 'o.name', 'o.description', 'o.website', 'o.created_at'])
    .select(sql<number>`(select count(*) from datasets d where d.organisation_id = o.id)::int`.as('dataset_count'))
    .where('o.status', '=', 'active');
}

export type OrganisationSort = 'name' | 'title' | 'package_count';

export interface OrganisationListOptions {
  sort: OrganisationSort;
  descending: boolean;
  limit: number;
  offset: number;
  /** Text that the name, title or description must contain, ignoring case; absent or null for every organisation. */
  text?: string | null;
  /** Names (slugs) to keep; absent or null for every organisation. */
  names?: string[] | null;
}

/** Escapes `%`, `_` and the escape character itself, so `text` matches literally inside a LIKE pattern. */
export function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
}

export function listOrganisations(trx: Kysely<DB>, options: OrganisationListOptions): Promise<OrganisationRecord[]> {
  const direction = options.descending ? 'desc' : 'asc';
  const column = options.sort === 'name' ? 'o.slug' : options.sort === 'title' ? 'o.name' : sql`dataset_count`;
  let query = selectOrganisations(trx);
  if (options.text) {
    const pattern = likePattern(options.text);
    query = query.where(sql<boolean>`(o.slug ilike ${pattern} or o.name ilike ${pattern} or o.description ilike ${pattern})`);
  }
  if (options.names) query = options.names.length === 0 ? query.where(sql<boolean>`false`) : query.where('o.slug', 'in', options.names);
  return query.orderBy(column, direction).orderBy('o.slug').limit(options.limit).offset(options.offset).execute();
}

/**
 * Tags of the datasets the caller can see, sorted by name. Every term in `terms` must occur in the tag, ignoring case,
 * as in CKAN's tag_list with `query`.
 */
export async function listTags(trx: Kysely<DB>, terms: string[]): Promise<string[]> {
  const conditions = terms.map((term) => sql`tag ilike ${likePattern(term)}`);
  const where = conditions.length > 0 ? sql`where ${sql.join(conditions, sql` and `)}` : sql``;
  const { rows } = await sql<{ tag: string }>`select distinct tag from datasets d cross join lateral unnest(d.tags) as tag ${where} order by tag`.execute(trx);
  return rows.map((row) => row.tag);
}

export async function countOrganisations(trx: Kysely<DB>): Promise<number> {
  const row = await trx.selectFrom('organisations').select((eb) => eb.fn.countAll<string | number>().as('count')).where('status', '=', 'active').executeTakeFirst();
  return Number(row?.count ?? 0);
}

/** Finds an organisation by slug, or by id when the reference is a UUID. As in findDataset, the id wins over a slug. */
export function findOrganisation(trx: Kysely<DB>, reference: string): Promise<OrganisationRecord | undefined> {
  const query = selectOrganisations(trx);
  if (isUuid(reference)) {
    return query
      .where((eb) => eb.or([eb('o.slug', '=', reference), eb('o.id', '=', reference)]))
      .orderBy((eb) => eb('o.id', '=', reference), 'desc')
      .executeTakeFirst();
  }
  return query.where('o.slug', '=', reference).executeTakeFirst();
}
