import type { ColumnType, Generated } from 'kysely';

type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export interface JobsTable {
  id: Generated<string>;
  organisation_id: string | null;
  /** Dotted job kind, such as `webhook.deliver`; a handler is registered per kind. */
  kind: string;
  payload: ColumnType<unknown, string | undefined, string>;
  status: Generated<'pending' | 'completed' | 'failed'>;
  run_at: ColumnType<Date, Date | string | undefined, Date | string>;
  attempts: Generated<number>;
  max_attempts: Generated<number>;
  /** A claimed job is hidden from other workers until this time; a crashed worker's job becomes due again. */
  locked_until: NullableTimestamp;
  locked_by: string | null;
  last_error: string | null;
  /** Deduplicates scheduled jobs: a second job with the same key is not queued. */
  unique_key: string | null;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  finished_at: NullableTimestamp;
}

export interface JobsTables {
  jobs: JobsTable;
}
