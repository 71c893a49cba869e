import { forbidden, type AppError } from '../errors.ts';
import type { AgreementTerms } from './agreement.terms.ts';
import type { Actor } from './agreement.types.ts';

/** The status changes a party can ask for after approval. */
export type StatusChange = 'suspend' | 'resume' | 'terminate';

/**
 * Checks who may change an agreement's status, against the terms of the version in force (the latest version when
 * none is in force), and returns the refusal or null.
 *
 * - Suspending stops sharing at once, so any party with concerns can do it. The actor must hold the data protection
 *   officer role in a party organisation, or be named as that party's data protection officer or senior information
 *   risk owner approver.
 * - Resuming and terminating are for the provider: the actor must be one of the approvers named for the provider's
 *   party, acting in the provider organisation.
 */
export function statusChangeRefusal(change: StatusChange, actor: Actor, agreement: { reference: string; organisationId: string }, terms: AgreementTerms): AppError | null {
  if (change === 'suspend') {
    const party = terms.parties.find((candidate) => candidate.organisationId === actor.organisationId);
    const named = party?.approvers.some((approver) => approver.userId === actor.userId) ?? false;
    if (party && (named || actor.roles.includes('data_protection_officer'))) return null;
    return forbidden(
      'agreement_role',
      `Only a party's data protection officer or senior information risk owner can suspend ${agreement.reference}. Ask your organisation's data protection officer to suspend it.`,
    );
  }

  const provider = terms.parties.find((candidate) => candidate.organisationId === agreement.organisationId);
  const approvers = provider?.approvers ?? [];
  const names = approvers.map((approver) => approver.name).join(' or ');
  const ask = names === '' ? 'Ask the provider organisation.' : `Ask ${names}.`;
  if (actor.organisationId !== agreement.organisationId) {
    return forbidden('agreement_not_provider', `Only the provider of ${agreement.reference} can ${change} it. ${ask}`);
  }
  if (!approvers.some((approver) => approver.userId === actor.userId)) {
    return forbidden('not_named_approver', `Only the approvers named for the provider of ${agreement.reference} can ${change} it. ${ask}`);
  }
  return null;
}
