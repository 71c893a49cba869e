import { createHash, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Database } from '../db/database.ts';
import { setPlatformScope } from '../db/tenant.ts';
import { createTableSql, datastoreTableName } from '../catalogue/datastore-table.ts';
import { columnSqlType } from '../ingest/column-names.ts';
import type { TableSchema } from '../ingest/table-schema.ts';

/**
 * Builds catalogue rows for portal tests without the import pipeline: an organisation, a dataset and versions whose
 * datastore tables hold exactly the rows given, so tests can assert exact pages, sums and downloads.
 */
export interface TestVersion {
  schema: TableSchema;
  rows: unknown[][];
  /** Stored as the original file; a CSV of the rows when absent. */
  original?: { filename: string; content: Buffer };
  warnings?: Array<{ code: string; message: string; line?: number; column?: string }>;
  /** Extra load-report fields, such as `personal_data`. */
  report?: Record<string, unknown>;
  createdAt?: string;
}

export interface TestDataset {
  organisation: { slug: string; name: string };
  slug: string;
  title: string;
  description?: string;
  visibility?: 'open' | 'private';
  tags?: string[];
  theme?: string | null;
  licenceId?: string;
  updateFrequency?: string | null;
  temporalStart?: string | null;
  temporalEnd?: string | null;
  spatial?: string | null;
  modifiedAt?: string;
  versions: TestVersion[];
}

function csvOf(schema: TableSchema, rows: unknown[][]): string {
  const cell = (value: unknown) => {
    const text = value === null || value === undefined ? '' : String(value);
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return [schema.fields.map((field) => cell(field.title)), ...rows.map((row) => row.map(cell))].map((line) => line.join(',')).join('\r\n') + '\r\n';
}

/** Inserts a dataset with its versions (oldest first) in one platform-scope transaction; returns the resource ids. */
export async function insertTestDataset(db: Database, input: TestDataset): Promise<{ datasetId: string; resourceIds: string[] }> {
  return db.app.transaction().execute(async (trx) => {
    await setPlatformScope(trx);
    let organisation = await trx.selectFrom('organisations').select('id').where('slug', '=', input.organisation.slug).executeTakeFirst();
    organisation ??= await trx.insertInto('organisations').values({ slug: input.organisation.slug, name: input.organisation.name }).returning('id').executeTakeFirstOrThrow();
    const dataset = await trx
      .insertInto('datasets')
      .values({
        organisation_id: organisation.id,
        slug: input.slug,
        title: input.title,
        description: input.description ?? '',
        visibility: input.visibility ?? 'open',
        tags: input.tags ?? [],
        theme: input.theme ?? null,
        licence_id: input.licenceId ?? 'OGL-UK-3.0',
        update_frequency: input.updateFrequency ?? null,
        temporal_start: input.temporalStart ?? null,
        temporal_end: input.temporalEnd ?? null,
        spatial: input.spatial ?? null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();

    const resourceIds: string[] = [];
    for (const [index, version] of input.versions.entries()) {
      const id = randomUUID();
      const tableName = datastoreTableName(id);
      await sql.raw(createTableSql(tableName, version.schema, columnSqlType)).execute(trx);
      for (const [position, row] of version.rows.entries()) {
        const values = [sql`${position + 1}`, ...row.map((value) => sql`${value}`)];
        const columns = ['_id', ...version.schema.fields.map((field) => field.name)];
        await sql`insert into ${sql.id('datastore', tableName)} (${sql.join(columns.map((column) => sql.id(column)))}) values (${sql.join(values)})`.execute(trx);
      }
      const original = version.original ?? { filename: `${input.slug}.csv`, content: Buffer.from(csvOf(version.schema, version.rows), 'utf8') };
      const report = {
        dataset: input.slug,
        organisation: input.organisation.slug,
        title: input.title,
        resource_id: id,
        version: index + 1,
        visibility: input.visibility ?? 'open',
        rows: version.rows.length,
        file: original.filename,
        format: 'csv',
        encoding: 'UTF-8',
        delimiter: ',',
        header_row: 1,
        sheet: null,
        title_metadata: null,
        schema: version.schema,
        warnings: version.warnings ?? [],
        ...version.report,
      };
      await trx
        .insertInto('resources')
        .values({
          id,
          organisation_id: organisation.id,
          dataset_id: dataset.id,
          version: index + 1,
          name: input.title,
          format: 'CSV',
          media_type: 'text/csv',
          original_filename: original.filename,
          byte_size: original.content.length,
          sha256: createHash('sha256').update(original.content).digest('hex'),
          table_name: tableName,
          row_count: version.rows.length,
          table_schema: JSON.stringify(version.schema),
          load_report: JSON.stringify(report),
          ...(version.createdAt ? { created_at: version.createdAt } : {}),
        })
        .execute();
      await trx.insertInto('resource_files').values({ resource_id: id, organisation_id: organisation.id, content: original.content }).execute();
      resourceIds.push(id);
    }
    await trx
      .updateTable('datasets')
      .set({ current_resource_id: resourceIds[resourceIds.length - 1] ?? null, modified_at: input.modifiedAt ?? sql<Date>`now()` })
      .where('id', '=', dataset.id)
      .execute();
    return { datasetId: dataset.id, resourceIds };
  });
}

/** A small open spending dataset with two versions, a private dataset and an assets dataset in two organisations. */
export async function insertPortalCatalogue(db: Database): Promise<{ spending: string[]; assets: string[]; secret: string[] }> {
  const spendingSchema: TableSchema = {
    fields: [
      { name: 'payment_date', title: 'Payment Date', type: 'date' },
      { name: 'supplier', title: 'Supplier Name', type: 'string', description: 'Who was paid' },
      { name: 'service', title: 'Service Area', type: 'string' },
      { name: 'amount', title: 'Amount (£)', type: 'number' },
    ],
  };
  const spendingRows: unknown[][] = [];
  const suppliers = ['Acme Roads Ltd', 'Bright Care Services', 'Café "Riverside", Grays', 'Dale & Sons'];
  const services = ['Highways', 'Adult Social Care', 'Libraries'];
  for (let index = 0; index < 60; index += 1) {
    const month = String((index % 3) + 1).padStart(2, '0');
    const day = String((index % 27) + 1).padStart(2, '0');
    spendingRows.push([`2026-${month}-${day}`, suppliers[index % 4], services[index % 3], 100 + index * 10.5]);
  }
  const spending = await insertTestDataset(db, {
    organisation: { slug: 'thurrock-council', name: 'Thurrock Council' },
    slug: 'spending-over-500',
    title: 'Spending over £500',
    description: 'Payments to suppliers of more than £500, published monthly under the Local Government Transparency Code.',
    tags: ['spending', 'transparency'],
    theme: 'Government spending',
    updateFrequency: 'monthly',
    temporalStart: '2026-01-01',
    temporalEnd: '2026-03-31',
    spatial: 'Thurrock',
    modifiedAt: '2026-04-02T09:00:00Z',
    versions: [
      { schema: spendingSchema, rows: spendingRows.slice(0, 20), createdAt: '2026-02-01T09:00:00Z' },
      {
        schema: spendingSchema,
        rows: spendingRows,
        createdAt: '2026-04-02T09:00:00Z',
        warnings: [{ code: 'totals_row_excluded', message: 'Line 62 looks like a totals row and was not loaded.', line: 62 }],
      },
    ],
  });
  const assets = await insertTestDataset(db, {
    organisation: { slug: 'thurrock-council', name: 'Thurrock Council' },
    slug: 'land-and-building-assets',
    title: 'Land and building assets',
    description: 'Land and buildings the council owns or leases.',
    tags: ['assets', 'property'],
    theme: 'Housing and property',
    licenceId: 'CC-BY-4.0',
    modifiedAt: '2026-01-15T09:00:00Z',
    versions: [
      {
        schema: {
          fields: [
            { name: 'property_name', title: 'PropertyName', type: 'string' },
            { name: 'post_town', title: 'PostTown', type: 'string' },
            { name: 'building_size', title: 'BuildingSize', type: 'number' },
            { name: 'freehold', title: 'Freehold', type: 'boolean' },
          ],
        },
        rows: [
          ['Grays Town Hall', 'Grays', 415.05, true],
          ['Tilbury Hub', 'Tilbury', 872.8, false],
          ['Stanford Library', 'Stanford-le-Hope', null, true],
        ],
      },
    ],
  });
  const secret = await insertTestDataset(db, {
    organisation: { slug: 'essex-police', name: 'Essex Police' },
    slug: 'incident-log-restricted',
    title: 'Restricted incident log',
    description: 'Confidential partner data.',
    visibility: 'private',
    tags: ['spending', 'restricted'],
    theme: 'Government spending',
    versions: [{ schema: { fields: [{ name: 'incident', title: 'Incident', type: 'string' }] }, rows: [['secret incident']] }],
  });
  return { spending: spending.resourceIds, assets: assets.resourceIds, secret: secret.resourceIds };
}
