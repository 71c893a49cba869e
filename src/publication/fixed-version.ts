import { createHash, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import * as catalogue from '../catalogue/catalogue.repository.ts';
import type { LoadReport } from '../catalogue/catalogue.types.ts';
import { createIndexSql, createTableSql, datastoreTableName, filterIndexColumns, qualifiedTableName, textLengthsSql } from '../catalogue/datastore-table.ts';
import type { RawConnection } from '../db/connection.ts';
import type { DB } from '../db/schema.ts';
import type { TableSchema, TableSchemaField } from '../ingest/table-schema.ts';
import { checkFixColumns, RowFixer, describeFix, type PersonalDataFix } from '../privacy/redaction.ts';
import { PersonalDataScanner } from '../privacy/scanner.ts';
import { CountFixer, isCountFix, type CountFix } from './count-fixes.ts';
import { formatCsv } from './csv.ts';
import { insertRows, readRowsAsText } from './publication.repository.ts';
import { smallCountWarnings, type PublicationFinding } from './publication-findings.ts';
import { SmallCountScanner } from './small-counts.ts';

/** A fix the publication gate applies to every row of a new version: a personal-data fix or a count fix. */
export type PublicationFix = PersonalDataFix | CountFix;

export interface FixedVersion {
  resourceId: string;
  version: number;
  rows: number;
  /** The findings of the personal-data and small-count scans of the new version. */
  personalData: PublicationFinding[];
  fixes: string[];
}

/** Lets a fix name a column by its header ("Supplier Name") or by its column id ("supplier_name"). */
export function resolveFixColumns<Fix extends { column: string }>(schema: TableSchema, fixes: readonly Fix[]): Fix[] {
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
 * its filter indexes, the resource row with a load report rescanned for personal data and small counts, the fixed
 * rows as a CSV file, and the dataset pointed at it. The previous version is left as it was. Count fixes apply to the
 * original columns before the personal-data fixes, which may drop columns.
 */
export async function writeFixedVersion(
  raw: RawConnection,
  kysely: Kysely<DB>,
  input: {
    datasetId: string;
    organisationId: string;
    resource: catalogue.ResourceRow;
    fixes: readonly PublicationFix[];
    columnSqlType: (field: TableSchemaField) => string;
  },
): Promise<FixedVersion> {
  const schema = input.resource.table_schema as TableSchema;
  const fixes = resolveFixColumns(schema, input.fixes);
  const headers = schema.fields.map((field) => field.title);
  checkFixColumns(headers, fixes);
  const personalFixes = fixes.filter((fix): fix is PersonalDataFix => !isCountFix(fix));
  const countFixes = fixes.filter(isCountFix);
  const readOriginal = () => readRowsAsText(raw, qualifiedTableName(input.resource.table_name), schema);

  const countFixer = countFixes.length > 0 ? await CountFixer.plan(schema, countFixes, readOriginal) : null;
  const personalFixer = personalFixes.length > 0 ? new RowFixer(headers, personalFixes) : null;
  const outputHeaders = personalFixer?.outputHeaders ?? headers;
  const newSchema = fixedSchema(countFixer ? { ...schema, fields: countFixer.fixedFields() } : schema, personalFixes);
  const fixRow = (row: { id: number; values: Array<string | null> }) => {
    const counted = countFixer ? countFixer.fix(row.id, row.values) : row.values;
    return { id: row.id, values: personalFixer ? personalFixer.fix(counted) : counted };
  };

  const resourceId = randomUUID();
  const tableName = datastoreTableName(resourceId);
  await raw.query(createTableSql(tableName, newSchema, input.columnSqlType));

  const scanner = new PersonalDataScanner(outputHeaders);
  const countScanner = new SmallCountScanner(newSchema.fields);
  const records: Array<Array<string | null>> = [outputHeaders];
  let rows = 0;
  for await (const batch of readOriginal()) {
    const fixed = batch.map(fixRow);
    await insertRows(raw, tableName, newSchema, fixed);
    for (const row of fixed) {
      scanner.scanRow(row.id, row.values);
      countScanner.scanRow(row.id, row.values);
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
  const personalData: PublicationFinding[] = [...scanner.findings(), ...countScanner.findings()];
  const descriptions = [...(countFixer?.descriptions() ?? []), ...personalFixes.map(describeFix)];
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
    // The small-count warnings of the previous version give way to those of this one.
    warnings: [...(previous.warnings ?? []).filter((warning) => warning.code !== 'small_counts'), ...smallCountWarnings(personalData)],
    fixes: descriptions,
    derived_from: { resource_id: input.resource.id, version: input.resource.version },
  };
  await catalogue.insertResource(kysely, {
    id: resourceId,
    organisation_id: input.organisationId,
    dataset_id: input.datasetId,
    version,
    name: filename,
    description: `Version ${input.resource.version} with these fixes: ${descriptions.join('; ')}.`,
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
