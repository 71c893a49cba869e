import type { ColumnType, Generated } from 'kysely';

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Json<T> = ColumnType<T, string, string>;

/** `discarded` is an agreement whose first draft was discarded before any version came into force. */
export const AGREEMENT_STATUSES = ['draft', 'awaiting_approval', 'active', 'suspended', 'expired', 'lapsed_review', 'terminated', 'discarded'] as const;
export type AgreementStatus = (typeof AGREEMENT_STATUSES)[number];

export const VERSION_STATUSES = ['draft', 'awaiting_approval', 'approved', 'superseded', 'withdrawn', 'discarded'] as const;
export type VersionStatus = (typeof VERSION_STATUSES)[number];
export type ApproverRole = 'data_protection_officer' | 'senior_information_risk_owner';

export interface AgreementsTable {
  id: Generated<string>;
  /** The provider organisation, which owns the agreement. */
  organisation_id: string;
  reference: string;
  title: string;
  status: Generated<AgreementStatus>;
  version_in_force_id: string | null;
  /** The review date for which the three-month reminder went out, so it goes out once per date. */
  review_reminder_sent_for: string | null;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface AgreementVersionsTable {
  id: Generated<string>;
  organisation_id: string;
  agreement_id: string;
  version: number;
  status: Generated<VersionStatus>;
  /** The validated AgreementTerms document (see agreement.terms.ts). */
  terms: Json<unknown>;
  purposes: string[];
  /** ISO dates (YYYY-MM-DD), copied from the terms for queries. */
  start_date: string;
  end_date: string;
  review_date: string;
  created_by: string | null;
  created_at: CreatedAt;
  submitted_at: NullableTimestamp;
  approved_at: NullableTimestamp;
}

export interface AgreementPartiesTable {
  agreement_id: string;
  party_organisation_id: string;
  organisation_id: string;
  added_at: CreatedAt;
}

export interface AgreementApprovalsTable {
  id: Generated<string>;
  organisation_id: string;
  agreement_id: string;
  version_id: string;
  party_organisation_id: string;
  approver_role: ApproverRole;
  user_id: string;
  decision: 'approved' | 'declined';
  comment: Generated<string>;
  decided_at: CreatedAt;
}

export interface AgreementTransitionsTable {
  id: Generated<string>;
  organisation_id: string;
  agreement_id: string;
  version_id: string | null;
  from_status: string | null;
  to_status: string;
  actor_user_id: string | null;
  actor_kind: 'user' | 'token' | 'platform' | 'system';
  reason: string;
  occurred_at: CreatedAt;
}

export interface AgreementsTables {
  agreements: AgreementsTable;
  agreement_versions: AgreementVersionsTable;
  agreement_parties: AgreementPartiesTable;
  agreement_approvals: AgreementApprovalsTable;
  agreement_transitions: AgreementTransitionsTable;
}
