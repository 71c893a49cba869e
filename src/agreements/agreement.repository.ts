import type { Kysely } from 'kysely';
import { executePrepared } from '../db/prepared.ts';
import type { DB } from '../db/schema.ts';
import { storedTerms, termsToJson, type AgreementTerms } from './agreement.terms.ts';
import type { AgreementSummary, AgreementVersion, ApprovalRecord, TransitionRecord } from './agreement.types.ts';
import type { AgreementStatus, ApproverRole, VersionStatus } from './agreements.tables.ts';

/** Data access for agreements. Every function runs in the caller's transaction and tenant scope. */

type Row<T> = { [K in keyof T]: T[K] };

export function toSummary(row: Row<{ id: string; organisation_id: string; reference: string; title: string; status: AgreementStatus; version_in_force_id: string | null }>): AgreementSummary {
  return {
    id: row.id,
    organisationId: row.organisation_id,
    reference: row.reference,
    title: row.title,
    status: row.status,
    versionInForceId: row.version_in_force_id,
  };
}

const SUMMARY_COLUMNS = ['id', 'organisation_id', 'reference', 'title', 'status', 'version_in_force_id'] as const;

export async function findAgreementByReference(trx: Kysely<DB>, reference: string): Promise<AgreementSummary | null> {
  const row = await trx.selectFrom('agreements').select(SUMMARY_COLUMNS).where('reference', '=', reference).executeTakeFirst();
  return row ? toSummary(row) : null;
}

export async function findAgreementById(trx: Kysely<DB>, id: string): Promise<AgreementSummary | null> {
  const row = await trx.selectFrom('agreements').select(SUMMARY_COLUMNS).where('id', '=', id).executeTakeFirst();
  return row ? toSummary(row) : null;
}

export async function insertAgreement(trx: Kysely<DB>, values: { organisationId: string; reference: string; title: string }): Promise<string> {
  const row = await trx
    .insertInto('agreements')
    .values({ organisation_id: values.organisationId, reference: values.reference, title: values.title })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function updateAgreement(
  trx: Kysely<DB>,
  id: string,
  values: { status?: AgreementStatus; versionInForceId?: string; title?: string; reviewReminderSentFor?: string },
): Promise<void> {
  await trx
    .updateTable('agreements')
    .set({
      updated_at: new Date(),
      ...(values.status !== undefined ? { status: values.status } : {}),
      ...(values.versionInForceId !== undefined ? { version_in_force_id: values.versionInForceId } : {}),
      ...(values.title !== undefined ? { title: values.title } : {}),
      ...(values.reviewReminderSentFor !== undefined ? { review_reminder_sent_for: values.reviewReminderSentFor } : {}),
    })
    .where('id', '=', id)
    .execute();
}

export async function insertVersion(
  trx: Kysely<DB>,
  values: { agreementId: string; organisationId: string; version: number; terms: AgreementTerms; createdBy: string | null },
): Promise<string> {
  const row = await trx
    .insertInto('agreement_versions')
    .values({
      agreement_id: values.agreementId,
      organisation_id: values.organisationId,
      version: values.version,
      terms: JSON.stringify(termsToJson(values.terms)),
      purposes: values.terms.purposes,
      start_date: values.terms.startDate,
      end_date: values.terms.endDate,
      review_date: values.terms.reviewDate,
      created_by: values.createdBy,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function updateVersionTerms(trx: Kysely<DB>, versionId: string, terms: AgreementTerms): Promise<void> {
  await trx
    .updateTable('agreement_versions')
    .set({
      terms: JSON.stringify(termsToJson(terms)),
      purposes: terms.purposes,
      start_date: terms.startDate,
      end_date: terms.endDate,
      review_date: terms.reviewDate,
    })
    .where('id', '=', versionId)
    .execute();
}

export async function setVersionStatus(trx: Kysely<DB>, versionId: string, status: VersionStatus, at: Date): Promise<void> {
  await trx
    .updateTable('agreement_versions')
    .set({
      status,
      ...(status === 'awaiting_approval' ? { submitted_at: at } : {}),
      ...(status === 'approved' ? { approved_at: at } : {}),
    })
    .where('id', '=', versionId)
    .execute();
}

/** Maps a version row; `terms` may be given when the caller has the row's terms parsed already. */
export function toVersion(
  row: Row<{ id: string; agreement_id: string; version: number; status: VersionStatus; terms: unknown; created_at: Date; submitted_at: Date | null; approved_at: Date | null }>,
  terms: AgreementTerms = storedTerms(row.terms),
): AgreementVersion {
  return {
    id: row.id,
    agreementId: row.agreement_id,
    version: row.version,
    status: row.status,
    terms,
    createdAt: row.created_at,
    submittedAt: row.submitted_at,
    approvedAt: row.approved_at,
  };
}

export async function listVersions(trx: Kysely<DB>, agreementId: string): Promise<AgreementVersion[]> {
  const rows = await trx
    .selectFrom('agreement_versions')
    .select(['id', 'agreement_id', 'version', 'status', 'terms', 'created_at', 'submitted_at', 'approved_at'])
    .where('agreement_id', '=', agreementId)
    .orderBy('version')
    .execute();
  return rows.map((row) => toVersion(row));
}

export async function addParties(trx: Kysely<DB>, agreementId: string, ownerId: string, partyIds: string[]): Promise<void> {
  if (partyIds.length === 0) return;
  await trx
    .insertInto('agreement_parties')
    .values(partyIds.map((partyId) => ({ agreement_id: agreementId, party_organisation_id: partyId, organisation_id: ownerId })))
    .onConflict((conflict) => conflict.columns(['agreement_id', 'party_organisation_id']).doNothing())
    .execute();
}

export async function insertApproval(
  trx: Kysely<DB>,
  values: { organisationId: string; agreementId: string; versionId: string; partyOrganisationId: string; role: ApproverRole; userId: string; decision: 'approved' | 'declined'; comment: string; at: Date },
): Promise<void> {
  await trx
    .insertInto('agreement_approvals')
    .values({
      organisation_id: values.organisationId,
      agreement_id: values.agreementId,
      version_id: values.versionId,
      party_organisation_id: values.partyOrganisationId,
      approver_role: values.role,
      user_id: values.userId,
      decision: values.decision,
      comment: values.comment,
      decided_at: values.at,
    })
    .execute();
}

/** Decisions on a version made at or after `since` (its latest submission), oldest first. */
export async function listApprovals(trx: Kysely<DB>, versionId: string, since: Date): Promise<ApprovalRecord[]> {
  const rows = await trx
    .selectFrom('agreement_approvals')
    .select(['party_organisation_id', 'approver_role', 'user_id', 'decision', 'comment', 'decided_at'])
    .where('version_id', '=', versionId)
    .where('decided_at', '>=', since)
    .orderBy('decided_at')
    .orderBy('id')
    .execute();
  return rows.map((row) => ({
    partyOrganisationId: row.party_organisation_id,
    role: row.approver_role,
    userId: row.user_id,
    decision: row.decision,
    comment: row.comment,
    decidedAt: row.decided_at,
  }));
}

export async function insertTransition(
  trx: Kysely<DB>,
  values: { organisationId: string; agreementId: string; versionId: string | null; fromStatus: string | null; toStatus: string; actorUserId: string | null; actorKind: 'user' | 'token' | 'platform' | 'system'; reason: string; at: Date },
): Promise<void> {
  await trx
    .insertInto('agreement_transitions')
    .values({
      organisation_id: values.organisationId,
      agreement_id: values.agreementId,
      version_id: values.versionId,
      from_status: values.fromStatus,
      to_status: values.toStatus,
      actor_user_id: values.actorUserId,
      actor_kind: values.actorKind,
      reason: values.reason,
      occurred_at: values.at,
    })
    .execute();
}

export async function listTransitions(trx: Kysely<DB>, agreementId: string): Promise<TransitionRecord[]> {
  const rows = await trx
    .selectFrom('agreement_transitions as t')
    .leftJoin('agreement_versions as v', 'v.id', 't.version_id')
    .select(['t.from_status', 't.to_status', 't.actor_user_id', 't.actor_kind', 't.reason', 't.occurred_at', 'v.version'])
    .where('t.agreement_id', '=', agreementId)
    .orderBy('t.occurred_at')
    .orderBy('t.id')
    .execute();
  return rows.map((row) => ({
    fromStatus: row.from_status,
    toStatus: row.to_status,
    actorUserId: row.actor_user_id,
    actorKind: row.actor_kind,
    reason: row.reason,
    occurredAt: row.occurred_at,
    version: row.version,
  }));
}

/**
 * Agreements visible in the current scope, by reference: the register (active ones), or a party's own, leaving out
 * agreements discarded before any version came into force.
 */
export async function listAgreements(trx: Kysely<DB>, filter: { status?: AgreementStatus; partyOrganisationId?: string }): Promise<AgreementSummary[]> {
  let query = trx.selectFrom('agreements').select(SUMMARY_COLUMNS).orderBy('reference');
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.partyOrganisationId) {
    const partyId = filter.partyOrganisationId;
    query = query.where('status', '!=', 'discarded').where((eb) =>
      eb.or([
        eb('organisation_id', '=', partyId),
        eb.exists(eb.selectFrom('agreement_parties as p').select('p.agreement_id').whereRef('p.agreement_id', '=', 'agreements.id').where('p.party_organisation_id', '=', partyId)),
      ]),
    );
  }
  return (await query.execute()).map(toSummary);
}

export async function organisationNames(trx: Kysely<DB>, ids: string[]): Promise<Record<string, string>> {
  if (ids.length === 0) return {};
  const rows = await trx.selectFrom('organisations').select(['id', 'name']).where('id', 'in', ids).execute();
  return Object.fromEntries(rows.map((row) => [row.id, row.name]));
}

/** Slugs and titles of datasets; call in the provider's scope, since the datasets may be private. */
export async function datasetTitles(trx: Kysely<DB>, ids: string[]): Promise<Record<string, { slug: string; title: string }>> {
  if (ids.length === 0) return {};
  const rows = await trx.selectFrom('datasets').select(['id', 'slug', 'title']).where('id', 'in', ids).execute();
  return Object.fromEntries(rows.map((row) => [row.id, { slug: row.slug, title: row.title }]));
}

/** Active agreements whose version in force has passed its end or review date, or whose review reminder is due. */
export async function listActiveWithDates(trx: Kysely<DB>): Promise<Array<AgreementSummary & { endDate: string; reviewDate: string; reviewReminderSentFor: string | null }>> {
  const rows = await trx
    .selectFrom('agreements as a')
    .innerJoin('agreement_versions as v', 'v.id', 'a.version_in_force_id')
    .select(['a.id', 'a.organisation_id', 'a.reference', 'a.title', 'a.status', 'a.version_in_force_id', 'v.end_date', 'v.review_date', 'a.review_reminder_sent_for'])
    .where('a.status', 'in', ['active', 'suspended', 'lapsed_review'])
    .execute();
  return rows.map((row) => ({ ...toSummary(row), endDate: row.end_date, reviewDate: row.review_date, reviewReminderSentFor: row.review_reminder_sent_for }));
}
