import { createHash, type Hash } from 'node:crypto';
import type { Logger } from '../logger.ts';
import * as agreements from '../agreements/agreement.repository.ts';
import { setOrganisation } from '../db/tenant.ts';
import { AppError, notFound } from '../errors.ts';
import { authoriseRelease, checkInForce, loadResource, type ReleasePlan, type ReleaseRequest, type ReleaseResource } from './release-policy.ts';
import { toRequest, type Caller, type ReleaseService } from './release.service.ts';
import { formatDigest, type ExchangeSigner } from './signing.ts';

export type ExportFormat = 'csv' | 'jsonl';

/** An export id as the database stores it; anything else would fail the uuid cast. */
const EXPORT_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Rows per chunk by default; the terms are checked again before each chunk. */
export const EXPORT_CHUNK_ROWS = 5000;

/** The end state of an export, sent in the Civic-Export-Status trailer and kept on the export record. */
export interface ExportOutcome {
  status: 'completed' | 'stopped';
  rowCount: number;
  /** RFC 9530 Content-Digest value over every byte sent. */
  digest: string;
  signature: string;
  /** The refusal code that stopped the export. */
  errorCode: string | null;
}

export interface StartedExport {
  id: string;
  plan: ReleasePlan;
  resource: ReleaseResource;
  /** The body, in chunks; iterating it releases the rows, and finishing sets `outcome`. */
  body: AsyncGenerator<Buffer>;
  outcome(): ExportOutcome | null;
}

/**
 * Streams a whole dataset version to a recipient. Each chunk is its own transaction: the agreement is read again, its
 * status and dates are checked against the clock, the rows are read and the chunk's disclosure is written before the
 * bytes leave. An agreement that stops being in force mid-export stops the stream at the next chunk, and the outcome
 * records why. The digest is computed as the bytes are produced and signed at the end.
 */
export class ExportService {
  constructor(
    private readonly releases: ReleaseService,
    private readonly signer: ExchangeSigner,
    private readonly logger: Logger,
    private readonly chunkRows: number = EXPORT_CHUNK_ROWS,
  ) {}

  async start(caller: Caller, request: ReleaseRequest, format: ExportFormat): Promise<StartedExport> {
    const { db } = this.releases;
    const { plan, resource, exportId } = await db.app.transaction().execute(async (trx) => {
      const plan = await authoriseRelease(trx, toRequest(caller, request), this.releases.clock());
      const resource = await loadResource(trx, plan);
      if (!resource) throw new AppError('not_found', 'dataset_has_no_data', `Dataset ${plan.datasetSlug} has no data loaded yet.`);
      const row = await trx
        .insertInto('exchange_exports')
        .values({
          organisation_id: plan.agreement.organisationId,
          recipient_organisation_id: caller.organisationId,
          agreement_id: plan.agreement.id,
          agreement_version_id: plan.version.id,
          dataset_id: plan.datasetId,
          resource_id: resource.id,
          format,
          purpose: plan.purpose,
          fields: plan.fields.map((field) => field.name),
          request_id: caller.requestId,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      return { plan, resource, exportId: row.id };
    });
    let outcome: ExportOutcome | null = null;
    const body = this.#produce(caller, plan, resource, exportId, format, (result) => {
      outcome = result;
    });
    return { id: exportId, plan, resource, body, outcome: () => outcome };
  }

  async *#produce(caller: Caller, plan: ReleasePlan, resource: ReleaseResource, exportId: string, format: ExportFormat, finish: (outcome: ExportOutcome) => void): AsyncGenerator<Buffer> {
    const hash = createHash('sha256');
    const log = this.logger.child({ exportId, agreementId: plan.agreement.id, datasetId: plan.datasetId });
    let rowCount = 0;
    let afterId = 0;
    let errorCode: string | null = null;
    let finished = false;
    try {
      if (format === 'csv') yield emit(hash, `${plan.fields.map((field) => csvCell(field.name)).join(',')}\r\n`);
      for (;;) {
        let page;
        try {
          page = await this.#readChunk(caller, plan, resource, afterId);
        } catch (error) {
          if (error instanceof AppError && error.kind === 'forbidden') {
            errorCode = error.code;
            log.warn({ code: error.code, rowCount }, 'export stopped by the agreement terms');
            break;
          }
          throw error;
        }
        if (page.records.length === 0) break;
        rowCount += page.records.length;
        afterId = page.lastId!;
        yield emit(hash, page.records.map((record) => (format === 'csv' ? csvLine(plan, record) : `${JSON.stringify(record)}\n`)).join(''));
        if (page.records.length < this.chunkRows) break;
      }
      finished = true;
    } finally {
      if (!finished && errorCode === null) errorCode = 'export_interrupted';
      const digest = formatDigest(hash.digest());
      const outcome: ExportOutcome = { status: errorCode === null ? 'completed' : 'stopped', rowCount, digest, signature: this.signer.signDigest(digest), errorCode };
      await this.#record(plan, exportId, outcome).catch((error: unknown) => log.error({ err: error }, 'export record could not be updated'));
      log.info({ status: outcome.status, rowCount, code: errorCode }, 'export finished');
      finish(outcome);
    }

  }

  /** Reads and discloses one chunk in its own transaction, after checking the terms again. */
  async #readChunk(caller: Caller, plan: ReleasePlan, resource: ReleaseResource, afterId: number) {
    return this.releases.db.app.transaction().execute(async (trx) => {
      await setOrganisation(trx, plan.agreement.organisationId);
      const current = await agreements.findAgreementById(trx, plan.agreement.id);
      if (!current) throw notFound('agreement_not_found', 'The agreement no longer exists.');
      if (current.versionInForceId !== plan.version.id && current.status === 'active') {
        throw new AppError('forbidden', 'agreement_version_changed', `A new version of agreement ${current.reference} came into force during the export. Start the export again.`);
      }
      checkInForce(current, plan.terms, this.releases.clock());
      const page = await this.releases.rowReader(plan, resource).readPage(trx, afterId, this.chunkRows);
      if (page.records.length > 0) await this.releases.disclose(trx, caller, plan, resource, page.released, afterId);
      return page;
    });
  }

  async #record(plan: ReleasePlan, exportId: string, outcome: ExportOutcome): Promise<void> {
    await this.releases.db.app.transaction().execute(async (trx) => {
      await setOrganisation(trx, plan.agreement.organisationId);
      await trx
        .updateTable('exchange_exports')
        .set({
          status: outcome.status,
          row_count: outcome.rowCount,
          content_digest: outcome.digest,
          signature: outcome.signature,
          error_code: outcome.errorCode,
          finished_at: this.releases.clock(),
        })
        .where('id', '=', exportId)
        .execute();
    });
  }

  /** Returns the record of an export to its recipient or provider. */
  async find(organisationId: string, exportId: string) {
    if (!EXPORT_ID_PATTERN.test(exportId)) throw notFound('export_not_found', `No export has the id ${exportId}.`);
    return this.releases.db.app.transaction().execute(async (trx) => {
      await setOrganisation(trx, organisationId);
      const row = await trx
        .selectFrom('exchange_exports as e')
        .innerJoin('agreements as a', 'a.id', 'e.agreement_id')
        .innerJoin('agreement_versions as v', 'v.id', 'e.agreement_version_id')
        .select(['e.id', 'e.organisation_id', 'e.resource_id', 'e.status', 'e.format', 'e.purpose', 'e.fields', 'e.row_count', 'e.content_digest', 'e.signature', 'e.error_code', 'e.started_at', 'e.finished_at', 'a.reference', 'v.version as agreement_version'])
        .where('e.id', '=', exportId)
        .executeTakeFirst();
      if (!row) throw notFound('export_not_found', `No export has the id ${exportId}.`);
      // The dataset version is the provider's row; the export record, visible to the recipient, vouches for reading it.
      await setOrganisation(trx, row.organisation_id);
      const resource = await trx.selectFrom('resources').select('version').where('id', '=', row.resource_id).executeTakeFirst();
      return { ...row, dataset_version: resource?.version ?? null };
    });
  }
}

function emit(hash: Hash, text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  hash.update(bytes);
  return bytes;
}

/** Formats one RFC 4180 cell: quoted when it contains a comma, quote or line break, dates as ISO 8601, null as empty. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = value instanceof Date ? value.toISOString() : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function csvLine(plan: ReleasePlan, record: Record<string, unknown>): string {
  return `${plan.fields.map((field) => csvCell(record[field.name])).join(',')}\r\n`;
}
