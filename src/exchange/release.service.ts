import type { Kysely } from 'kysely';
import type { DisclosureLog } from '../audit/disclosure.repository.ts';
import type { Database } from '../db/database.ts';
import type { DB } from '../db/schema.ts';
import { AppError, validationError } from '../errors.ts';
import type { Clock } from '../jobs/job-queue.ts';
import type { KeyRing } from '../keys/key-ring.ts';
import { CursorCodec } from './cursor.ts';
import { Pseudonymisers } from './pseudonym.ts';
import { authoriseRelease, loadNextResource, loadResource, type ReleasePlan, type ReleaseRequest, type ReleaseResource } from './release-policy.ts';
import { describeFields, RowReader, type ReleasedRows } from './release-rows.ts';

/** The organisation, token and request behind a release. */
export interface Caller {
  organisationId: string;
  userId: string;
  tokenId: string | null;
  requestId: string;
}

export const DEFAULT_PAGE_SIZE = 1000;
export const MAX_PAGE_SIZE = 10_000;

/**
 * Releases of up to this many rows hash their subjects inside the release, and larger ones queue them for a job. An
 * estimate from the exchange bench on PostgreSQL: indexing inline costs about 60 µs per subject, while queuing costs
 * about 2 ms of queue and job rows in the release plus three worker transactions, so the totals meet near 64.
 */
export const INLINE_SUBJECT_LIMIT = 64;

export interface RecordsPage {
  agreement: { reference: string; version: number };
  dataset: { slug: string; version: number };
  purpose: string;
  fields: Array<{ name: string; type: string; pseudonymised: boolean }>;
  records: Array<Record<string, unknown>>;
  /** Cursor for the next page; null on the last page. */
  next_cursor: string | null;
}

export interface ChangesPage extends RecordsPage {
  /** Cursor to pass as `since` next time; present even when nothing changed. */
  next_cursor: string;
  /** Whether more rows are ready now; when false, call again later with `next_cursor`. */
  has_more: boolean;
}

/**
 * Releases data to recipients under agreements: one page of records, a page of the change feed, and (in
 * export.service.ts) whole exports. Each release checks the terms, reads and shapes the rows and writes the
 * disclosure record in one transaction, so data never leaves without its record.
 */
export class ReleaseService {
  readonly cursors: CursorCodec;
  readonly pseudonymisers: Pseudonymisers;
  readonly #inlineSubjectLimit: number;

  constructor(
    readonly db: Database,
    readonly keys: KeyRing,
    readonly disclosures: DisclosureLog,
    readonly clock: Clock = () => new Date(),
    options: { inlineSubjectLimit?: number } = {},
  ) {
    this.cursors = new CursorCodec(keys);
    this.pseudonymisers = new Pseudonymisers(keys);
    this.#inlineSubjectLimit = options.inlineSubjectLimit ?? INLINE_SUBJECT_LIMIT;
  }

  async records(caller: Caller, request: ReleaseRequest, options: { cursor?: string; limit?: number }): Promise<RecordsPage> {
    return this.encodedRecords(caller, request, options, (page) => page);
  }

  /**
   * Releases one page of records and returns `encode(page)`. The disclosure record's statement is sent as soon as the
   * rows are read, and the page is shaped (pseudonyms included) while the database writes it. An error in either rolls
   * the release back. The commit is sent as soon as the record is written, and the page is encoded while the database
   * makes the commit durable. The result waits for the commit, so a response is never ready before its record is.
   * Should the encoding fail after the commit, the log keeps the record of a page that was never sent, which overstates
   * a release and never hides one.
   */
  async encodedRecords<T>(caller: Caller, request: ReleaseRequest, options: { cursor?: string; limit?: number }, encode: (page: RecordsPage) => T): Promise<T> {
    const limit = pageSize(options.limit);
    let encoding: Promise<T> | undefined;
    await this.db.app.transaction().execute(async (trx) => {
      const plan = await authoriseRelease(trx, toRequest(caller, request), this.clock());
      const scope = `${plan.agreement.id}:${plan.datasetId}:records`;
      let position = { version: 0, lastId: 0 };
      if (options.cursor !== undefined) {
        const decoded = this.cursors.decode(scope, options.cursor);
        if (!decoded) throw invalidCursor('cursor');
        position = decoded;
      }
      const resource = await loadResource(trx, plan, options.cursor === undefined ? undefined : position.version);
      if (!resource) throw noData(plan, options.cursor !== undefined);
      const reader = this.rowReader(plan, resource);
      const rows = await reader.read(trx, position.lastId, limit);
      const released = reader.released(rows);
      // `_id` numbers a version's rows 1..row_count, so a page that ends at the last row is the last page, and the
      // client need not ask for an empty one.
      const more = rows.length === limit && released.lastId !== null && released.lastId < resource.rowCount;
      const page = await whileRecording(this.disclose(trx, caller, plan, resource, released, position.lastId), () => ({
        ...describePage(plan, resource),
        records: reader.shape(rows),
        next_cursor: more ? this.cursors.encode(scope, { version: resource.version, lastId: released.lastId! }) : null,
      }));
      encoding = nextTurn().then(() => encode(page));
      // Awaited below once the transaction has ended. If the transaction fails, the encoded page is dropped.
      encoding.catch(() => undefined);
    });
    return encoding!;
  }

  /**
   * The change feed: rows of dataset versions newer than the cursor, version by version in `_id` order. Without
   * `since` it starts at the beginning of the current version.
   */
  async changes(caller: Caller, request: ReleaseRequest, options: { since?: string; limit?: number }): Promise<ChangesPage> {
    const limit = pageSize(options.limit);
    return this.db.app.transaction().execute(async (trx) => {
      const plan = await authoriseRelease(trx, toRequest(caller, request), this.clock());
      const scope = `${plan.agreement.id}:${plan.datasetId}:changes`;
      let resource: ReleaseResource | null;
      let afterId = 0;
      if (options.since === undefined) {
        resource = await loadResource(trx, plan);
        if (!resource) throw noData(plan, false);
      } else {
        const position = this.cursors.decode(scope, options.since);
        if (!position) throw invalidCursor('since');
        resource = await loadResource(trx, plan, position.version);
        afterId = position.lastId;
        // `_id` numbers a version's rows 1..row_count, so a cursor at row_count has read the whole version, which
        // hands over to the next version if there is one.
        if (!resource || afterId >= resource.rowCount) {
          const next = await loadNextResource(trx, plan, position.version);
          if (next) {
            resource = next;
            afterId = 0;
          } else if (!resource) throw noData(plan, true);
        }
      }
      const page = await this.rowReader(plan, resource).readPage(trx, afterId, limit);
      if (page.records.length > 0) await this.disclose(trx, caller, plan, resource, page.released, afterId);
      const lastId = page.lastId ?? Math.max(afterId, resource.rowCount);
      // A full page that ends at the version's last row has read the version, as above.
      const hasMore = (page.records.length === limit && lastId < resource.rowCount) || (await loadNextResource(trx, plan, resource.version)) !== null;
      return {
        ...describePage(plan, resource),
        records: page.records,
        next_cursor: this.cursors.encode(scope, { version: resource.version, lastId }),
        has_more: hasMore,
      };
    });
  }

  /** Reads rows of `resource` as `plan` releases them, with the agreement's pseudonymiser. */
  rowReader(plan: ReleasePlan, resource: ReleaseResource): RowReader {
    return new RowReader(this.pseudonymisers.of(plan.agreement.id), plan, resource);
  }

  /**
   * Writes the disclosure record of one release in the release's transaction. The record names the rows released
   * (`afterId` < `_id` <= the page's last `_id` of this version), so a large release can leave its subjects to the
   * indexing job, which reads the same rows back.
   */
  async disclose(trx: Kysely<DB>, caller: Caller, plan: ReleasePlan, resource: ReleaseResource, released: ReleasedRows, afterId: number): Promise<void> {
    const rows = released.lastId === null ? undefined : { afterRowId: afterId, lastRowId: released.lastId };
    const deferSubjects = rows !== undefined && plan.dataset.subject !== null && released.rowCount > this.#inlineSubjectLimit;
    await this.disclosures.appendDisclosure(trx, {
      organisationId: plan.agreement.organisationId,
      recipientOrganisationId: caller.organisationId,
      agreementId: plan.agreement.id,
      agreementVersion: plan.version.version,
      purpose: plan.purpose,
      datasetId: plan.datasetId,
      resourceId: resource.id,
      fields: plan.fields.map((field) => field.name),
      rowCount: released.rowCount,
      occurredAt: this.clock(),
      requestId: caller.requestId,
      subjects: deferSubjects ? [] : released.subjects(),
      ...(rows === undefined ? {} : { rows }),
      deferSubjects,
      actorUserId: caller.userId,
      actorKind: 'token',
    });
  }
}

export function toRequest(caller: Caller, request: ReleaseRequest): ReleaseRequest {
  return { ...request, recipientOrganisationId: caller.organisationId };
}

export function describePage(plan: ReleasePlan, resource: ReleaseResource): Omit<RecordsPage, 'records' | 'next_cursor'> {
  return {
    agreement: { reference: plan.agreement.reference, version: plan.version.version },
    dataset: { slug: plan.datasetSlug, version: resource.version },
    purpose: plan.purpose,
    fields: describeFields(plan),
  };
}

/**
 * Runs `work` while `recording` (the disclosure record's statement) runs in the database, and returns its result once
 * the record is written. An error in either is thrown, and the other is awaited first so that the transaction ends
 * with nothing in flight.
 */
async function whileRecording<T>(recording: Promise<void>, work: () => T): Promise<T> {
  recording.catch(() => undefined);
  // Let the statement reach the database before the work takes this thread.
  await nextTurn();
  let result: T;
  try {
    result = work();
  } catch (error) {
    await recording.catch(() => undefined);
    throw error;
  }
  await recording;
  return result;
}

/**
 * Resolves after the event loop has handled waiting I/O, such as a statement's reply. Work that awaits it first lets
 * the next statement go out, so the database works while this thread does.
 */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function pageSize(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw validationError('invalid_limit', `The limit ${limit} is not valid. Use a whole number from 1 to ${MAX_PAGE_SIZE}.`, [{ field: 'limit', message: `Use a whole number from 1 to ${MAX_PAGE_SIZE}` }]);
  }
  return limit;
}

function invalidCursor(parameter: string): AppError {
  return validationError('invalid_cursor', `The ${parameter} value is not a cursor issued for this agreement and dataset. Start again without it.`, [{ field: parameter, message: 'Not a valid cursor' }]);
}

function noData(plan: ReleasePlan, versionGone: boolean): AppError {
  return versionGone
    ? new AppError('conflict', 'dataset_version_gone', `The dataset version the cursor points to no longer exists. Start again without the cursor.`)
    : new AppError('not_found', 'dataset_has_no_data', `Dataset ${plan.datasetSlug} has no data loaded yet.`);
}

