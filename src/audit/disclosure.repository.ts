import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { validationError } from '../errors.ts';
import type { KeyRing } from '../keys/key-ring.ts';
import { checkAuditEvent, prepareAuditEvent, type AuditEvent } from './audit.repository.ts';
import { chainEntries, lockChainHead, withEntries, type PreparedEntries } from './chain.repository.ts';
import { writeDisclosureAfterHead, type IndexJobRow } from './disclosure-write.ts';
import { RememberedHead, type ExpectedHead } from './remembered-head.ts';
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
export async function appendDisclosure(trx: Kysely<DB>, record: DisclosureRecord, subjectIndex: SubjectIndex, remembered?: RememberedHead): Promise<AppendedDisclosure> {
  checkRecord(record);
  const organisationId = record.organisationId ?? (await datasetOrganisation(trx, record.datasetId));
  const deferred = record.deferSubjects === true;
  const hashes = deferred ? [] : subjectIndex.hashAll(record.subjects);
  const id = randomUUID();
  const fields = [...record.fields];

  // The audit entry, the chain head and the disclosure are written in one statement, saving round trips per release.
  const event: AuditEvent = {
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
  };
  const disclosureRow = (auditEntryId: number) => ({
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
  });

  if (deferred) {
    checkAuditEvent(event);
    const row = { ...disclosureRow(0), after_row_id: record.rows!.afterRowId, last_row_id: record.rows!.lastRowId };
    const job = indexJobRow(organisationId, id);
    const write = async (expected: ExpectedHead, prepared: PreparedEntries): Promise<boolean> =>
      writeDisclosureAfterHead(trx, expected, prepared, { ...row, audit_entry_id: prepared.ids[0]! }, job);
    // After a head this process remembers, the release need not lock and read the head first. If the head has moved
    // since, nothing is written, and the entry is built again under the lock.
    const attempt = remembered?.prepare([event], new Date());
    if (attempt && (await write(attempt.expected, attempt.prepared))) return { id, auditEntryId: attempt.prepared.ids[0]!, subjectCount: null };
    const head = await lockChainHead(trx);
    const expected = { size: head.size, headHash: head.headHash };
    const prepared = chainEntries(head, [event], new Date());
    remembered?.remember(prepared.head);
    if (!(await write(expected, prepared))) throw new Error('The audit chain head moved while this transaction held its lock.');
    return { id, auditEntryId: prepared.ids[0]!, subjectCount: null };
  }

  const audit = await prepareAuditEvent(trx, event);
  const auditEntryId = audit.ids[0]!;
  remembered?.remember(audit.head);
  const statement = await withEntries(trx, audit);
  await statement.insertInto('disclosures').values(disclosureRow(auditEntryId)).execute();
  await insertSubjectHashes(trx, { disclosureId: id, organisationId, recipientOrganisationId: record.recipientOrganisationId }, hashes);
  return { id, auditEntryId, subjectCount: hashes.length };
}

/** Builds the job row that indexes a queued disclosure, as enqueueJob would write it. */
function indexJobRow(organisationId: string, disclosureId: string): IndexJobRow {
  return { kind: INDEX_SUBJECTS_JOB, organisation_id: organisationId, payload: JSON.stringify({ disclosure_id: disclosureId }), run_at: new Date(), max_attempts: 8 };
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
  /** The chain head as this log's releases left it, so a release need not lock and read it first. */
  readonly #head = new RememberedHead();

  constructor(keys: KeyRing) {
    this.subjects = new SubjectIndex(keys);
  }

  appendDisclosure(trx: Kysely<DB>, record: DisclosureRecord): Promise<AppendedDisclosure> {
    return appendDisclosure(trx, record, this.subjects, this.#head);
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
