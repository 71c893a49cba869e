import type { AgreementTerms } from './agreement.terms.ts';
import type { AgreementStatus, VersionStatus } from './agreements.tables.ts';

/** Who acts on an agreement, as the workflow and the audit log need it. */
export interface Actor {
  userId: string;
  organisationId: string;
  roles: string[];
  kind: 'user' | 'token';
  requestId?: string | null;
}

export interface AgreementSummary {
  id: string;
  organisationId: string;
  reference: string;
  title: string;
  status: AgreementStatus;
  versionInForceId: string | null;
}

export interface AgreementVersion {
  id: string;
  agreementId: string;
  version: number;
  status: VersionStatus;
  terms: AgreementTerms;
  createdAt: Date;
  submittedAt: Date | null;
  approvedAt: Date | null;
}

export interface ApprovalRecord {
  partyOrganisationId: string;
  role: string;
  userId: string;
  decision: 'approved' | 'declined';
  comment: string;
  decidedAt: Date;
}

/** An approval the current version still needs, or has. */
export interface RequiredApproval {
  partyOrganisationId: string;
  role: string;
  userId: string;
  name: string;
  decision: 'approved' | 'declined' | null;
  comment: string | null;
}

export interface TransitionRecord {
  fromStatus: string | null;
  toStatus: string;
  actorUserId: string | null;
  actorKind: string;
  reason: string;
  occurredAt: Date;
  version: number | null;
}

export interface AgreementDetail extends AgreementSummary {
  versions: AgreementVersion[];
  /** The version in force, if any, else null. */
  inForce: AgreementVersion | null;
  /** The newest version, which is the one drafted or under approval when it is not in force. */
  latest: AgreementVersion;
  organisationNames: Record<string, string>;
  datasetTitles: Record<string, { slug: string; title: string }>;
}
