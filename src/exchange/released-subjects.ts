import { sql, type Kysely } from 'kysely';
import { compileRowFilter } from '../agreements/row-filter.ts';
import { storedTerms, type DatasetTerms } from '../agreements/agreement.terms.ts';
import type { SubjectIdentifier } from '../audit/subject-index.ts';
import type { DB } from '../db/schema.ts';
import type { TableSchema } from '../ingest/table-schema.ts';
import { subjectOf } from './release-rows.ts';

/** A disclosure whose subjects wait to be indexed, with the exact rows it released. */
export interface QueuedDisclosure {
  id: string;
  organisationId: string;
  recipientOrganisationId: string;
  agreementId: string;
  agreementVersion: number;
  datasetId: string;
  resourceId: string;
  rowCount: number;
  afterRowId: number;
  lastRowId: number;
}

/** Terms and dataset versions already read in one indexing run, keyed by agreement version or resource id. */
export type ReleaseTermsCache = Map<string, DatasetTerms | null | { tableName: string; schema: TableSchema }>;

/**
 * Reads back the subject identifiers of the rows a disclosure released: the same dataset version, `_id` range and
 * agreement-version row filter as the release, which reads rows the same way (see RowReader). Dataset versions
 * never change after loading, so the rows are the ones released. Throws when the version is gone or the row count
 * differs from the one recorded, because the index would then not match the disclosure.
 */
export async function readReleasedSubjects(trx: Kysely<DB>, disclosure: QueuedDisclosure, cache: ReleaseTermsCache): Promise<SubjectIdentifier[]> {
  const terms = await datasetTerms(trx, disclosure, cache);
  if (!terms?.subject) return [];
  const resource = await resourceTable(trx, disclosure, cache);
  const conditions = [sql<boolean>`${sql.id('_id')} > ${disclosure.afterRowId}`, sql<boolean>`${sql.id('_id')} <= ${disclosure.lastRowId}`];
  if (terms.rowFilter) conditions.push(compileRowFilter(terms.rowFilter, resource.schema));
  const { rows } = await sql<{ subject: unknown }>`
    select ${sql.id(terms.subject.field)} as subject from ${sql.id('datastore', resource.tableName)}
    where ${sql.join(conditions, sql` and `)}`.execute(trx);
  if (rows.length !== disclosure.rowCount) {
    throw new Error(`Disclosure ${disclosure.id} recorded ${disclosure.rowCount} rows, but its row range now selects ${rows.length}, so its subjects were not indexed.`);
  }
  const subjects: SubjectIdentifier[] = [];
  for (const row of rows) {
    const subject = subjectOf(row.subject, terms.subject.kind);
    if (subject !== null) subjects.push(subject);
  }
  return subjects;
}

async function datasetTerms(trx: Kysely<DB>, disclosure: QueuedDisclosure, cache: ReleaseTermsCache): Promise<DatasetTerms | null> {
  const key = `${disclosure.agreementId}:${disclosure.agreementVersion}:${disclosure.datasetId}`;
  if (cache.has(key)) return cache.get(key) as DatasetTerms | null;
  const row = await trx
    .selectFrom('agreement_versions')
    .select('terms')
    .where('agreement_id', '=', disclosure.agreementId)
    .where('version', '=', disclosure.agreementVersion)
    .executeTakeFirst();
  if (!row) throw new Error(`Version ${disclosure.agreementVersion} of agreement ${disclosure.agreementId} of disclosure ${disclosure.id} was not found.`);
  const terms = storedTerms(row.terms).datasets.find((dataset) => dataset.datasetId === disclosure.datasetId) ?? null;
  cache.set(key, terms);
  return terms;
}

async function resourceTable(trx: Kysely<DB>, disclosure: QueuedDisclosure, cache: ReleaseTermsCache): Promise<{ tableName: string; schema: TableSchema }> {
  const cached = cache.get(disclosure.resourceId) as { tableName: string; schema: TableSchema } | undefined;
  if (cached) return cached;
  const row = await trx.selectFrom('resources').select(['table_name', 'table_schema']).where('id', '=', disclosure.resourceId).executeTakeFirst();
  if (!row) throw new Error(`Dataset version ${disclosure.resourceId} of disclosure ${disclosure.id} no longer exists, so its subjects cannot be read back.`);
  const table = { tableName: row.table_name, schema: row.table_schema as TableSchema };
  cache.set(disclosure.resourceId, table);
  return table;
}
