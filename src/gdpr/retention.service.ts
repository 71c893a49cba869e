import { sql, type Kysely } from 'kysely';
import { londonDate } from '../agreements/agreement-dates.ts';
import { appendAuditEvent } from '../audit/audit.repository.ts';
import type { DisclosureLog } from '../audit/disclosure.repository.ts';
import type { Database } from '../db/database.ts';
import type { DB } from '../db/schema.ts';
import { setPlatformScope } from '../db/tenant.ts';
import { enqueueJob, type Clock } from '../jobs/job-queue.ts';
import type { Logger } from '../logger.ts';

/** Job kind of the daily retention run; each run queues the next day's. */
export const RETENTION_JOB = 'gdpr.retention';
/** Age after which an original file uploaded for an import that never attached it is removed. */
const STALE_UPLOAD_MS = 24 * 60 * 60 * 1000;

export interface RemovedVersion {
  datasetId: string;
  datasetSlug: string;
  resourceId: string;
  version: number;
  tableName: string;
}

export interface RetentionReport {
  removed: RemovedVersion[];
  /** Ids of datasets withdrawn because their current version passed the retention period. */
  withdrawn: string[];
  /** Datasets whose expired versions could not be removed; their transactions rolled back, so they are unchanged. */
  failed: Array<{ datasetId: string; datasetSlug: string; message: string }>;
}

interface DatasetRow {
  id: string;
  slug: string;
  organisation_id: string;
  retention_months: number;
  current_resource_id: string | null;
  /** Set once the current version expired; versions kept back then are removed by a later run. */
  withdrawn_at: Date | null;
}

interface VersionRow {
  id: string;
  version: number;
  table_name: string;
  row_count: number;
  created_at: Date;
}

/** Subtracts whole calendar months; a day past the end of the shorter month falls back to its last day. */
export function monthsBefore(date: Date, months: number): Date {
  const result = new Date(date);
  const day = result.getUTCDate();
  result.setUTCDate(1);
  result.setUTCMonth(result.getUTCMonth() - months);
  const lastDay = new Date(Date.UTC(result.getUTCFullYear(), result.getUTCMonth() + 1, 0)).getUTCDate();
  result.setUTCDate(Math.min(day, lastDay));
  return result;
}

/** Quotes an identifier for SQL; table names come from the catalogue, which created them. */
function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Removes dataset versions held longer than their dataset's `retention_months`. A version expires when a newer
 * version exists and it was loaded before the retention period began. The current version is removed only when it
 * too is older than the period, and then the dataset is withdrawn (no current version). Each dataset is handled in
 * its own transaction with an audit entry per removal. Disclosure and export records are kept and still name the
 * removed version's id, and the audit chain is never touched.
 *
 * A disclosure whose subjects are queued reads them back from its version's table, so before dropping a table the
 * run locks it (waiting for releases still reading it), then indexes that version's queued disclosures. Without a
 * disclosure log to index with, such a version is kept until the indexing job has run.
 */
export class RetentionService {
  readonly #clock: Clock;

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    clock?: Clock,
    private readonly disclosures?: DisclosureLog,
  ) {
    this.#clock = clock ?? (() => new Date());
  }

  async run(): Promise<RetentionReport> {
    const now = this.#clock();
    const report: RetentionReport = { removed: [], withdrawn: [], failed: [] };
    let kept = 0;
    const datasets = await this.db.owner.transaction().execute(async (trx) => {
      await setPlatformScope(trx);
      const { rows } = await sql<DatasetRow>`
        select id, slug, organisation_id, retention_months, current_resource_id, withdrawn_at from datasets
        where retention_months is not null
          and (withdrawn_at is null or exists (select 1 from resources r where r.dataset_id = datasets.id))
        order by id`.execute(trx);
      return rows;
    });
    for (const dataset of datasets) {
      try {
        const result = await this.db.owner.transaction().execute((trx) => this.#applyTo(trx, dataset, now));
        report.removed.push(...result.removed);
        kept += result.kept.length;
        if (result.withdrawn) report.withdrawn.push(dataset.id);
      } catch (error) {
        this.logger.error({ err: error, datasetId: dataset.id }, 'retention could not remove expired versions of a dataset');
        report.failed.push({ datasetId: dataset.id, datasetSlug: dataset.slug, message: error instanceof Error ? error.message : String(error) });
      }
    }
    const uploads = await this.#discardStaleUploads(now);
    this.logger.info({ removed: report.removed.length, kept, withdrawn: report.withdrawn.length, failed: report.failed.length, stale_uploads: uploads }, 'retention run finished');
    return report;
  }

  /**
   * Removes original files uploaded more than a day ago for an import that neither attached nor discarded them,
   * because its process stopped. An import attaches its upload before it commits, so none is still in use.
   */
  async #discardStaleUploads(now: Date): Promise<number> {
    const cutoff = new Date(now.getTime() - STALE_UPLOAD_MS);
    return this.db.app.transaction().execute(async (trx) => {
      await setPlatformScope(trx);
      const { rows } = await sql<{ removed: string }>`select civic_discard_stale_uploads(${cutoff}) as removed`.execute(trx);
      return Number(rows[0]?.removed ?? 0);
    });
  }

  async #applyTo(trx: Kysely<DB>, dataset: DatasetRow, now: Date): Promise<{ removed: RemovedVersion[]; kept: RemovedVersion[]; withdrawn: boolean }> {
    await setPlatformScope(trx);
    const cutoff = monthsBefore(now, dataset.retention_months);
    const versions = await trx
      .selectFrom('resources')
      .select(['id', 'version', 'table_name', 'row_count', 'created_at'])
      .where('dataset_id', '=', dataset.id)
      .orderBy('version', 'desc')
      .forUpdate()
      .execute() as VersionRow[];
    const newest = versions[0]?.version ?? 0;
    const current = versions.find((version) => version.id === dataset.current_resource_id) ?? null;
    const withdraw = current !== null && new Date(current.created_at) < cutoff;
    const expired = versions.filter((version) => {
      if (new Date(version.created_at) >= cutoff) return false;
      if (dataset.withdrawn_at !== null) return true;
      if (version.id === dataset.current_resource_id) return withdraw;
      return version.version < newest || withdraw;
    });
    if (expired.length === 0) return { removed: [], kept: [], withdrawn: false };

    if (withdraw) {
      await sql`update datasets set current_resource_id = null, withdrawn_at = ${now}, visibility = 'private' where id = ${dataset.id}`.execute(trx);
    }
    const removed: RemovedVersion[] = [];
    const kept: RemovedVersion[] = [];
    for (const version of expired) {
      const described = { datasetId: dataset.id, datasetSlug: dataset.slug, resourceId: version.id, version: version.version, tableName: version.table_name };
      if (!(await this.#indexDisclosuresOf(trx, version))) {
        this.logger.warn({ ...described }, 'retention kept an expired version whose disclosures are not yet indexed');
        kept.push(described);
        continue;
      }
      await sql.raw(`drop table if exists datastore.${quoteIdentifier(version.table_name)}`).execute(trx);
      await trx.deleteFrom('resources').where('id', '=', version.id).execute();
      await appendAuditEvent(trx, {
        organisationId: dataset.organisation_id,
        actorUserId: null,
        actorKind: 'system',
        action: 'retention.version_removed',
        subjectType: 'resource',
        subjectId: version.id,
        details: { datasetId: dataset.id, version: version.version, tableName: version.table_name, rowCount: Number(version.row_count), loadedAt: new Date(version.created_at).toISOString(), retentionMonths: dataset.retention_months },
      });
      removed.push(described);
    }
    if (withdraw) {
      await appendAuditEvent(trx, {
        organisationId: dataset.organisation_id,
        actorUserId: null,
        actorKind: 'system',
        action: 'retention.dataset_withdrawn',
        subjectType: 'dataset',
        subjectId: dataset.id,
        details: { retentionMonths: dataset.retention_months, removedVersions: removed.map((item) => item.version) },
      });
    }
    return { removed, kept, withdrawn: withdraw };
  }

  /**
   * Makes sure no queued disclosure still needs the version's table: locks the table, so releases reading it finish
   * and later ones wait, then indexes the version's queued disclosures. Returns false when some remain queued because
   * this service has no disclosure log to index them with.
   */
  async #indexDisclosuresOf(trx: Kysely<DB>, version: VersionRow): Promise<boolean> {
    const exists = await sql<{ found: string | null }>`select to_regclass(${`datastore.${quoteIdentifier(version.table_name)}`})::text as found`.execute(trx);
    if (exists.rows[0]?.found) await sql.raw(`lock table datastore.${quoteIdentifier(version.table_name)} in access exclusive mode`).execute(trx);
    if (this.disclosures) await this.disclosures.indexQueued(trx, { resourceId: version.id });
    const queued = await trx.selectFrom('disclosure_index_queue').select('disclosure_id').where('resource_id', '=', version.id).limit(1).execute();
    return queued.length === 0;
  }

  /** Queues today's retention run unless one is queued already (a unique key per London date). */
  async schedule(runAt: Date = this.#clock()): Promise<void> {
    await this.db.app.transaction().execute(async (trx) => {
      await setPlatformScope(trx);
      await enqueueJob(trx, { kind: RETENTION_JOB, runAt, uniqueKey: `${RETENTION_JOB}:${londonDate(runAt)}` });
    });
  }
}
