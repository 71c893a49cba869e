import { sql, type Kysely } from 'kysely';
import { appendAuditEvent } from '../audit/audit.repository.ts';
import type { Database } from '../db/database.ts';
import type { DB } from '../db/schema.ts';
import { setPlatformScope } from '../db/tenant.ts';
import { enqueueJob, type Clock } from '../jobs/job-queue.ts';
import type { Logger } from '../logger.ts';

/** Job kind of the daily retention run; each run queues the next day's. */
export const RETENTION_JOB = 'gdpr.retention';

export interface RemovedVersion {
  datasetId: string;
  resourceId: string;
  version: number;
  tableName: string;
}

export interface RetentionReport {
  removed: RemovedVersion[];
  /** Datasets withdrawn because their current version passed the retention period. */
  withdrawn: string[];
}

interface DatasetRow {
  id: string;
  organisation_id: string;
  retention_months: number;
  current_resource_id: string | null;
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
 */
export class RetentionService {
  readonly #clock: Clock;

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    clock?: Clock,
  ) {
    this.#clock = clock ?? (() => new Date());
  }

  async run(): Promise<RetentionReport> {
    const now = this.#clock();
    const report: RetentionReport = { removed: [], withdrawn: [] };
    const datasets = await this.db.owner.transaction().execute(async (trx) => {
      await setPlatformScope(trx);
      const { rows } = await sql<DatasetRow>`
        select id, organisation_id, retention_months, current_resource_id from datasets
        where retention_months is not null and withdrawn_at is null order by id`.execute(trx);
      return rows;
    });
    for (const dataset of datasets) {
      try {
        const result = await this.db.owner.transaction().execute((trx) => this.#applyTo(trx, dataset, now));
        report.removed.push(...result.removed);
        if (result.withdrawn) report.withdrawn.push(dataset.id);
      } catch (error) {
        this.logger.error({ err: error, datasetId: dataset.id }, 'retention could not remove expired versions of a dataset');
      }
    }
    this.logger.info({ removed: report.removed.length, withdrawn: report.withdrawn.length }, 'retention run finished');
    return report;
  }

  async #applyTo(trx: Kysely<DB>, dataset: DatasetRow, now: Date): Promise<{ removed: RemovedVersion[]; withdrawn: boolean }> {
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
      if (version.id === dataset.current_resource_id) return withdraw;
      return version.version < newest || withdraw;
    });
    if (expired.length === 0) return { removed: [], withdrawn: false };

    if (withdraw) {
      await sql`update datasets set current_resource_id = null, withdrawn_at = ${now}, visibility = 'private' where id = ${dataset.id}`.execute(trx);
    }
    const removed: RemovedVersion[] = [];
    for (const version of expired) {
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
      removed.push({ datasetId: dataset.id, resourceId: version.id, version: version.version, tableName: version.table_name });
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
    return { removed, withdrawn: withdraw };
  }

  /** Queues today's retention run unless one is queued already (a unique key per London date). */
  async schedule(runAt: Date = this.#clock()): Promise<void> {
    await this.db.app.transaction().execute(async (trx) => {
      await setPlatformScope(trx);
      await enqueueJob(trx, { kind: RETENTION_JOB, runAt, uniqueKey: `${RETENTION_JOB}:${runAt.toISOString().slice(0, 10)}` });
    });
  }
}
