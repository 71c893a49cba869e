import { createHash, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import * as catalogue from '../catalogue/catalogue.repository.ts';
import type { LoadReport } from '../catalogue/catalogue.types.ts';
import { createIndexSql, createTableSql, datastoreTableName, filterIndexColumns, qualifiedTableName, textLengthsSql } from '../catalogue/datastore-table.ts';
import type { RawConnection } from '../db/connection.ts';
import type { DB } from '../db/schema.ts';
import type { TableSchema, TableSchemaField } from '../ingest/table-schema.ts';
import { RowFixer, describeFix, type PersonalDataFix } from '../privacy/redaction.ts';
import { PersonalDataScanner, type PersonalDataFinding } from '../privacy/scanner.ts';
import { formatCsv } from './csv.ts';
import { insertRows, readRowsAsText } from './publication.repository.ts';

export interface FixedVersion {
  resourceId: string;
  version: number;
  rows: number;
  personalData: PersonalDataFinding[];
  fixes: string[];
}

/** Lets a fix name a column by its header ("Supplier Name") or by its column id ("supplier_name"). */
export function resolveFixColumns(schema: TableSchema, fixes: readonly PersonalDataFix[]): PersonalDataFix[] {
  return fixes.map((fix) => {
    const byName = schema.fields.find((field) => field.name === fix.column && field.title !== fix.column);
    return byName && !schema.fields.some((field) => field.title === fix.column) ? { ...fix, column: byName.title } : fix;
  });
}

/** The Table Schema after the fixes: dropped columns go, redacted and generalised ones change type. */
function fixedSchema(schema: TableSchema, fixes: readonly PersonalDataFix[]): TableSchema {
  const fields: TableSchemaField[] = [];
  for (const field of schema.fields) {
    const own = fixes.filter((fix) => fix.column === field.title);
    if (own.some((fix) => fix.type === 'drop')) continue;
    if (own.some((fix) => fix.type === 'generalise_dob')) {
      fields.push({ name: field.name, title: field.title, type: 'integer', description: 'Year of birth' });
    } else if (own.some((fix) => fix.type === 'redact' || fix.type === 'generalise_postcode') && field.type !== 'string') {
      fields.push({ name: field.name, title: field.title, type: 'string' });
    } else {
      fields.push(field);
    }
  }
  return { ...schema, fields };
}

/**
 * Writes a new version of a dataset with the fixes applied, inside the caller's transaction: a new datastore table,
 * its filter indexes, the resource row with a load report rescanned for personal data, the fixed rows as a CSV file,
 * and the dataset pointed at it. The previous version is left as it was.
 */
export async function writeFixedVersion(
  raw: RawConnection,
  kysely: Kysely<DB>,
  input: {
    datasetId: string;
    organisationId: string;
    resource: catalogue.ResourceRow;
    fixes: readonly PersonalDataFix[];
    columnSqlType: (field: TableSchemaField) => string;
  },
): Promise<FixedVersion> {
  const schema = input.resource.table_schema as TableSchema;
  const fixes = resolveFixColumns(schema, input.fixes);
  const fixer = new RowFixer(schema.fields.map((field) => field.title), fixes);
  const newSchema = fixedSchema(schema, fixes);

  const resourceId = randomUUID();
  const tableName = datastoreTableName(resourceId);
  await raw.query(createTableSql(tableName, newSchema, input.columnSqlType));

  const scanner = new PersonalDataScanner(fixer.outputHeaders);
  const records: Array<Array<string | null>> = [fixer.outputHeaders];
  let rows = 0;
  for await (const batch of readRowsAsText(raw, qualifiedTableName(input.resource.table_name), schema)) {
    const fixed = batch.map((row) => ({ id: row.id, values: fixer.fix(row.values) }));
    await insertRows(raw, tableName, newSchema, fixed);
    for (const row of fixed) {
      scanner.scanRow(row.id, row.values);
      records.push(row.values);
    }
    rows += fixed.length;
  }

  const lengthsSql = textLengthsSql(tableName, newSchema);
  const lengths = new Map<number, number>();
  if (lengthsSql !== null) {
    const { rows: measured } = await raw.query<Record<string, number | string | null>>(lengthsSql);
    for (const [key, value] of Object.entries(measured[0] ?? {})) if (value !== null) lengths.set(Number(key.slice(1)), Number(value));
  }
  for (const statement of createIndexSql(tableName, filterIndexColumns(newSchema, lengths))) await raw.query(statement);

  // NOTE: the CSV of the fixed rows is built in memory, which suits spending files of up to a few hundred thousand rows.
  const content = Buffer.from(formatCsv(records), 'utf8');
  const version = await catalogue.nextVersion(kysely, input.datasetId);
  const personalData = scanner.findings();
  const descriptions = fixes.map(describeFix);
  const filename = `${input.resource.original_filename.replace(/\.[^.]+$/, '')}-fixed.csv`;
  const previous = input.resource.load_report as LoadReport;
  const report: LoadReport = {
    ...previous,
    resource_id: resourceId,
    version,
    rows,
    file: filename,
    format: 'csv',
    encoding: 'UTF-8',
    delimiter: ',',
    header_row: 1,
    sheet: null,
    schema: newSchema,
    personal_data: personalData,
    fixes: descriptions,
    derived_from: { resource_id: input.resource.id, version: input.resource.version },
  };
  await catalogue.insertResource(kysely, {
    id: resourceId,
    organisation_id: input.organisationId,
    dataset_id: input.datasetId,
    version,
    name: filename,
    description: `Version ${input.resource.version} with personal data fixed: ${descriptions.join('; ')}.`,
    format: 'CSV',
    media_type: 'text/csv',
    original_filename: filename,
    byte_size: content.length,
    sha256: createHash('sha256').update(content).digest('hex'),
    table_name: tableName,
    row_count: rows,
    table_schema: JSON.stringify(newSchema),
    load_report: JSON.stringify(report),
    title_metadata: input.resource.title_metadata,
  });
  await catalogue.insertResourceFile(kysely, { resource_id: resourceId, organisation_id: input.organisationId, content });
  await catalogue.updateDataset(kysely, input.datasetId, { current_resource_id: resourceId });
  return { resourceId, version, rows, personalData, fixes: descriptions };
}
