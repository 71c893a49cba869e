import { sql, type Insertable, type Kysely, type Selectable } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { DatasetsTable, OrganisationsTable, ResourcesTable } from './catalogue.tables.ts';
import type { ListDatasetsOptions, Visibility } from './catalogue.types.ts';

/**
 * Data access for organisations, datasets, resources and resource files. Every function runs on the transaction it is
 * given, so row-level security sees the organisation or platform scope the caller set on it.
 */
export type OrganisationRow = Selectable<OrganisationsTable>;
export type DatasetRow = Selectable<DatasetsTable> & { organisation_slug: string; organisation_name: string };
export type ResourceRow = Selectable<ResourcesTable>;

export interface NewDataset {
  organisation_id: string;
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
  retention_months?: number | null;
  visibility: Visibility;
}

/** A resource row to insert; columns with database defaults (such as `created_at`) may be left out. */
export type NewResource = Insertable<ResourcesTable> & { id: string };

export function findOrganisationBySlug(db: Kysely<DB>, slug: string): Promise<OrganisationRow | undefined> {
  return db.selectFrom('organisations').selectAll().where('slug', '=', slug).executeTakeFirst();
}

export function findOrganisationById(db: Kysely<DB>, id: string): Promise<OrganisationRow | undefined> {
  return db.selectFrom('organisations').selectAll().where('id', '=', id).executeTakeFirst();
}

export function listOrganisations(db: Kysely<DB>): Promise<OrganisationRow[]> {
  return db.selectFrom('organisations').selectAll().orderBy('name').orderBy('slug').execute();
}

export function insertOrganisation(db: Kysely<DB>, values: { slug: string; name: string; kind?: string; description?: string; website?: string | null }): Promise<OrganisationRow> {
  return db.insertInto('organisations').values(values).returningAll().executeTakeFirstOrThrow();
}

/** Inserts an organisation, or returns undefined when one with the slug exists, waiting for a concurrent insert of it. */
export function insertOrganisationUnlessTaken(db: Kysely<DB>, values: { slug: string; name: string }): Promise<OrganisationRow | undefined> {
  return db
    .insertInto('organisations')
    .values(values)
    .onConflict((conflict) => conflict.column('slug').doNothing())
    .returningAll()
    .executeTakeFirst();
}

function datasetQuery(db: Kysely<DB>) {
  return db
    .selectFrom('datasets')
    .innerJoin('organisations', 'organisations.id', 'datasets.organisation_id')
    .selectAll('datasets')
    .select(['organisations.slug as organisation_slug', 'organisations.name as organisation_name']);
}

export function findDatasetBySlug(db: Kysely<DB>, slug: string): Promise<DatasetRow | undefined> {
  return datasetQuery(db).where('datasets.slug', '=', slug).executeTakeFirst();
}

export function findDatasetById(db: Kysely<DB>, id: string): Promise<DatasetRow | undefined> {
  return datasetQuery(db).where('datasets.id', '=', id).executeTakeFirst();
}

/** Locks the dataset row until the transaction ends, so two imports of the same dataset number their versions in turn. */
export async function lockDataset(db: Kysely<DB>, id: string): Promise<void> {
  await db.selectFrom('datasets').select('id').where('id', '=', id).forUpdate().execute();
}

export async function insertDataset(db: Kysely<DB>, values: NewDataset): Promise<DatasetRow> {
  const { id } = await db.insertInto('datasets').values(values).returning('id').executeTakeFirstOrThrow();
  const row = await findDatasetById(db, id);
  if (!row) throw new Error(`Dataset ${id} was inserted but cannot be read back in the same transaction.`);
  return row;
}

export async function updateDataset(db: Kysely<DB>, id: string, changes: Partial<NewDataset> & { current_resource_id?: string | null }): Promise<void> {
  await db
    .updateTable('datasets')
    .set({ ...changes, modified_at: sql<Date>`now()` })
    .where('id', '=', id)
    .execute();
}

function filteredDatasets(db: Kysely<DB>, options: ListDatasetsOptions) {
  let query = datasetQuery(db);
  if (options.organisationSlug !== undefined) query = query.where('organisations.slug', '=', options.organisationSlug);
  if (options.visibility !== undefined) query = query.where('datasets.visibility', '=', options.visibility);
  if (options.tags !== undefined && options.tags.length > 0) query = query.where(sql<boolean>`datasets.tags @> ${sql.val(options.tags)}::text[]`);
  if (options.query !== undefined && options.query.trim() !== '') {
    query = query.where(sql<boolean>`datasets.search_vector @@ websearch_to_tsquery('english', ${options.query})`);
  }
  return query;
}

export async function countDatasets(db: Kysely<DB>, options: ListDatasetsOptions): Promise<number> {
  const row = await filteredDatasets(db, options)
    .clearSelect()
    .select((eb) => eb.fn.countAll<number>().as('total'))
    .executeTakeFirstOrThrow();
  return Number(row.total);
}

export function listDatasets(db: Kysely<DB>, options: ListDatasetsOptions & { limit: number; offset: number }): Promise<DatasetRow[]> {
  let query = filteredDatasets(db, options);
  const searching = options.query !== undefined && options.query.trim() !== '';
  if (options.order === 'relevance' && searching) {
    query = query.orderBy(sql`ts_rank(datasets.search_vector, websearch_to_tsquery('english', ${options.query}))`, 'desc');
  } else if (options.order === 'modified') {
    query = query.orderBy('datasets.modified_at', 'desc');
  }
  return query.orderBy('datasets.title').orderBy('datasets.slug').limit(options.limit).offset(options.offset).execute();
}

export function listResources(db: Kysely<DB>, datasetId: string): Promise<ResourceRow[]> {
  return db.selectFrom('resources').selectAll().where('dataset_id', '=', datasetId).orderBy('version', 'desc').execute();
}

export function findResourceById(db: Kysely<DB>, id: string): Promise<ResourceRow | undefined> {
  return db.selectFrom('resources').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function nextVersion(db: Kysely<DB>, datasetId: string): Promise<number> {
  const row = await db
    .selectFrom('resources')
    .select((eb) => eb.fn.max('version').as('latest'))
    .where('dataset_id', '=', datasetId)
    .executeTakeFirst();
  return Number(row?.latest ?? 0) + 1;
}

export async function insertResource(db: Kysely<DB>, values: NewResource): Promise<void> {
  await db.insertInto('resources').values(values).execute();
}

export async function insertResourceFile(db: Kysely<DB>, values: { resource_id: string; organisation_id: string; content: Buffer }): Promise<void> {
  await db.insertInto('resource_files').values(values).execute();
}

export function findResourceFile(db: Kysely<DB>, resourceId: string): Promise<{ content: Buffer } | undefined> {
  return db.selectFrom('resource_files').select('content').where('resource_id', '=', resourceId).executeTakeFirst();
}
