import type { ColumnType, Generated } from 'kysely';

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export interface ExchangeExportsTable {
  id: Generated<string>;
  /** The provider organisation. */
  organisation_id: string;
  recipient_organisation_id: string;
  agreement_id: string;
  agreement_version_id: string;
  dataset_id: string;
  resource_id: string;
  format: 'csv' | 'jsonl';
  purpose: string;
  fields: string[];
  /** `stopped` when the agreement's terms stopped the release part way. */
  status: Generated<'running' | 'completed' | 'stopped'>;
  row_count: Generated<number>;
  /** RFC 9530 Content-Digest value of the bytes sent. */
  content_digest: string | null;
  /** Civic-Signature value over the digest. */
  signature: string | null;
  error_code: string | null;
  request_id: string | null;
  started_at: CreatedAt;
  finished_at: NullableTimestamp;
}

export interface WebhookSubscriptionsTable {
  id: Generated<string>;
  organisation_id: string;
  url: string;
  /** Limits the subscription to one agreement; null for every agreement the organisation is party to. */
  agreement_id: string | null;
  description: Generated<string>;
  created_by: string | null;
  created_at: CreatedAt;
  disabled_at: NullableTimestamp;
}

export interface WebhookDeliveriesTable {
  id: Generated<string>;
  organisation_id: string;
  subscription_id: string;
  event_id: string;
  event_type: string;
  attempt: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  attempted_at: CreatedAt;
}

export interface ExchangeTables {
  exchange_exports: ExchangeExportsTable;
  webhook_subscriptions: WebhookSubscriptionsTable;
  webhook_deliveries: WebhookDeliveriesTable;
}
