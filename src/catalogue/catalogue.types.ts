import type { IngestWarning } from '../ingest/ingest.types.ts';
import type { TableSchema } from '../ingest/table-schema.ts';
import type { Visibility } from './catalogue.tables.ts';

export type { Visibility };

/**
 * Who is looking at the catalogue. Row-level security decides what each scope sees: the public sees open datasets
 * only, an organisation also sees its own private ones, and the platform scope (operators, audited paths) sees all.
 */
export type CatalogueScope = { kind: 'public' } | { kind: 'organisation'; organisationId: string } | { kind: 'platform' };

export const PUBLIC_SCOPE: CatalogueScope = { kind: 'public' };
export const PLATFORM_SCOPE: CatalogueScope = { kind: 'platform' };
export const organisationScope = (organisationId: string): CatalogueScope => ({ kind: 'organisation', organisationId });

export interface Organisation {
  id: string;
  slug: string;
  name: string;
  kind: string;
  status: string;
  description: string;
  website: string | null;
  createdAt: Date;
}

export interface OrganisationSummary {
  id: string;
  slug: string;
  name: string;
}

export interface Dataset {
  id: string;
  slug: string;
  organisation: OrganisationSummary;
  title: string;
  description: string;
  licenceId: string;
  tags: string[];
  theme: string | null;
  updateFrequency: string | null;
  /** ISO dates (YYYY-MM-DD) bounding the period the data covers. */
  temporalStart: string | null;
  temporalEnd: string | null;
  /** The area the data covers, such as a local authority name or GSS code. */
  spatial: string | null;
  /** Months after loading that each version is kept before `civic retention run` removes it; null keeps every version. */
  retentionMonths: number | null;
  visibility: Visibility;
  currentResourceId: string | null;
  createdAt: Date;
  modifiedAt: Date;
}

/** What an import reports about one load; stored with the resource and printed by `civic import --json`. */
export interface LoadReport {
  dataset: string;
  organisation: string;
  title: string;
  resource_id: string;
  version: number;
  visibility: Visibility;
  rows: number;
  /** The file name as the user gave it, without folders. */
  file: string;
  format: string;
  encoding: string;
  delimiter: string | null;
  header_row: number;
  sheet: string | null;
  /** The title found above the header, if any. */
  title_metadata: string | null;
  schema: TableSchema;
  warnings: IngestWarning[];
  /** Fields that import checks (such as the personal-data scan) add to the report. */
  [extra: string]: unknown;
}

/** One loaded version of a dataset: its typed table, Table Schema, load report and original file. */
export interface ResourceVersion {
  id: string;
  datasetId: string;
  organisationId: string;
  version: number;
  name: string;
  description: string;
  format: string;
  mediaType: string;
  originalFilename: string;
  byteSize: number;
  sha256: string;
  /** Table in the `datastore` schema, with `_id` numbering rows in source order from 1. */
  tableName: string;
  rowCount: number;
  tableSchema: TableSchema;
  loadReport: LoadReport;
  titleMetadata: string | null;
  createdAt: Date;
}

export interface DatasetDetail extends Dataset {
  /** Every version, newest first. */
  versions: ResourceVersion[];
  currentResource: ResourceVersion | null;
}

export interface DatasetPage {
  total: number;
  datasets: Dataset[];
}

export interface ListDatasetsOptions {
  /** Only datasets of this organisation. */
  organisationSlug?: string;
  /** Full-text search over titles, tags and descriptions. */
  query?: string;
  /** Only datasets carrying every one of these tags. */
  tags?: string[];
  visibility?: Visibility;
  limit?: number;
  offset?: number;
  order?: 'title' | 'modified' | 'relevance';
}

/** The metadata a caller may set when creating or editing a dataset. */
export interface DatasetMetadata {
  title?: string;
  description?: string;
  licenceId?: string;
  tags?: string[];
  theme?: string | null;
  updateFrequency?: string | null;
  temporalStart?: string | null;
  temporalEnd?: string | null;
  spatial?: string | null;
  /** Months each dataset version is kept, from 1 to 1200; null keeps every version. */
  retentionMonths?: number | null;
}

export interface OriginalFile {
  filename: string;
  mediaType: string;
  byteSize: number;
  sha256: string;
  content: Buffer;
}
