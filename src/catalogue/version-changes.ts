import type { IngestWarning } from '../ingest/ingest.types.ts';
import type { TableSchema } from '../ingest/table-schema.ts';

/** Column names listed per kind of change before the message gives only a count. */
const LISTED_COLUMNS = 10;

/**
 * Returns the kind of value a type holds, for comparing versions. Whole numbers and numbers count as one kind, because
 * one month's file often has no pence, and API clients read both as JSON numbers.
 */
function valueKind(type: string): string {
  return type === 'integer' ? 'number' : type;
}

function listNames(names: string[]): string {
  const listed = names.slice(0, LISTED_COLUMNS).join(', ');
  return names.length > LISTED_COLUMNS ? `${listed} and ${names.length - LISTED_COLUMNS} more` : listed;
}

/**
 * Compares a new version's columns with the previous version's, by API name, and returns a warning naming the columns
 * added, removed or changed in type, or null when they match. Clients of the API and the downloads rely on the columns,
 * so the uploader should know when a file changes them.
 */
export function columnChangeWarning(previous: { version: number; schema: TableSchema }, next: { version: number; schema: TableSchema }): IngestWarning | null {
  const before = new Map(previous.schema.fields.map((field) => [field.name, field]));
  const after = new Map(next.schema.fields.map((field) => [field.name, field]));
  const added = next.schema.fields.filter((field) => !before.has(field.name)).map((field) => `${field.name} (${field.type})`);
  const removed = previous.schema.fields.filter((field) => !after.has(field.name)).map((field) => field.name);
  const retyped = next.schema.fields
    .filter((field) => before.has(field.name) && valueKind(before.get(field.name)!.type) !== valueKind(field.type))
    .map((field) => `${field.name} from ${before.get(field.name)!.type} to ${field.type}`);
  if (added.length === 0 && removed.length === 0 && retyped.length === 0) return null;

  const changes: string[] = [];
  if (added.length > 0) changes.push(`added ${listNames(added)}`);
  if (removed.length > 0) changes.push(`removed ${listNames(removed)}`);
  if (retyped.length > 0) changes.push(`changed the type of ${listNames(retyped)}`);
  return {
    code: 'columns_changed',
    message:
      `Version ${next.version} has different columns from version ${previous.version} (${previous.schema.fields.length} columns before, ${next.schema.fields.length} now): ` +
      `it ${changes.join('; ')}. Programs and downloads that use this dataset may break. If this is the wrong file, load the right one ` +
      'as a new version. If a type changed because of a few stray values, correct them or supply a Table Schema (--schema) and load it again.',
  };
}

/**
 * Returns the warning for a version whose file has the same SHA-256 as the version the dataset served before. That
 * can mean that last month's file was chosen again in place of this month's.
 */
export function sameFileWarning(previousVersion: number, version: number): IngestWarning {
  return {
    code: 'same_file_as_current_version',
    message:
      `Version ${version} is the same file as version ${previousVersion}, byte for byte, so the dataset's data has not changed. ` +
      'If you meant to load a newer file, load it as another version. The dataset now serves this version.',
  };
}

/**
 * Returns the warning for an open dataset that a check has made private, which hides every version from the public,
 * with how to fix the new version and open the dataset again.
 */
export function noLongerPublicWarning(dataset: string, version: number, checkName: string): IngestWarning {
  return {
    code: 'dataset_no_longer_public',
    message:
      `Dataset "${dataset}" was open, but the ${checkName} kept version ${version} private, so the whole dataset, earlier versions included, ` +
      `is no longer public. Fix the personal data the report names with "civic publish ${dataset}" (redact, drop or generalise the columns, ` +
      'or record a justification) and add --open to make the dataset open again, or load a corrected file with --visibility open.',
  };
}
