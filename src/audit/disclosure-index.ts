import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { readReleasedSubjects, type QueuedDisclosure, type ReleaseTermsCache } from '../exchange/released-subjects.ts';
import { appendAuditEvents, type AuditEvent } from './audit.repository.ts';
import { insertSubjectHashes, subjectsDigest } from './disclosure-subjects.ts';
import type { SubjectIndex } from './subject-index.ts';

/** Job kind that indexes the subjects of an organisation's queued disclosures. */
export const INDEX_SUBJECTS_JOB = 'disclosures.index_subjects';

/** The queued disclosures to index: those of one disclosing organisation, or those reading one dataset version. */
export type QueueScope = { organisationId: string } | { resourceId: string };

export interface IndexOptions {
  /** Leaves disclosures that another transaction is indexing to it; a background job sets this. Waits otherwise. */
  skipLocked?: boolean;
  /** Maximum disclosures to index in this call; all of them when absent. */
  limit?: number;
}

interface QueuedRow {
  id: string;
  organisation_id: string;
  recipient_organisation_id: string;
  agreement_id: string;
  agreement_version: number;
  dataset_id: string;
  resource_id: string;
  row_count: string | number;
  after_row_id: string | number | null;
  last_row_id: string | number | null;
}

/**
 * Indexes queued disclosures in the caller's transaction. For each one it reads the released rows back from the
 * dataset version, writes a keyed hash per subject, removes the queue row and chains one audit entry with the subject
 * count and digest. The queue rows are locked first, so two indexers never write the same disclosure. Without
 * `skipLocked` a caller waits for a concurrent indexer to commit, and then sees its subjects.
 */
export async function indexQueuedDisclosures(trx: Kysely<DB>, subjectIndex: SubjectIndex, scope: QueueScope, options: IndexOptions = {}): Promise<number> {
  const filter = 'organisationId' in scope ? sql`q.organisation_id = ${scope.organisationId}` : sql`q.resource_id = ${scope.resourceId}`;
  const limit = options.limit === undefined ? sql`` : sql`limit ${options.limit}`;
  const lock = options.skipLocked === true ? sql`for update of q skip locked` : sql`for update of q`;
  const { rows } = await sql<QueuedRow>`
    select d.id, d.organisation_id, d.recipient_organisation_id, d.agreement_id, d.agreement_version, d.dataset_id,
           d.resource_id, d.row_count, d.after_row_id, d.last_row_id
    from disclosure_index_queue q
    join disclosures d on d.id = q.disclosure_id
    where ${filter}
    order by q.queued_at, q.disclosure_id
    ${limit}
    ${lock}`.execute(trx);
  if (rows.length === 0) return 0;

  const cache: ReleaseTermsCache = new Map();
  const events: AuditEvent[] = [];
  for (const row of rows) {
    const disclosure = toQueuedDisclosure(row);
    const hashes = subjectIndex.hashAll(await readReleasedSubjects(trx, disclosure, cache));
    await insertSubjectHashes(trx, { disclosureId: disclosure.id, organisationId: disclosure.organisationId, recipientOrganisationId: disclosure.recipientOrganisationId }, hashes);
    events.push({
      organisationId: disclosure.organisationId,
      actorUserId: null,
      actorKind: 'system',
      action: 'disclosure.subjects_indexed',
      subjectType: 'disclosure',
      subjectId: disclosure.id,
      details: { subjectCount: hashes.length, subjectsDigest: subjectsDigest(hashes) },
    });
  }
  await trx.deleteFrom('disclosure_index_queue').where('disclosure_id', 'in', rows.map((row) => row.id)).execute();
  // The audit entries go last because appending holds the chain head's lock until the transaction ends.
  await appendAuditEvents(trx, events);
  return rows.length;
}

function toQueuedDisclosure(row: QueuedRow): QueuedDisclosure {
  if (row.after_row_id === null || row.last_row_id === null) {
    throw new Error(`Disclosure ${row.id} is queued for indexing but has no row range, so its subjects cannot be read back.`);
  }
  return {
    id: row.id,
    organisationId: row.organisation_id,
    recipientOrganisationId: row.recipient_organisation_id,
    agreementId: row.agreement_id,
    agreementVersion: Number(row.agreement_version),
    datasetId: row.dataset_id,
    resourceId: row.resource_id,
    rowCount: Number(row.row_count),
    afterRowId: Number(row.after_row_id),
    lastRowId: Number(row.last_row_id),
  };
}
