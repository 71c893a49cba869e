import type { ColumnType, Generated } from 'kysely';

export interface PublicationJustificationsTable {
  id: Generated<string>;
  organisation_id: string;
  dataset_id: string;
  resource_id: string;
  /** The signed-in user who recorded it; null when an operator recorded it with `civic publish`. */
  recorded_by_user_id: string | null;
  /** Who recorded it, as shown to reviewers: a user id or the operator's account name. */
  recorded_by: string;
  reason: string;
  /** The findings the justification covers (columns, kinds, counts and example rows; never values). */
  findings: ColumnType<unknown, string, never>;
  created_at: ColumnType<Date, Date | string | undefined, never>;
}

export interface ReleasedAggregatesTable {
  id: Generated<string>;
  organisation_id: string;
  dataset_id: string;
  resource_id: string;
  /** SHA-256 (hex) of the canonical query definition. */
  query_hash: string;
  query: ColumnType<unknown, string, never>;
  /** True counts per cell key, as released; never returned by the API. */
  cell_counts: ColumnType<unknown, string, never>;
  released_at: ColumnType<Date, Date | string | undefined, never>;
}

export interface PublicationTables {
  publication_justifications: PublicationJustificationsTable;
  released_aggregates: ReleasedAggregatesTable;
}
