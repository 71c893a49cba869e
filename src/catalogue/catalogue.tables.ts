import type { ColumnType, Generated } from 'kysely';

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;

export type Visibility = 'private' | 'open';
export type OrganisationStatus = 'pending' | 'active' | 'declined' | 'closed';

export interface OrganisationsTable {
  id: Generated<string>;
  slug: string;
  name: string;
  kind: Generated<string>;
  status: Generated<OrganisationStatus>;
  description: Generated<string>;
  website: string | null;
  created_at: CreatedAt;
}

export interface DatasetsTable {
  id: Generated<string>;
  organisation_id: string;
  slug: string;
  title: string;
  description: Generated<string>;
  licence_id: Generated<string>;
  tags: Generated<string[]>;
  theme: string | null;
  update_frequency: string | null;
  /** ISO dates (YYYY-MM-DD). */
  temporal_start: string | null;
  temporal_end: string | null;
  spatial: string | null;
  /** Months after loading that RetentionService keeps each version of the dataset; null keeps every version. */
  retention_months: ColumnType<number | null, number | null | undefined, number | null>;
  visibility: Generated<Visibility>;
  current_resource_id: string | null;
  created_at: CreatedAt;
  modified_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface ResourcesTable {
  id: Generated<string>;
  organisation_id: string;
  dataset_id: string;
  version: number;
  name: string;
  description: Generated<string>;
  format: string;
  media_type: string;
  original_filename: string;
  byte_size: number;
  sha256: string;
  /** Table in the `datastore` schema holding the typed rows, with `_id` numbering rows in source order from 1. */
  table_name: string;
  row_count: number;
  /** Frictionless Table Schema of the stored table. */
  table_schema: ColumnType<unknown, string, string>;
  /** The load report of the import that made this version. */
  load_report: ColumnType<unknown, string, string>;
  /** Whether a data steward justified publishing this version despite personal-data findings; kept by a trigger. */
  publication_justified: Generated<boolean>;
  /** A title the file carried above its header row, kept as metadata. */
  title_metadata: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: CreatedAt;
}

export interface ResourceFilesTable {
  resource_id: string;
  organisation_id: string;
  content: Buffer;
}

/** An original file uploaded on its own connection during an import, until the import attaches it (original-file.ts). */
export interface FileUploadsTable {
  id: string;
  organisation_id: string;
  content: Buffer;
  created_at: CreatedAt;
}

export interface CatalogueTables {
  organisations: OrganisationsTable;
  datasets: DatasetsTable;
  resources: ResourcesTable;
  resource_files: ResourceFilesTable;
  file_uploads: FileUploadsTable;
}
