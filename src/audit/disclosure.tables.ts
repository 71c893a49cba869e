import type { ColumnType } from 'kysely';

/** One release of data to another organisation. Append-only: a trigger rejects UPDATE and DELETE. */
export interface DisclosuresTable {
  id: string;
  /** The disclosing organisation: the controller that responds to subject access requests. */
  organisation_id: string;
  recipient_organisation_id: string;
  agreement_id: string;
  agreement_version: number;
  purpose: string;
  dataset_id: string;
  /** The dataset version released; kept after retention removes that version. */
  resource_id: string;
  fields: string[];
  row_count: number;
  /** Null while the subjects wait in disclosure_index_queue; the count then appears in the indexing audit entry. */
  subject_count: number | null;
  /** The released rows are `after_row_id < _id <= last_row_id` of the version's table (with the row filter); null on older records. */
  after_row_id: ColumnType<number | null, number | null | undefined, never>;
  last_row_id: ColumnType<number | null, number | null | undefined, never>;
  occurred_at: ColumnType<Date, Date | string, never>;
  request_id: string | null;
  /** The audit entry that records this disclosure, so the chain covers it. */
  audit_entry_id: number;
}

/** Keyed hashes (HMAC-SHA-256) of the people in each disclosure; never the identifiers themselves. */
export interface DisclosureSubjectsTable {
  disclosure_id: string;
  subject_hash: Uint8Array;
  organisation_id: string;
  recipient_organisation_id: string;
}

/** Disclosures whose subjects are not yet in disclosure_subjects; each row is deleted as its subjects are written. */
export interface DisclosureIndexQueueTable {
  disclosure_id: string;
  /** The disclosing organisation. */
  organisation_id: string;
  /** The dataset version whose table the indexing reads; retention indexes these before dropping it. */
  resource_id: string;
  queued_at: ColumnType<Date, Date | string | undefined, never>;
}

export interface AuditCheckpointsTable {
  tree_size: number;
  root_hash: Uint8Array;
  created_at: ColumnType<Date, Date | string, never>;
  /** Hex of the first 8 bytes of SHA-256 over the raw Ed25519 public key. */
  key_id: string;
  signature: Uint8Array;
}

export interface AuditChainHeadTable {
  id: boolean;
  /** Number of entries in the chain, which is also the id of the last one. */
  size: number;
  head_hash: Uint8Array;
  /** Roots of the Merkle tree's perfect subtrees on its right edge, concatenated, largest first. */
  frontier: Uint8Array;
}

export interface DisclosureTables {
  disclosures: DisclosuresTable;
  disclosure_subjects: DisclosureSubjectsTable;
  disclosure_index_queue: DisclosureIndexQueueTable;
  audit_checkpoints: AuditCheckpointsTable;
  audit_chain_head: AuditChainHeadTable;
}
