import type { PartyAgreement, PartyView } from './agreement-access.ts';
import { termsToJson } from './agreement.terms.ts';

/** Response bodies of the agreements API, built from the party views. */

function links(reference: string, publicUrl: string) {
  return { self: `${publicUrl}/api/v1/agreements/${reference}`, page: `${publicUrl}/agreements/${reference}/manage` };
}

export function agreementSummaryBody(row: PartyAgreement, publicUrl: string) {
  const { summary, latest } = row;
  return {
    reference: summary.reference,
    title: summary.title,
    status: summary.status,
    provider: { id: summary.organisationId, name: row.providerName },
    your_role: row.isProvider ? ('provider' as const) : ('recipient' as const),
    version_in_force: row.inForceVersion,
    latest_version: { version: latest.version, status: latest.status },
    allowed_actions: row.allowedActions,
    links: links(summary.reference, publicUrl),
  };
}

export function agreementDetailBody(view: PartyView, publicUrl: string) {
  const { detail } = view;
  const name = (id: string) => detail.organisationNames[id] ?? 'Unknown organisation';
  const partySource = detail.inForce ?? detail.latest;
  return {
    reference: detail.reference,
    title: detail.title,
    status: detail.status,
    provider: { id: detail.organisationId, name: name(detail.organisationId) },
    your_role: view.isProvider ? ('provider' as const) : ('recipient' as const),
    version_in_force: detail.inForce?.version ?? null,
    latest_version: { version: detail.latest.version, status: detail.latest.status },
    allowed_actions: view.allowedActions,
    links: links(detail.reference, publicUrl),
    parties: partySource.terms.parties.map((party) => ({ id: party.organisationId, name: name(party.organisationId), sharing_role: party.sharingRole })),
    versions: detail.versions.map((version) => ({
      version: version.version,
      status: version.status,
      in_force: version.id === detail.versionInForceId,
      created_at: version.createdAt.toISOString(),
      submitted_at: version.submittedAt?.toISOString() ?? null,
      approved_at: version.approvedAt?.toISOString() ?? null,
      terms: termsToJson(version.terms),
    })),
    approvals: view.approvals.map((approval) => ({
      party_organisation_id: approval.partyOrganisationId,
      role: approval.role as 'data_protection_officer' | 'senior_information_risk_owner',
      user_id: approval.userId,
      name: approval.name,
      decision: approval.decision,
      comment: approval.comment,
    })),
    transitions: view.transitions.map((transition) => ({
      from_status: transition.fromStatus,
      to_status: transition.toStatus,
      version: transition.version,
      actor_kind: transition.actorKind,
      reason: transition.reason,
      occurred_at: transition.occurredAt.toISOString(),
    })),
  };
}
