import { createHash, randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { validationError } from '../errors.ts';
import type { KeyRing } from '../keys/key-ring.ts';
import { appendAuditEvent } from './audit.repository.ts';
import type { AuditActorKind } from './audit.tables.ts';
import { SUBJECT_KINDS, SubjectIndex, type SubjectIdentifier } from './subject-index.ts';

/** Rows per INSERT into disclosure_subjects (4 parameters each). */
const SUBJECT_INSERT_BATCH = 5000;

/** One release of data to a recipient organisation, as the exchange reports it. */
export interface DisclosureRecord {
  recipientOrganisationId: string;
  agreementId: string;
  /** The agreement's version number in force at the release. */
  agreementVersion: number;
  purpose: string;
  datasetId: string;
  /** The dataset version (resource) released. */
  resourceId: string;
  /** Names of the fields released, as the recipient received them. */
  fields: string[];
  rowCount: number;
  occurredAt: Date;
  requestId: string | null;
  /** The people in the release. Only keyed hashes of these identifiers are stored. */
  subjects: SubjectIdentifier[];
  /** The disclosing organisation; defaults to the organisation that owns the dataset. */
  organisationId?: string;
  actorUserId?: string | null;
  /** Who triggered the release; defaults to `token`, since releases are made through the exchange API. */
  actorKind?: AuditActorKind;
}

export interface AppendedDisclosure {
  id: string;
  auditEntryId: number;
  subjectCount: number;
}

function invalid(message: string): never {
  throw validationError('disclosure_invalid', message);
}

function checkRecord(record: DisclosureRecord): void {
  if (!Array.isArray(record.fields) || record.fields.length === 0 || record.fields.some((field) => typeof field !== 'string' || field === '')) {
    invalid('A disclosure must list the names of the fields released, and none may be empty.');
  }
  if (!Number.isSafeInteger(record.rowCount) || record.rowCount < 0) invalid(`A disclosure's row count must be a whole number of 0 or more, not ${record.rowCount}.`);
  if (!Number.isSafeInteger(record.agreementVersion) || record.agreementVersion < 1) invalid(`A disclosure's agreement version must be 1 or more, not ${record.agreementVersion}.`);
  if (!(record.occurredAt instanceof Date) || Number.isNaN(record.occurredAt.getTime())) invalid('A disclosure needs the time of the release as a valid date.');
  if (record.purpose.trim() === '') invalid('A disclosure needs the purpose of the release.');
  for (const [index, subject] of record.subjects.entries()) {
    if (!SUBJECT_KINDS.includes(subject.kind)) {
      invalid(`Subject ${index + 1} of the disclosure has kind "${String(subject.kind)}"; use one of ${SUBJECT_KINDS.join(', ')}.`);
    }
  }
}

/** SHA-256 over the sorted subject hashes, so the audit entry commits to exactly who was in the release. */
function subjectsDigest(hashes: readonly Buffer[]): string {
  const digest = createHash('sha256');
  for (const hash of [...hashes].sort(Buffer.compare)) digest.update(hash);
  return digest.digest('hex');
}

/**
 * Records a release in the caller's transaction: the disclosure row, a keyed hash per subject, and an audit entry whose
 * details repeat the disclosure (with a digest of the subject hashes), so the hash chain covers it. Clear identifiers
 * are hashed here and never stored.
 */
export async function appendDisclosure(trx: Kysely<DB>, record: DisclosureRecord, subjectIndex: SubjectIndex): Promise<AppendedDisclosure> {
  checkRecord(record);
  const organisationId = record.organisationId ?? (await datasetOrganisation(trx, record.datasetId));
  const hashes = subjectIndex.hashAll(record.subjects);
  const id = randomUUID();
  const fields = [...record.fields];

  const auditEntryId = await appendAuditEvent(trx, {
    organisationId,
    actorUserId: record.actorUserId ?? null,
    actorKind: record.actorKind ?? 'token',
    action: 'disclosure.recorded',
    subjectType: 'disclosure',
    subjectId: id,
    requestId: record.requestId,
    details: {
      recipientOrganisationId: record.recipientOrganisationId,
      agreementId: record.agreementId,
      agreementVersion: record.agreementVersion,
      purpose: record.purpose,
      datasetId: record.datasetId,
      resourceId: record.resourceId,
      fields,
      rowCount: record.rowCount,
      occurredAt: record.occurredAt.toISOString(),
      subjectCount: hashes.length,
      subjectsDigest: subjectsDigest(hashes),
    },
  });

  await trx
    .insertInto('disclosures')
    .values({
      id,
      organisation_id: organisationId,
      recipient_organisation_id: record.recipientOrganisationId,
      agreement_id: record.agreementId,
      agreement_version: record.agreementVersion,
      purpose: record.purpose,
      dataset_id: record.datasetId,
      resource_id: record.resourceId,
      fields,
      row_count: record.rowCount,
      subject_count: hashes.length,
      occurred_at: record.occurredAt,
      request_id: record.requestId,
      audit_entry_id: auditEntryId,
    })
    .execute();

  // One statement with one array parameter per batch: a multi-row VALUES list would bind four parameters per subject,
  // and building and parsing that statement cost more than the insert itself.
  for (let start = 0; start < hashes.length; start += SUBJECT_INSERT_BATCH) {
    const batch = hashes.slice(start, start + SUBJECT_INSERT_BATCH).map((subjectHash) => subjectHash.toString('hex'));
    await sql`
      insert into disclosure_subjects (disclosure_id, subject_hash, organisation_id, recipient_organisation_id)
      select ${id}::uuid, decode(hash, 'hex'), ${organisationId}::uuid, ${record.recipientOrganisationId}::uuid
      from unnest(${batch}::text[]) as hash`.execute(trx);
  }
  return { id, auditEntryId, subjectCount: hashes.length };
}

async function datasetOrganisation(trx: Kysely<DB>, datasetId: string): Promise<string> {
  const { rows } = await sql<{ organisation_id: string | null }>`select civic_dataset_organisation(${datasetId}::uuid) as organisation_id`.execute(trx);
  const organisationId = rows[0]?.organisation_id;
  if (!organisationId) invalid(`Dataset ${datasetId} does not exist, so the disclosure has no disclosing organisation.`);
  return organisationId;
}

/**
 * The disclosure log of one service: `appendDisclosure(trx, record)` with the service's subject index key, for the
 * exchange to call in the transaction of each release.
 */
export class DisclosureLog {
  readonly subjects: SubjectIndex;

  constructor(keys: KeyRing) {
    this.subjects = new SubjectIndex(keys);
  }

  appendDisclosure(trx: Kysely<DB>, record: DisclosureRecord): Promise<AppendedDisclosure> {
    return appendDisclosure(trx, record, this.subjects);
  }

  toJSON(): string {
    return '[DisclosureLog]';
  }
}
