import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Database } from '../../src/db/database.ts';
import { setPlatformScope } from '../../src/db/tenant.ts';
import type { FieldType, TableSchemaField } from '../../src/ingest/table-schema.ts';

/**
 * Builders for catalogue rows and filled datastore tables, written with plain SQL in the platform scope, so API tests
 * control every value (visibility, tags, row order) without going through the import pipeline.
 */

const SQL_TYPES: Record<FieldType, string> = {
  string: 'text',
  integer: 'bigint',
  number: 'numeric',
  boolean: 'boolean',
  date: 'date',
  datetime: 'timestamptz',
};

export interface BuiltOrganisation {
  id: string;
  slug: string;
  name: string;
}

export async function buildOrganisation(db: Database, values: { slug: string; name?: string; description?: string }): Promise<BuiltOrganisation> {
  return db.app.transaction().execute(async (trx) => {
    await setPlatformScope(trx);
    return trx
      .insertInto('organisations')
      .values({ slug: values.slug, name: values.name ?? values.slug, description: values.description ?? '' })
      .returning(['id', 'slug', 'name'])
      .executeTakeFirstOrThrow();
  });
}

export interface DatasetValues {
  organisation: BuiltOrganisation;
  slug: string;
  title?: string;
  description?: string;
  visibility?: 'open' | 'private';
  tags?: string[];
  licenceId?: string;
  updateFrequency?: string;
  temporalStart?: string;
  temporalEnd?: string;
  spatial?: string;
  /** Sets both creation and modification times, for sort tests. */
  modifiedAt?: string;
}

export interface BuiltDataset {
  id: string;
  slug: string;
  organisationId: string;
}

export async function buildDataset(db: Database, values: DatasetValues): Promise<BuiltDataset> {
  return db.app.transaction().execute(async (trx) => {
    await setPlatformScope(trx);
    const row = await trx
      .insertInto('datasets')
      .values({
        organisation_id: values.organisation.id,
        slug: values.slug,
        title: values.title ?? values.slug,
        description: values.description ?? '',
        visibility: values.visibility ?? 'open',
        tags: values.tags ?? [],
        licence_id: values.licenceId ?? 'OGL-UK-3.0',
        update_frequency: values.updateFrequency ?? null,
        temporal_start: values.temporalStart ?? null,
        temporal_end: values.temporalEnd ?? null,
        spatial: values.spatial ?? null,
        ...(values.modifiedAt ? { created_at: values.modifiedAt, modified_at: values.modifiedAt } : {}),
      })
      .returning(['id', 'slug'])
      .executeTakeFirstOrThrow();
    return { id: row.id, slug: row.slug, organisationId: values.organisation.id };
  });
}

export interface ResourceValues {
  dataset: BuiltDataset;
  fields: TableSchemaField[];
  /** Rows in source order, one value per field; `_id` is numbered from 1. */
  rows: unknown[][];
  version?: number;
  name?: string;
  format?: string;
  /** Whether the dataset's current resource becomes this one (default true). */
  makeCurrent?: boolean;
}

export interface BuiltResource {
  id: string;
  tableName: string;
}

/** Creates a typed datastore table, fills it, and records it as a resource of the dataset. */
export async function buildResource(db: Database, values: ResourceValues): Promise<BuiltResource> {
  const tableName = `t_${randomBytes(8).toString('hex')}`;
  await createDatastoreTable(db, tableName, values.fields);
  await fillDatastoreTable(db, tableName, values.fields, values.rows);
  return recordResource(db, { ...values, tableName, rowCount: values.rows.length });
}

export async function createDatastoreTable(db: Database, tableName: string, fields: TableSchemaField[]): Promise<void> {
  const columns = fields.map((field) => sql`${sql.id(field.name)} ${sql.raw(SQL_TYPES[field.type])}`);
  await sql`create table ${sql.id('datastore', tableName)} (_id bigint primary key, ${sql.join(columns)})`.execute(db.app);
}

export async function fillDatastoreTable(db: Database, tableName: string, fields: TableSchemaField[], rows: unknown[][]): Promise<void> {
  if (rows.length === 0) return;
  const records = rows.map((row, index) => {
    const record: Record<string, unknown> = { _id: index + 1 };
    fields.forEach((field, column) => (record[field.name] = row[column] ?? null));
    return record;
  });
  const definitions = [sql`_id bigint`, ...fields.map((field) => sql`${sql.id(field.name)} ${sql.raw(SQL_TYPES[field.type])}`)];
  const names = [sql.id('_id'), ...fields.map((field) => sql.id(field.name))];
  await sql`insert into ${sql.id('datastore', tableName)} (${sql.join(names)})
    select * from jsonb_to_recordset(${JSON.stringify(records)}::jsonb) as source(${sql.join(definitions)})`.execute(db.app);
}

export async function recordResource(
  db: Database,
  values: Omit<ResourceValues, 'rows'> & { tableName: string; rowCount: number },
): Promise<BuiltResource> {
  const { dataset } = values;
  return db.app.transaction().execute(async (trx) => {
    await setPlatformScope(trx);
    const previous = await trx.selectFrom('resources').select((eb) => eb.fn.max('version').as('version')).where('dataset_id', '=', dataset.id).executeTakeFirst();
    const version = values.version ?? Number(previous?.version ?? 0) + 1;
    const schema = { fields: values.fields };
    const row = await trx
      .insertInto('resources')
      .values({
        organisation_id: dataset.organisationId,
        dataset_id: dataset.id,
        version,
        name: values.name ?? `${dataset.slug} version ${version}`,
        format: values.format ?? 'CSV',
        media_type: 'text/csv',
        original_filename: `${dataset.slug}.csv`,
        byte_size: 1000 + values.rowCount,
        sha256: randomBytes(32).toString('hex'),
        table_name: values.tableName,
        row_count: values.rowCount,
        table_schema: JSON.stringify(schema),
        load_report: JSON.stringify({ rows: values.rowCount, schema, warnings: [] }),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    if (values.makeCurrent ?? true) {
      await trx.updateTable('datasets').set({ current_resource_id: row.id }).where('id', '=', dataset.id).execute();
    }
    return { id: row.id, tableName: values.tableName };
  });
}

/**
 * A small open-data catalogue shared by the API suites: Thurrock Council with an open spending dataset (two
 * versions) and a private one, and a charity with one open dataset.
 */
export interface Catalogue {
  council: BuiltOrganisation;
  charity: BuiltOrganisation;
  spending: BuiltDataset;
  spendingV1: BuiltResource;
  spendingV2: BuiltResource;
  secret: BuiltDataset;
  secretResource: BuiltResource;
  foodbanks: BuiltDataset;
  foodbanksResource: BuiltResource;
}

export const SPENDING_FIELDS: TableSchemaField[] = [
  { name: 'supplier', title: 'Supplier Name', type: 'string' },
  { name: 'amount', title: 'Amount (£)', type: 'number' },
  { name: 'invoices', title: 'Invoices', type: 'integer' },
  { name: 'paid_on', title: 'Date Paid', type: 'date' },
  { name: 'approved', title: 'Approved?', type: 'boolean' },
  { name: 'recorded_at', title: 'Recorded', type: 'datetime' },
];

const SUPPLIERS = ['Acme Roads Ltd', 'Basildon Catering', 'Grays Cleaning Services', 'Tilbury Print', 'Essex Care Partnership'];

/** Spending rows: row n pays supplier n mod 5 an amount of n × 10.5, on a day in January 2026. */
export function spendingRows(count: number): unknown[][] {
  return Array.from({ length: count }, (_, index) => {
    const n = index + 1;
    const day = String((n % 28) + 1).padStart(2, '0');
    return [SUPPLIERS[n % SUPPLIERS.length], n * 10.5, n % 7, `2026-01-${day}`, n % 2 === 0, `2026-01-${day}T09:30:00Z`];
  });
}

export async function buildCatalogue(db: Database): Promise<Catalogue> {
  const council = await buildOrganisation(db, { slug: 'thurrock-council', name: 'Thurrock Council', description: 'Unitary authority in Essex' });
  const charity = await buildOrganisation(db, { slug: 'grays-foodbank', name: 'Grays Foodbank' });
  const spending = await buildDataset(db, {
    organisation: council,
    slug: 'spending-over-500',
    title: 'Spending over £500',
    description: 'Payments to suppliers over £500 made by Thurrock Council.',
    tags: ['finance', 'transparency'],
    updateFrequency: 'monthly',
    temporalStart: '2026-01-01',
    temporalEnd: '2026-01-31',
    spatial: 'E06000034',
    modifiedAt: '2026-02-01T10:00:00Z',
  });
  const spendingV1 = await buildResource(db, { dataset: spending, fields: SPENDING_FIELDS, rows: spendingRows(10) });
  const spendingV2 = await buildResource(db, { dataset: spending, fields: SPENDING_FIELDS, rows: spendingRows(250) });
  const secret = await buildDataset(db, {
    organisation: council,
    slug: 'safeguarding-referrals',
    title: 'Safeguarding referrals',
    description: 'Private referral counts for finance review.',
    visibility: 'private',
    tags: ['finance', 'social-care'],
    modifiedAt: '2026-03-01T10:00:00Z',
  });
  const secretResource = await buildResource(db, {
    dataset: secret,
    fields: [{ name: 'ward', title: 'Ward', type: 'string' }, { name: 'referrals', title: 'Referrals', type: 'integer' }],
    rows: [['Grays Riverside', 12], ['Tilbury St Chads', 7]],
    format: 'XLSX',
  });
  const foodbanks = await buildDataset(db, {
    organisation: charity,
    slug: 'foodbank-parcels',
    title: 'Foodbank parcels by ward',
    description: 'Parcels handed out each month.',
    tags: ['food'],
    licenceId: 'CC-BY-4.0',
    modifiedAt: '2026-01-15T10:00:00Z',
  });
  const foodbanksResource = await buildResource(db, {
    dataset: foodbanks,
    fields: [{ name: 'ward', title: 'Ward name', type: 'string' }, { name: 'parcels', title: 'Parcels', type: 'integer' }],
    rows: [['Grays Riverside', 120], ['Chadwell St Mary', 80], ['Tilbury St Chads', null]],
  });
  return { council, charity, spending, spendingV1, spendingV2, secret, secretResource, foodbanks, foodbanksResource };
}
