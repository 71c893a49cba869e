import type { DatasetDetail, ResourceVersion } from '../catalogue/catalogue.types.ts';
import { findLicence } from '../catalogue/catalogue.metadata.ts';
import type { TableSchemaField } from '../ingest/table-schema.ts';

/** One row of the dataset page's column table. */
export interface ColumnRow {
  name: string;
  title: string;
  type: string;
  description: string;
}

const TYPE_NAMES: Record<TableSchemaField['type'], string> = {
  string: 'Text',
  integer: 'Whole number',
  number: 'Number',
  boolean: 'Yes or no',
  date: 'Date',
  datetime: 'Date and time',
};

export function columnRows(version: ResourceVersion): ColumnRow[] {
  return version.tableSchema.fields.map((field) => ({
    name: field.name,
    title: field.title,
    type: TYPE_NAMES[field.type] ?? field.type,
    description: field.description ?? '',
  }));
}

/**
 * Describes the personal-data findings the publication check stored in the load report as `personal_data` (a list of
 * `{ column, kind, count }`), as sentences, including small counts in aggregate tables. Entries with a `message` are
 * shown as they are.
 */
export function personalDataFindings(version: ResourceVersion): string[] {
  const raw = version.loadReport.personal_data as unknown;
  const list = Array.isArray(raw) ? raw : [];
  return list.flatMap((item): string[] => {
    if (typeof item === 'string') return [item];
    if (!item || typeof item !== 'object') return [];
    const finding = item as Record<string, unknown>;
    if (typeof finding.message === 'string') return [finding.message];
    const column = typeof finding.column === 'string' ? finding.column : 'A column';
    const kind = typeof finding.kind === 'string' ? finding.kind.replaceAll('_', ' ') : 'personal data';
    const count = typeof finding.count === 'number' ? finding.count : null;
    const cells = count === null ? '' : ` in ${count} ${count === 1 ? 'cell' : 'cells'}`;
    if (finding.kind === 'small_count') {
      const threshold = typeof finding.threshold === 'number' ? finding.threshold : 10;
      return [`${column} has counts from 1 to ${threshold - 1}${cells}, which could identify people.`];
    }
    return [`${column} may hold ${kind}${cells}.`];
  });
}

/** Plain English names of the update frequency values. */
const FREQUENCY_NAMES: Record<string, string> = {
  daily: 'Daily',
  weekly: 'Weekly',
  monthly: 'Monthly',
  quarterly: 'Quarterly',
  annual: 'Every year',
  irregular: 'Irregularly',
  never: 'Not updated',
};

export function frequencyName(value: string | null): string {
  return value === null ? 'Not stated' : (FREQUENCY_NAMES[value] ?? value);
}

/** Builds the template values of the dataset page from the dataset and the public base URL. */
export function datasetPageContext(dataset: DatasetDetail, publicUrl: string) {
  const current = dataset.currentResource;
  const licence = findLicence(dataset.licenceId);
  const searchUrl = current ? `${publicUrl}/api/3/action/datastore_search?resource_id=${current.id}&limit=5` : null;
  return {
    dataset,
    current,
    licence: licence ?? { id: dataset.licenceId, title: dataset.licenceId, url: '', open: false },
    frequency: frequencyName(dataset.updateFrequency),
    columns: current ? columnRows(current) : [],
    warnings: current ? current.loadReport.warnings ?? [] : [],
    personalData: current ? personalDataFindings(current) : [],
    api: current
      ? {
          searchUrl,
          curl: `curl '${searchUrl}'`,
          showUrl: `${publicUrl}/api/3/action/package_show?id=${dataset.slug}`,
          csvUrl: `${publicUrl}/dataset/${dataset.slug}/latest.csv`,
        }
      : null,
  };
}
