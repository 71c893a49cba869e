import { sql, type Kysely } from 'kysely';
import { storedTerms } from '../agreements/agreement.terms.ts';
import { appendAuditEvent } from '../audit/audit.repository.ts';
import type { DisclosureLog } from '../audit/disclosure.repository.ts';
import type { SubjectIdentifier, SubjectKind } from '../audit/subject-index.ts';
import type { Database } from '../db/database.ts';
import type { DB } from '../db/schema.ts';
import { withOrganisation } from '../db/tenant.ts';
import { notFound, validationError, type FieldError } from '../errors.ts';
import type { Normalisation } from '../agreements/agreement.terms.ts';
import { Pseudonymiser } from '../exchange/pseudonym.ts';
import { enqueueJob, type Clock } from '../jobs/job-queue.ts';
import type { KeyRing } from '../keys/key-ring.ts';
import type { NoticeAgreement, RectificationAction } from './gdpr.tables.ts';
import { parseSubjectQuery, type SubjectAccessActor } from './subject-access.service.ts';

/** Job kind whose handler sends a notice to the recipient's webhook subscriptions. */
export const NOTICE_WEBHOOK_JOB = 'gdpr.notice_webhook';

export const NOTICE_EVENT_TYPES: Record<RectificationAction, string> = { rectified: 'subject.rectified', erased: 'subject.erased' };

const ACTION_REQUIRED: Record<RectificationAction, string> = {
  rectified: 'Correct your copy of this person’s record as described, then acknowledge this notice.',
  erased: 'Erase your copy of this person’s record, then acknowledge this notice.',
};

/** The pseudonymisation each identifier kind gets when an agreement does not name one for the subject field. */
const DEFAULT_NORMALISATION: Record<SubjectKind, Normalisation> = { nhs_number: 'nhs_number', email: 'email', person_id: 'text' };

export interface RectificationInput {
  action: RectificationAction;
  subject: SubjectIdentifier;
  description: string;
}

/**
 * Validates a rectification or erasure: the identifier as for subject access, the action, and a description of what
 * changed that does not contain the identifier. Throws a validation error naming the fields `action`, `kind`,
 * `identifier` and `description`.
 */
export function parseRectification(input: { action?: unknown; kind?: unknown; identifier?: unknown; description?: unknown }): RectificationInput {
  const errors: FieldError[] = [];
  const action = input.action === 'rectified' || input.action === 'erased' ? input.action : null;
  if (action === null) errors.push({ field: 'action', message: 'Select whether the data was corrected or erased' });
  let subject: SubjectIdentifier | null = null;
  try {
    subject = parseSubjectQuery(input);
  } catch (error) {
    const fields = (error as { fields?: FieldError[] }).fields;
    if (!fields) throw error;
    errors.push(...fields);
  }
  const description = typeof input.description === 'string' ? input.description.trim() : '';
  if (description === '') errors.push({ field: 'description', message: 'Enter what was changed, without the personal data itself' });
  else if (description.length > 2000) errors.push({ field: 'description', message: 'Description of the change must be 2,000 characters or fewer' });
  else if (subject && containsIdentifier(description, subject)) {
    errors.push({ field: 'description', message: 'Description of the change must not contain the person’s identifier' });
  }
  if (errors.length > 0 || action === null || subject === null) throw validationError('invalid_rectification', errors.map((error) => error.message).join('. '), errors);
  return { action, subject, description };
}

function containsIdentifier(text: string, subject: SubjectIdentifier): boolean {
  if (subject.kind === 'nhs_number') return text.replace(/\D/g, '').includes(subject.value);
  return text.toLowerCase().includes(subject.value.trim().toLowerCase());
}

interface ReleaseRow {
  recipient_organisation_id: string;
  agreement_id: string;
  agreement_version: number;
  reference: string | null;
  dataset_id: string;
  dataset_title: string | null;
  resource_id: string;
  terms: unknown;
}

/** A notice as the provider and the recipient see it. */
export interface Notice {
  id: string;
  providerOrganisationId: string;
  providerName: string | null;
  recipientOrganisationId: string;
  recipientName: string | null;
  action: RectificationAction;
  description: string;
  agreements: NoticeAgreement[];
  createdAt: Date;
  acknowledgedAt: Date | null;
  actionRequired: string;
}

export interface RectificationOptions {
  clock?: Clock;
  /** Days after which an unacknowledged notice is overdue; one month (Article 12(3)) by default. */
  overdueAfterDays?: number;
}

/**
 * Rectifications and erasures (UK GDPR Article 19). A DPO records the change once, and every organisation that
 * received the person gets a notice naming the agreements and datasets concerned. The notice carries the person's
 * pseudonym under each agreement, so the recipient can find the record without the clear identifier.
 */
export class RectificationService {
  readonly #clock: Clock;
  readonly overdueAfterDays: number;

  constructor(
    private readonly db: Database,
    private readonly keys: KeyRing,
    private readonly disclosures: DisclosureLog,
    options: RectificationOptions = {},
  ) {
    this.#clock = options.clock ?? (() => new Date());
    this.overdueAfterDays = options.overdueAfterDays ?? 30;
  }

  /** Records the change and its notices in one transaction, audited, with a webhook job per notice. */
  async record(actor: SubjectAccessActor, input: RectificationInput): Promise<{ rectificationId: string; noticeIds: string[] }> {
    const hash = this.disclosures.subjects.hash(input.subject);
    if (hash === null) throw validationError('invalid_rectification', 'Enter the identifier', [{ field: 'identifier', message: 'Enter the identifier' }]);
    const now = this.#clock();
    return withOrganisation(this.db.app, actor.organisationId, async (trx) => {
      // Every recipient must get a notice, including those of releases whose subjects are still queued.
      await this.disclosures.indexQueued(trx, { organisationId: actor.organisationId });
      const { rows } = await sql<ReleaseRow>`
        select distinct d.recipient_organisation_id, d.agreement_id, d.agreement_version, a.reference, d.dataset_id,
               ds.title as dataset_title, d.resource_id, v.terms
        from disclosure_subjects s
        join disclosures d on d.id = s.disclosure_id
        left join agreements a on a.id = d.agreement_id
        left join agreement_versions v on v.agreement_id = d.agreement_id and v.version = d.agreement_version
        left join datasets ds on ds.id = d.dataset_id
        where s.subject_hash = ${hash} and d.organisation_id = ${actor.organisationId}
        order by d.recipient_organisation_id, d.agreement_id, d.dataset_id, d.resource_id`.execute(trx);

      const rectification = await trx
        .insertInto('subject_rectifications')
        .values({ organisation_id: actor.organisationId, action: input.action, identifier_kind: input.subject.kind, subject_hash: hash, description: input.description, recorded_by: actor.userId, recorded_at: now })
        .returning('id')
        .executeTakeFirstOrThrow();

      const noticeIds: string[] = [];
      for (const [recipientId, agreements] of this.#groupByRecipient(rows, input.subject)) {
        const notice = await trx
          .insertInto('rectification_notices')
          .values({ organisation_id: actor.organisationId, rectification_id: rectification.id, recipient_organisation_id: recipientId, action: input.action, description: input.description, agreements: JSON.stringify(agreements), created_at: now })
          .returning('id')
          .executeTakeFirstOrThrow();
        noticeIds.push(notice.id);
        await enqueueJob(trx, { kind: NOTICE_WEBHOOK_JOB, organisationId: actor.organisationId, runAt: now, payload: { notice_id: notice.id } });
      }

      await appendAuditEvent(trx, {
        organisationId: actor.organisationId,
        actorUserId: actor.userId,
        actorKind: actor.actorKind,
        action: `subject.${input.action}`,
        subjectType: 'subject_rectification',
        subjectId: rectification.id,
        requestId: actor.requestId,
        details: { identifierKind: input.subject.kind, noticeIds, recipientCount: noticeIds.length },
      });
      return { rectificationId: rectification.id, noticeIds };
    });
  }

  #groupByRecipient(rows: ReleaseRow[], subject: SubjectIdentifier): Map<string, NoticeAgreement[]> {
    const byRecipient = new Map<string, Map<string, NoticeAgreement>>();
    for (const row of rows) {
      const agreements = byRecipient.get(row.recipient_organisation_id) ?? new Map<string, NoticeAgreement>();
      byRecipient.set(row.recipient_organisation_id, agreements);
      let agreement = agreements.get(row.agreement_id);
      if (!agreement) {
        const { normalisation, fields } = subjectPseudonymisation(row.terms, subject.kind);
        agreement = {
          agreementId: row.agreement_id,
          reference: row.reference,
          pseudonym: new Pseudonymiser(this.keys, row.agreement_id).pseudonymise(subject.value, normalisation),
          pseudonymFields: fields,
          datasets: [],
        };
        agreements.set(row.agreement_id, agreement);
      }
      let dataset = agreement.datasets.find((item) => item.datasetId === row.dataset_id);
      if (!dataset) {
        dataset = { datasetId: row.dataset_id, title: row.dataset_title, resourceIds: [] };
        agreement.datasets.push(dataset);
      }
      if (!dataset.resourceIds.includes(row.resource_id)) dataset.resourceIds.push(row.resource_id);
    }
    return new Map([...byRecipient].map(([recipient, agreements]) => [recipient, [...agreements.values()]]));
  }

  /** Notices the organisation sent; with `overdueOnly`, those unacknowledged for longer than the overdue period. */
  async listSent(organisationId: string, options: { overdueOnly?: boolean } = {}): Promise<Notice[]> {
    return withOrganisation(this.db.app, organisationId, (trx) => this.#list(trx, 'organisation_id', organisationId, options.overdueOnly ?? false));
  }

  /** Notices addressed to the organisation, newest first. */
  async listReceived(organisationId: string): Promise<Notice[]> {
    return withOrganisation(this.db.app, organisationId, (trx) => this.#list(trx, 'recipient_organisation_id', organisationId, false));
  }

  /** Computes when a notice created at `createdAt` becomes overdue. */
  dueAt(createdAt: Date): Date {
    return new Date(createdAt.getTime() + this.overdueAfterDays * 24 * 60 * 60 * 1000);
  }

  async #list(trx: Kysely<DB>, column: 'organisation_id' | 'recipient_organisation_id', organisationId: string, overdueOnly: boolean): Promise<Notice[]> {
    let query = trx
      .selectFrom('rectification_notices as n')
      .leftJoin('organisations as p', 'p.id', 'n.organisation_id')
      .leftJoin('organisations as r', 'r.id', 'n.recipient_organisation_id')
      .select(['n.id', 'n.organisation_id', 'p.name as provider_name', 'n.recipient_organisation_id', 'r.name as recipient_name', 'n.action', 'n.description', 'n.agreements', 'n.created_at', 'n.acknowledged_at'])
      .where(`n.${column}`, '=', organisationId);
    if (overdueOnly) {
      const cutoff = new Date(this.#clock().getTime() - this.overdueAfterDays * 24 * 60 * 60 * 1000);
      query = query.where('n.acknowledged_at', 'is', null).where('n.created_at', '<', cutoff);
    }
    const rows = await query.orderBy('n.created_at', 'desc').orderBy('n.id').execute();
    return rows.map((row) => ({
      id: row.id,
      providerOrganisationId: row.organisation_id,
      providerName: row.provider_name,
      recipientOrganisationId: row.recipient_organisation_id,
      recipientName: row.recipient_name,
      action: row.action,
      description: row.description,
      agreements: row.agreements,
      createdAt: new Date(row.created_at),
      acknowledgedAt: row.acknowledged_at ? new Date(row.acknowledged_at) : null,
      actionRequired: ACTION_REQUIRED[row.action],
    }));
  }

  /**
   * Records that the recipient acted on a notice, audited under the recipient organisation. Only the recipient can
   * acknowledge, so any other organisation, the provider included, gets not found.
   */
  async acknowledge(actor: SubjectAccessActor, noticeId: string): Promise<{ acknowledgedAt: Date; alreadyAcknowledged: boolean }> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(noticeId)) throw noticeNotFound(noticeId);
    const now = this.#clock();
    return withOrganisation(this.db.app, actor.organisationId, async (trx) => {
      const notice = await trx
        .selectFrom('rectification_notices')
        .select(['id', 'organisation_id', 'acknowledged_at'])
        .where('id', '=', noticeId)
        .where('recipient_organisation_id', '=', actor.organisationId)
        .forUpdate()
        .executeTakeFirst();
      if (!notice) throw noticeNotFound(noticeId);
      if (notice.acknowledged_at) return { acknowledgedAt: new Date(notice.acknowledged_at), alreadyAcknowledged: true };
      await trx.updateTable('rectification_notices').set({ acknowledged_at: now, acknowledged_by: actor.userId }).where('id', '=', noticeId).execute();
      await appendAuditEvent(trx, {
        organisationId: actor.organisationId,
        actorUserId: actor.userId,
        actorKind: actor.actorKind,
        action: 'subject_notice.acknowledged',
        subjectType: 'rectification_notice',
        subjectId: noticeId,
        requestId: actor.requestId,
        details: { providerOrganisationId: notice.organisation_id },
      });
      return { acknowledgedAt: now, alreadyAcknowledged: false };
    });
  }

  /** Builds the webhook event of a notice: references and pseudonyms only, never the identifier. */
  async webhookEvent(trx: Kysely<DB>, noticeId: string): Promise<{ recipientId: string; agreementId: string | null; type: string; data: Record<string, unknown> } | null> {
    const notice = await trx.selectFrom('rectification_notices').selectAll().where('id', '=', noticeId).executeTakeFirst();
    if (!notice) return null;
    const agreements = notice.agreements;
    return {
      recipientId: notice.recipient_organisation_id,
      agreementId: agreements.length === 1 ? agreements[0]!.agreementId : null,
      type: NOTICE_EVENT_TYPES[notice.action],
      data: {
        notice_id: notice.id,
        action: notice.action,
        action_required: ACTION_REQUIRED[notice.action],
        description: notice.description,
        agreements: agreements.map((agreement) => ({
          reference: agreement.reference,
          subject_pseudonym: agreement.pseudonym,
          pseudonym_fields: agreement.pseudonymFields,
          datasets: agreement.datasets.map((dataset) => ({ dataset_id: dataset.datasetId, title: dataset.title })),
        })),
      },
    };
  }
}

/**
 * Finds how an agreement pseudonymised the subject: the normalisation of the subject field when the agreement
 * pseudonymises it, otherwise the default for the identifier kind.
 */
function subjectPseudonymisation(termsJson: unknown, kind: SubjectKind): { normalisation: Normalisation; fields: string[] } {
  if (termsJson === null || termsJson === undefined) return { normalisation: DEFAULT_NORMALISATION[kind], fields: [] };
  const terms = storedTerms(termsJson);
  const fields: string[] = [];
  let normalisation: Normalisation | null = null;
  for (const dataset of terms.datasets) {
    if (dataset.subject?.kind !== kind) continue;
    const entry = dataset.pseudonymise.find((item) => item.field === dataset.subject!.field);
    if (!entry) continue;
    normalisation ??= entry.normalise;
    if (!fields.includes(entry.field)) fields.push(entry.field);
  }
  return { normalisation: normalisation ?? DEFAULT_NORMALISATION[kind], fields };
}

function noticeNotFound(id: string) {
  return notFound('notice_not_found', `No notice addressed to your organisation has the id ${id}.`);
}
