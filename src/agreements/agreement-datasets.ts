import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { FieldError } from '../errors.ts';
import type { TableSchema } from '../ingest/table-schema.ts';
import type { AgreementTerms, DatasetTerms } from './agreement.terms.ts';
import { checkRowFilter } from './row-filter.ts';

/** Checks one dataset's terms against the Table Schema of a dataset version: every named field must exist. */
export function checkDatasetTerms(dataset: DatasetTerms, schema: TableSchema, path: string): FieldError[] {
  const names = new Set(schema.fields.map((field) => field.name));
  const available = [...names].join(', ');
  const errors: FieldError[] = [];
  dataset.fields.forEach((field, index) => {
    if (!names.has(field)) errors.push({ field: `${path}.fields[${index}]`, message: `The dataset has no field "${field}". Use one of: ${available}` });
  });
  if (dataset.subject && !names.has(dataset.subject.field)) {
    errors.push({ field: `${path}.subject.field`, message: `The dataset has no field "${dataset.subject.field}" to identify the data subject. Use one of: ${available}` });
  }
  if (dataset.rowFilter) errors.push(...checkRowFilter(dataset.rowFilter, schema, `${path}.row_filter`));
  return errors;
}

/**
 * Checks that every dataset in the terms belongs to the provider and, where the dataset has data, that the fields,
 * subject and row filter match its current version. Runs in the provider's scope. A dataset with no version yet (such
 * as a partner upload agreed before the first file) is checked at each release instead.
 */
export async function checkTermsDatasets(trx: Kysely<DB>, providerId: string, terms: AgreementTerms): Promise<FieldError[]> {
  const errors: FieldError[] = [];
  for (const [index, dataset] of terms.datasets.entries()) {
    const path = `datasets[${index}]`;
    const row = await trx
      .selectFrom('datasets as d')
      .leftJoin('resources as r', 'r.id', 'd.current_resource_id')
      .select(['d.id', 'd.organisation_id', 'r.table_schema'])
      .where('d.id', '=', dataset.datasetId)
      .where('d.organisation_id', '=', providerId)
      .executeTakeFirst();
    if (!row) {
      errors.push({ field: `${path}.dataset_id`, message: `No dataset ${dataset.datasetId} belongs to the provider organisation. Choose one of its datasets` });
      continue;
    }
    if (row.table_schema) errors.push(...checkDatasetTerms(dataset, row.table_schema as TableSchema, path));
  }
  return errors;
}

/** Ids and titles of the datasets an organisation owns, for the drafting form. */
export async function listOwnDatasets(trx: Kysely<DB>, organisationId: string): Promise<Array<{ id: string; slug: string; title: string; fields: string[] }>> {
  const rows = await trx
    .selectFrom('datasets as d')
    .leftJoin('resources as r', 'r.id', 'd.current_resource_id')
    .select(['d.id', 'd.slug', 'd.title', sql<unknown>`r.table_schema`.as('table_schema')])
    .where('d.organisation_id', '=', organisationId)
    .orderBy('d.title')
    .execute();
  return rows.map((row) => ({
    id: row.id,
    slug: row.slug,
    title: row.title,
    fields: row.table_schema ? (row.table_schema as TableSchema).fields.map((field) => field.name) : [],
  }));
}
