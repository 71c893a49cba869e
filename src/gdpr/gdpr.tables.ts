import type { ColumnType, Generated } from 'kysely';
import type { SubjectKind } from '../audit/subject-index.ts';

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;

export type RectificationAction = 'rectified' | 'erased';

/** A correction or erasure of one person's data, recorded by a DPO. The person is stored only as a keyed hash. */
export interface SubjectRectificationsTable {
  id: Generated<string>;
  organisation_id: string;
  action: RectificationAction;
  identifier_kind: SubjectKind;
  /** HMAC-SHA-256 from the subject index, the same hash the disclosure log stores. */
  subject_hash: Uint8Array;
  /** What changed, in words; never the personal data itself. */
  description: string;
  recorded_by: string | null;
  recorded_at: CreatedAt;
}

/** The agreements and datasets under which one recipient received the person, with the pseudonym under each. */
export interface NoticeAgreement {
  agreementId: string;
  reference: string | null;
  /** The person's keyed pseudonym under this agreement, as the recipient holds it. */
  pseudonym: string | null;
  /** Released fields that carry the pseudonym. */
  pseudonymFields: string[];
  datasets: Array<{ datasetId: string; title: string | null; resourceIds: string[] }>;
}

/** A notice to one recipient organisation that a person's data was corrected or erased (UK GDPR Article 19). */
export interface RectificationNoticesTable {
  id: Generated<string>;
  /** The provider organisation, which sent the notice. */
  organisation_id: string;
  rectification_id: string;
  recipient_organisation_id: string;
  action: RectificationAction;
  description: string;
  agreements: ColumnType<NoticeAgreement[], string, string>;
  created_at: ColumnType<Date, Date | string, never>;
  acknowledged_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  acknowledged_by: string | null;
}

export type Likelihood = 'remote' | 'possible' | 'probable';
export type Severity = 'minimal' | 'significant' | 'severe';
export type ResidualRisk = 'low' | 'medium' | 'high';

export interface DpiaRisk {
  description: string;
  likelihood: Likelihood;
  severity: Severity;
  mitigation: string;
}

/** A data protection impact assessment of one agreement, signed off by a DPO. */
export interface DpiasTable {
  id: Generated<string>;
  organisation_id: string;
  agreement_id: string;
  description: string;
  necessity: string;
  risks: ColumnType<DpiaRisk[], string, string>;
  residual_risk: ResidualRisk;
  signed_off_by: string;
  /** ISO date (YYYY-MM-DD) of the sign-off. */
  signed_off_on: ColumnType<string, string, string>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface GdprTables {
  subject_rectifications: SubjectRectificationsTable;
  rectification_notices: RectificationNoticesTable;
  dpias: DpiasTable;
}
