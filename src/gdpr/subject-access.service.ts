import { sql } from 'kysely';
import { PURPOSES } from '../agreements/agreement.terms.ts';
import { appendAuditEvent } from '../audit/audit.repository.ts';
import type { AuditActorKind } from '../audit/audit.tables.ts';
import type { DisclosureLog } from '../audit/disclosure.repository.ts';
import type { SubjectIdentifier, SubjectKind } from '../audit/subject-index.ts';
import type { Database } from '../db/database.ts';
import { withOrganisation } from '../db/tenant.ts';
import { validationError, type FieldError } from '../errors.ts';
import { nhsNumberProblem, parseNhsNumber } from './nhs-number.ts';

export const IDENTIFIER_LABELS: Record<SubjectKind, string> = {
  nhs_number: 'NHS number',
  person_id: 'Council person ID',
  email: 'Email address',
};

/** The identifier kinds as written inside a sentence. */
export const IDENTIFIER_PHRASES: Record<SubjectKind, string> = {
  nhs_number: 'NHS number',
  person_id: 'council person ID',
  email: 'email address',
};

const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PERSON_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$/;

/** One release that contained the person, as the subject access response lists it. */
export interface SubjectDisclosure {
  disclosureId: string;
  occurredAt: Date;
  recipientOrganisationId: string;
  recipientName: string;
  agreementId: string;
  agreementReference: string | null;
  agreementTitle: string | null;
  agreementVersion: number;
  /** The purpose code as recorded, such as `direct_care`. */
  purpose: string;
  /** The purpose in words, such as "Direct care". */
  purposeLabel: string;
  datasetTitle: string | null;
  fields: string[];
  /** Released fields that the recipient received as keyed pseudonyms, not in clear. */
  pseudonymisedFields: string[];
}

/** The organisation, user and request behind a search, recorded in its audit entry. */
export interface SubjectAccessActor {
  organisationId: string;
  userId: string | null;
  actorKind: AuditActorKind;
  requestId: string;
}

/**
 * Validates a search: the identifier kind and its value. Throws a validation error whose fields are `kind` and
 * `identifier`, with GOV.UK messages.
 */
export function parseSubjectQuery(input: { kind?: unknown; identifier?: unknown }): SubjectIdentifier {
  const errors: FieldError[] = [];
  const kind = typeof input.kind === 'string' && input.kind in IDENTIFIER_LABELS ? (input.kind as SubjectKind) : null;
  const value = typeof input.identifier === 'string' ? input.identifier.trim() : '';
  if (kind === null) errors.push({ field: 'kind', message: 'Select the kind of identifier' });
  if (value === '') {
    errors.push({ field: 'identifier', message: 'Enter the NHS number, council person ID or email address' });
  } else if (kind === 'nhs_number' && nhsNumberProblem(value) !== null) {
    errors.push({ field: 'identifier', message: nhsNumberProblem(value)! });
  } else if (kind === 'email' && (!EMAIL_PATTERN.test(value) || value.length > 320)) {
    errors.push({ field: 'identifier', message: 'Enter an email address in the correct format, like name@example.com' });
  } else if (kind === 'person_id' && !PERSON_ID_PATTERN.test(value)) {
    errors.push({ field: 'identifier', message: 'Enter a council person ID of up to 64 letters, digits, dots, hyphens or slashes' });
  }
  if (errors.length > 0 || kind === null) throw validationError('invalid_subject_search', errors.map((error) => error.message).join('. '), errors);
  return { kind, value: kind === 'nhs_number' ? parseNhsNumber(value)! : value };
}

interface DisclosureRow {
  id: string;
  occurred_at: Date;
  recipient_organisation_id: string;
  recipient_name: string | null;
  agreement_id: string;
  agreement_reference: string | null;
  agreement_title: string | null;
  agreement_version: number;
  purpose: string;
  dataset_id: string;
  dataset_title: string | null;
  fields: string[];
  terms: unknown;
}

/**
 * Reads the fields an agreement version pseudonymised for one dataset from its stored terms. It reads the JSON
 * directly instead of through parseTerms, so terms that later rules would reject are still read.
 */
function pseudonymisedFieldsOf(terms: unknown, datasetId: string): string[] {
  const parsed = typeof terms === 'string' ? (JSON.parse(terms) as unknown) : terms;
  const datasets = (parsed as { datasets?: unknown } | null)?.datasets;
  if (!Array.isArray(datasets)) return [];
  const dataset = datasets.find((item) => (item as { dataset_id?: unknown }).dataset_id === datasetId) as { pseudonymise?: unknown } | undefined;
  if (!Array.isArray(dataset?.pseudonymise)) return [];
  return dataset.pseudonymise.map((item) => (item as { field?: unknown }).field).filter((field): field is string => typeof field === 'string');
}

/** Lists disclosures for subject access requests (UK GDPR Article 15(1)(c)) from the searching organisation's log. */
export class SubjectAccessService {
  readonly #db: Database;
  readonly #disclosures: DisclosureLog;

  constructor(db: Database, disclosures: DisclosureLog) {
    this.#db = db;
    this.#disclosures = disclosures;
  }

  /**
   * Lists every disclosure by the actor's organisation that contained the person, oldest first, and records the search
   * in the audit log (the identifier kind and the count, never the identifier). Indexes the organisation's queued
   * disclosures first, waiting for any that the indexing job holds.
   */
  async search(actor: SubjectAccessActor, subject: SubjectIdentifier, action = 'subject_access.searched'): Promise<SubjectDisclosure[]> {
    const hash = this.#disclosures.subjects.hash(subject);
    if (hash === null) return [];
    return withOrganisation(this.#db.app, actor.organisationId, async (trx) => {
      // Large releases index their subjects after they commit; indexing them first keeps the result exact.
      await this.#disclosures.indexQueued(trx, { organisationId: actor.organisationId });
      const { rows } = await sql<DisclosureRow>`
        select d.id, d.occurred_at, d.recipient_organisation_id, o.name as recipient_name, d.agreement_id,
               a.reference as agreement_reference, a.title as agreement_title, d.agreement_version, d.purpose,
               d.dataset_id, ds.title as dataset_title, d.fields, v.terms
        from disclosure_subjects s
        join disclosures d on d.id = s.disclosure_id
        left join organisations o on o.id = d.recipient_organisation_id
        left join agreements a on a.id = d.agreement_id
        left join agreement_versions v on v.agreement_id = d.agreement_id and v.version = d.agreement_version
        left join datasets ds on ds.id = d.dataset_id
        where s.subject_hash = ${hash} and d.organisation_id = ${actor.organisationId}
        order by d.occurred_at, d.audit_entry_id`.execute(trx);
      await appendAuditEvent(trx, {
        organisationId: actor.organisationId,
        actorUserId: actor.userId,
        actorKind: actor.actorKind,
        action,
        subjectType: 'data_subject',
        requestId: actor.requestId,
        details: { identifierKind: subject.kind, disclosureCount: rows.length },
      });
      return rows.map((row) => ({
        disclosureId: row.id,
        occurredAt: new Date(row.occurred_at),
        recipientOrganisationId: row.recipient_organisation_id,
        recipientName: row.recipient_name ?? 'An organisation no longer listed',
        agreementId: row.agreement_id,
        agreementReference: row.agreement_reference,
        agreementTitle: row.agreement_title,
        agreementVersion: Number(row.agreement_version),
        purpose: row.purpose,
        purposeLabel: (PURPOSES as Record<string, string>)[row.purpose] ?? row.purpose,
        datasetTitle: row.dataset_title,
        fields: row.fields,
        pseudonymisedFields: pseudonymisedFieldsOf(row.terms, row.dataset_id).filter((field) => row.fields.includes(field)),
      }));
    });
  }
}
