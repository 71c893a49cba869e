import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { prepareStatement } from '../db/prepared.ts';
import type { DB } from '../db/schema.ts';
import { validationError } from '../errors.ts';
import type { KeyRing } from '../keys/key-ring.ts';
import { prepareAuditEvent } from './audit.repository.ts';
import { withEntries } from './chain.repository.ts';
import type { AuditActorKind } from './audit.tables.ts';
import { insertSubjectHashes, subjectsDigest } from './disclosure-subjects.ts';
import { INDEX_SUBJECTS_JOB, indexQueuedDisclosures, type IndexOptions, type QueueScope } from './disclosure-index.ts';
import { SUBJECT_KINDS, SubjectIndex, type SubjectIdentifier } from './subject-index.ts';

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
  /** The people in the release. Only keyed hashes of these identifiers are stored. Ignored when `deferSubjects` is set. */
  subjects: SubjectIdentifier[];
  /** The `_id` range of the version's table that the release read; required with `deferSubjects`. */
  rows?: ReleasedRowRange;
  /**
   * Queues the subjects for indexing after the release commits instead of hashing them now. The job reads them back
   * from `rows` of the dataset version, which never changes, under the agreement version's row filter.
   */
  deferSubjects?: boolean;
  /** The disclosing organisation; defaults to the organisation that owns the dataset. */
  organisationId?: string;
  actorUserId?: string | null;
  /** Who triggered the release; defaults to `token`, since releases are made through the exchange API. */
  actorKind?: AuditActorKind;
}

/** Rows `afterRowId < _id <= lastRowId` of a dataset version's table, after the row filter. */
export interface ReleasedRowRange {
  afterRowId: number;
  lastRowId: number;
}

export interface AppendedDisclosure {
  id: string;
  auditEntryId: number;
  /** Null when the subjects were queued for indexing. */
  subjectCount: number | null;
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
  if (record.rows !== undefined) {
    const { afterRowId, lastRowId } = record.rows;
    if (!Number.isSafeInteger(afterRowId) || !Number.isSafeInteger(lastRowId) || afterRowId < 0 || lastRowId <= afterRowId) {
      invalid(`A disclosure's row range must have whole numbers with 0 <= after < last, not ${afterRowId} to ${lastRowId}.`);
    }
  }
  if (record.deferSubjects === true && record.rows === undefined) invalid('A disclosure can defer its subjects only when it names its row range.');
  for (const [index, subject] of record.subjects.entries()) {
    if (!SUBJECT_KINDS.includes(subject.kind)) {
      invalid(`Subject ${index + 1} of the disclosure has kind "${String(subject.kind)}"; use one of ${SUBJECT_KINDS.join(', ')}.`);
    }
  }
}

/**
 * Records a release in the caller's transaction: the disclosure row, its subjects and an audit entry whose details
 * repeat the disclosure, so the hash chain covers it. By default subjects are hashed now: a keyed hash per person, with
 * a digest of the hashes in the audit entry. With `deferSubjects` they are queued with a job that hashes them after
 * commit and chains their digest in a second audit entry. Clear identifiers are never stored.
 */
export async function appendDisclosure(trx: Kysely<DB>, record: DisclosureRecord, subjectIndex: SubjectIndex): Promise<AppendedDisclosure> {
  checkRecord(record);
  const organisationId = record.organisationId ?? (await datasetOrganisation(trx, record.datasetId));
  const deferred = record.deferSubjects === true;
  const hashes = deferred ? [] : subjectIndex.hashAll(record.subjects);
  const id = randomUUID();
  const fields = [...record.fields];

  // The audit entry, the chain head and the disclosure are written in one statement, saving round trips per release.
  const audit = await prepareAuditEvent(trx, {
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
      ...(record.rows === undefined ? {} : { afterRowId: record.rows.afterRowId, lastRowId: record.rows.lastRowId }),
      occurredAt: record.occurredAt.toISOString(),
      ...(deferred ? { subjectsQueued: true } : { subjectCount: hashes.length, subjectsDigest: subjectsDigest(hashes) }),
    },
  });
  const auditEntryId = audit.ids[0]!;

  const disclosureRow = {
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
    subject_count: deferred ? null : hashes.length,
    after_row_id: record.rows?.afterRowId ?? null,
    last_row_id: record.rows?.lastRowId ?? null,
    occurred_at: record.occurredAt,
    request_id: record.requestId,
    audit_entry_id: auditEntryId,
  };

  const statement = await withEntries(trx, audit);
  if (deferred) {
    // The same statement writes the disclosure's queue row and the indexing job. Foreign keys are checked at the end
    // of the statement, when the audit entry and the disclosure row exist.
    const compiled = statement
      .with('disclosure', (db) => db.insertInto('disclosures').values(disclosureRow).returning(['id', 'organisation_id', 'resource_id']))
      .with('queued', (db) =>
        db.insertInto('disclosure_index_queue').columns(['disclosure_id', 'organisation_id', 'resource_id']).expression(db.selectFrom('disclosure').select(['id', 'organisation_id', 'resource_id'])),
      )
      .insertInto('jobs')
      .values(indexJobRow(organisationId, id))
      .compile();
    // A release of one audit entry always has this text, and planning it took about half its time on the server.
    if (audit.rows.length === 1) prepareStatement(compiled);
    await trx.executeQuery(compiled);
    return { id, auditEntryId, subjectCount: null };
  }
  await statement.insertInto('disclosures').values(disclosureRow).execute();
  await insertSubjectHashes(trx, { disclosureId: id, organisationId, recipientOrganisationId: record.recipientOrganisationId }, hashes);
  return { id, auditEntryId, subjectCount: hashes.length };
}

/** Builds the job row that indexes a queued disclosure, as enqueueJob would write it. */
function indexJobRow(organisationId: string, disclosureId: string) {
  return { kind: INDEX_SUBJECTS_JOB, organisation_id: organisationId, payload: JSON.stringify({ disclosure_id: disclosureId }), run_at: new Date(), max_attempts: 8, unique_key: null };
}

async function datasetOrganisation(trx: Kysely<DB>, datasetId: string): Promise<string> {
  const { rows } = await sql<{ organisation_id: string | null }>`select civic_dataset_organisation(${datasetId}::uuid) as organisation_id`.execute(trx);
  const organisationId = rows[0]?.organisation_id;
  if (!organisationId) invalid(`Dataset ${datasetId} does not exist, so the disclosure has no disclosing organisation.`);
  return organisationId;
}

/**
 * The disclosure log of one service: `appendDisclosure(trx, record)` with the service's subject index key, for the
 * exchange to call in the transaction of each release, and `indexQueued` for the subjects it deferred.
 */
export class DisclosureLog {
  readonly subjects: SubjectIndex;

  constructor(keys: KeyRing) {
    this.subjects = new SubjectIndex(keys);
  }

  appendDisclosure(trx: Kysely<DB>, record: DisclosureRecord): Promise<AppendedDisclosure> {
    return appendDisclosure(trx, record, this.subjects);
  }

  /**
   * Indexes the subjects of queued disclosures in `scope`, in the caller's transaction, and returns how many it
   * indexed. Callers that must see every disclosure (subject access, notices, retention) call it before they read.
   */
  indexQueued(trx: Kysely<DB>, scope: QueueScope, options: IndexOptions = {}): Promise<number> {
    return indexQueuedDisclosures(trx, this.subjects, scope, options);
  }

  toJSON(): string {
    return '[DisclosureLog]';
  }
}
