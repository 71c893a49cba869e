import type { Database } from '../db/database.ts';
import type { FieldError } from '../errors.ts';
import { checkApproverMemberships } from './agreement-approvers.ts';
import { parseTerms } from './agreement.terms.ts';
import type { Actor } from './agreement.types.ts';

export const REFERENCE_PATTERN = /^[A-Z0-9][A-Z0-9-]{2,59}$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Fills in the caller's organisation on the provider party when the input leaves it out, because the drafter's
 * organisation is always the provider. Returns a copy; the input is not changed.
 */
export function withProvider(input: unknown, organisationId: string): unknown {
  if (!isRecord(input) || !Array.isArray(input.parties)) return input;
  const parties = input.parties.map((party: unknown) => {
    if (!isRecord(party) || party.sharing_role !== 'provider') return party;
    const given = party.organisation_id;
    return given === undefined || given === null || given === '' ? { ...party, organisation_id: organisationId } : party;
  });
  return { ...input, parties };
}

/**
 * Checks draft terms as sent by the API or the form before they reach the service, adding what the service does not
 * check: the reference (for a new agreement), that the provider is the drafter's organisation, and that every named
 * approver can approve for their party. Returns every problem found; the service checks the datasets once these pass.
 */
export async function draftInputErrors(db: Database, actor: Actor, reference: string | null, input: unknown): Promise<FieldError[]> {
  const errors: FieldError[] = [];
  if (reference !== null && !REFERENCE_PATTERN.test(reference)) {
    errors.push({ field: 'reference', message: 'Enter a reference of 3 to 60 capital letters, digits and hyphens, such as THR-ISA-2026-014' });
  }
  if (isRecord(input) && Array.isArray(input.parties)) {
    input.parties.forEach((party: unknown, index) => {
      if (isRecord(party) && party.sharing_role === 'provider' && party.organisation_id !== actor.organisationId) {
        errors.push({ field: `parties[${index}].organisation_id`, message: 'The provider must be your own organisation. Leave organisation_id out for the provider' });
      }
    });
  }
  const parsed = parseTerms(input);
  errors.push(...parsed.errors);
  if (parsed.terms && errors.length === 0) errors.push(...(await checkApproverMemberships(db, parsed.terms)));
  return errors;
}
