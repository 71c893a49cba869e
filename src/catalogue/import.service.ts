import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import type { Kysely } from 'kysely';
import type { RawConnection } from '../db/connection.ts';
import type { Database } from '../db/database.ts';
import type { DB } from '../db/schema.ts';
import { appendAuditEvent } from '../audit/audit.repository.ts';
import { AppError, conflict, forbidden, notFound } from '../errors.ts';
import { copyFormatFor, type CopyFormat } from '../ingest/copy-writer.ts';
import { EARLY_LOAD_AFTER_ROWS } from '../ingest/early-load.ts';
import type { FileAnalysis, IngestOptions, IngestSource } from '../ingest/ingest.types.ts';
import type { TableSchema } from '../ingest/table-schema.ts';
import type { Logger } from '../logger.ts';
import { checkDatasetMetadata, checkDatasetSlug, checkMergedPeriod, checkOrganisationSlug, nameFromSlug } from './catalogue.metadata.ts';
import * as repository from './catalogue.repository.ts';
import { metadataColumns, newDatasetValues } from './catalogue.service.ts';
import type { LoadReport, Visibility } from './catalogue.types.ts';
import { copyIntoTable } from './copy-into.ts';
import { EarlyCopy, type StartCopy } from './early-copy.ts';
import { addPrimaryKeySql, createLoadTableSql, datastoreTableName, qualifiedTableName, quoteIdentifier } from './datastore-table.ts';
import { chooseFilterColumns, queueFilterIndexes } from './filter-indexes.ts';
import type { ImportCheck, ImportCheckResult, ImportOptions, IngestFunctions } from './import.types.ts';
import { baseFilename, mediaTypeOf, storeOriginalFile, type FileFacts, type OriginalFile } from './original-file.ts';
import { PhaseTimer } from './phase-timer.ts';
import { columnChangeWarning, noLongerPublicWarning, sameFileWarning } from './version-changes.ts';

/** Largest original file the catalogue stores: PostgreSQL keeps at most 1 GB in one field. */
export const MAX_ORIGINAL_FILE_BYTES = 1024 * 1024 * 1024 - 1024;

/** Decisions of the import transaction, gathered for the load report. */
interface LoadOutcome {
  organisationSlug: string;
  resourceId: string;
  version: number;
  title: string;
  visibility: Visibility;
  rows: number;
  extraReport: Record<string, unknown>;
  extraWarnings: LoadReport['warnings'];
}

/** Inputs of the load step: the file, its analysis and the decisions made before the rows are copied. */
interface LoadInput {
  source: IngestSource;
  file: FileFacts;
  /** The stored original, moved into `resource_files` once the resource row exists. */
  original: OriginalFile;
  analysis: FileAnalysis;
  options: ImportOptions;
  organisation: repository.OrganisationRow;
  resourceId: string;
  timer: PhaseTimer;
  /** The COPY that ran during the analysis, if the file was long enough to start one. */
  early: EarlyCopy | null;
}

/** Settings of an ImportService; tests lower `earlyLoadAfterRows` so that small files take the early load too. */
export interface ImportSettings {
  /** Rows analysed before the early load guesses the schema and starts its COPY; 0 turns the early load off. */
  earlyLoadAfterRows?: number;
  /** False loads rows as COPY text on PostgreSQL too. Binary COPY is the default there. */
  binaryCopy?: boolean;
}

/** Returns the size of a file in bytes, or 0 when it cannot be read, which the analysis then reports to the user. */
async function byteSizeOf(filePath: string): Promise<number> {
  try {
    return (await fs.promises.stat(filePath)).size;
  } catch {
    return 0;
  }
}

async function setActorScope(raw: RawConnection, actor: ImportOptions['actor']): Promise<void> {
  if (actor.kind === 'operator') await raw.query(`select set_config('civic.platform', 'on', true)`);
  else await raw.query(`select set_config('civic.organisation_id', $1, true)`, [actor.organisationId]);
}

/**
 * Loads a file as a new version of a dataset, in one transaction. The transaction creates the organisation when
 * missing and stages the original file while the analysis reads it. It then creates the dataset when missing, the
 * typed datastore table, the rows, the primary key, the resource row and the stored original, and points the dataset at
 * the new version, and queues the job that builds the filter indexes after the commit (filter-indexes.ts). Any
 * failure, in the analysis too, rolls all of it back, so the previous version keeps serving.
 */
export class ImportService {
  private readonly checks: ImportCheck[];

  constructor(
    private readonly db: Database,
    private readonly ingest: IngestFunctions,
    private readonly logger: Logger,
    checks: ImportCheck[] = [],
    private readonly settings: ImportSettings = {},
  ) {
    this.checks = [...checks];
  }

  /** Adds a check run over every later import, after the rows are loaded and before commit. */
  addCheck(check: ImportCheck): void {
    this.checks.push(check);
  }

  async importFile(source: IngestSource, options: ImportOptions): Promise<LoadReport> {
    checkOrganisationSlug(options.organisation);
    checkDatasetSlug(options.dataset);
    checkDatasetMetadata({ ...options.metadata, ...(options.title !== undefined ? { title: options.title } : {}) });

    const byteSize = await byteSizeOf(source.path);
    if (byteSize > MAX_ORIGINAL_FILE_BYTES) {
      throw new AppError('too_large', 'file_too_large', `${source.filename} is ${byteSize} bytes, more than the ${MAX_ORIGINAL_FILE_BYTES} bytes a resource can store. Split the file and load the parts as separate datasets.`);
    }
    const ingestOptions = (phase: 'analyse' | 'load'): IngestOptions => ({
      schema: options.schema,
      sheet: options.sheet,
      onProgress: options.onProgress && ((bytesRead, totalBytes) => options.onProgress!({ phase, bytesRead, totalBytes })),
    });
    const started = Date.now();
    const timer = new PhaseTimer();
    const resourceId = randomUUID();

    const { analysis, outcome } = await this.db.withConnection('app', async (raw, kysely) => {
      await raw.query('begin');
      let original: OriginalFile | null = null;
      let early: EarlyCopy | null = null;
      try {
        await setActorScope(raw, options.actor);
        const organisation = await this.findOrCreateOrganisation(kysely, options);
        // The original file is stored while the analysis reads it, so the server compresses and writes its bytes
        // while this process tokenizes, and on PostgreSQL on a connection of its own (original-file.ts).
        const storingStarted = performance.now();
        original = storeOriginalFile(this.db, raw, { resourceId, organisationId: organisation.id, filePath: source.path, byteSize }, (other) => setActorScope(other, options.actor));
        original.stored.then(() => timer.record('stage_original', storingStarted), () => undefined);
        const afterRows = this.settings.earlyLoadAfterRows ?? EARLY_LOAD_AFTER_ROWS;
        const connectionFree = original.connectionFree;
        const target = { dataset: options.dataset, resourceId };
        const startCopy: StartCopy = (schema, rows, format) => this.startEarlyCopy(raw, connectionFree, target, schema, rows, format);
        early = afterRows > 0 ? new EarlyCopy(startCopy, afterRows, this.binaryCopyAllowed) : null;
        const analysis = await timer.time('analyse', () => this.ingest.analyseFile(source, { ...ingestOptions('analyse'), earlyLoad: early ?? undefined }));
        // The file's name stays out of the log, because council files are often named after the person they concern.
        this.logger.info({ dataset: options.dataset, resource_id: resourceId, rows: analysis.rows, columns: analysis.schema.fields.length, format: analysis.format, native_lane_rows: analysis.lane_rows ?? 0 }, 'import analysed');
        const file = await timer.time('wait_original', () => original!.stored);
        const outcome = await this.load(raw, kysely, { source, file, original, analysis, options, organisation, resourceId, timer, early }, ingestOptions('load'));
        await timer.time('commit', () => raw.query('commit'));
        return { analysis, outcome };
      } catch (error) {
        // COPYs of the rows and the original may still be running on this connection, so the rollback waits for them.
        await early?.abort(error);
        await original?.stored.catch(() => undefined);
        await raw.query('rollback').catch((rollbackError: unknown) => this.logger.error({ err: rollbackError }, 'import rollback failed'));
        await original?.discard().catch((discardError: unknown) => this.logger.error({ err: discardError, resource_id: resourceId }, 'import could not remove its uploaded original file'));
        throw error;
      }
    });
    this.logger.info(
      { organisation: outcome.organisationSlug, dataset: options.dataset, resource_id: outcome.resourceId, version: outcome.version, rows: outcome.rows, ms: Date.now() - started, phases_ms: timer.phases },
      'import committed',
    );
    return buildReport(source, analysis, options, outcome);
  }

  private async load(raw: RawConnection, kysely: Kysely<DB>, input: LoadInput, ingestOptions: IngestOptions): Promise<LoadOutcome> {
    const { source, file, original, analysis, options, organisation, resourceId, timer } = input;
    const actor = options.actor;
    // Settled first, because discarding the early rows rolls back to a savepoint taken during the analysis.
    const earlyRows = await this.keepEarlyCopy(raw, input);
    const { dataset, created } = await this.findOrCreateDataset(kysely, organisation.id, source, analysis, options);
    if (!created && options.metadata) checkMergedPeriod(dataset, options.metadata);
    const version = await repository.nextVersion(kysely, dataset.id);
    const tableName = datastoreTableName(resourceId);
    const table = qualifiedTableName(tableName);

    let copied = earlyRows;
    if (copied === null) {
      const format = copyFormatFor(analysis.schema, this.binaryCopyAllowed);
      await raw.query(createLoadTableSql(tableName, analysis.schema, this.ingest.columnSqlType));
      this.logger.info({ dataset: options.dataset, resource_id: resourceId, version, rows: analysis.rows, format }, 'import copy started');
      copied = await timer.time('copy', () =>
        copyIntoTable(this.db.engine, raw, this.copySql(tableName, analysis.schema, format), this.ingest.copyRows(source, analysis, { ...ingestOptions, copyFormat: format })),
      );
    } else {
      ingestOptions.onProgress?.(analysis.byte_size, analysis.byte_size);
    }
    if (copied !== analysis.rows) {
      throw new Error(`Copied ${copied} rows of ${source.filename} but the analysis counted ${analysis.rows}; the load was rolled back.`);
    }
    await timer.time('primary_key', () => raw.query(addPrimaryKeySql(tableName)));
    const indexColumns = await chooseFilterColumns(raw, tableName, analysis);
    await queueFilterIndexes(kysely, organisation.id, { resourceId, tableName, columns: indexColumns });

    let visibility: Visibility = options.visibility ?? (created ? 'private' : dataset.visibility);
    const extraReport: Record<string, unknown> = {};
    const extraWarnings: LoadReport['warnings'] = [];
    let loweredBy: string | null = null;
    const checksStarted = performance.now();
    for (const check of this.checks) {
      const result: ImportCheckResult | void = await check.run({
        source, analysis, options, organisationId: organisation.id, datasetId: dataset.id, resourceId, table, visibility, raw, db: kysely,
      });
      if (result?.visibility === 'private' && visibility !== 'private') {
        this.logger.info({ dataset: options.dataset, check: check.name }, 'import check kept the dataset private');
        visibility = 'private';
        loweredBy = check.name;
      }
      Object.assign(extraReport, result?.report ?? {});
      extraWarnings.push(...(result?.warnings ?? []));
    }
    timer.record('checks', checksStarted);
    extraWarnings.push(...(await this.versionWarnings(kysely, dataset, created, version, analysis.schema, file.sha256)));
    if (!created && dataset.visibility === 'open' && loweredBy !== null) {
      extraWarnings.push(noLongerPublicWarning(options.dataset, version, loweredBy));
      extraReport.previous_visibility = 'open';
    }

    const title = options.title?.trim() || dataset.title;
    const outcome: LoadOutcome = { organisationSlug: organisation.slug, resourceId, version, title, visibility, rows: copied, extraReport, extraWarnings };
    const report = buildReport(source, analysis, options, outcome);
    await repository.insertResource(kysely, {
      id: resourceId,
      organisation_id: organisation.id,
      dataset_id: dataset.id,
      version,
      name: baseFilename(source.filename),
      description: '',
      format: analysis.format.toUpperCase(),
      media_type: mediaTypeOf(analysis.format),
      original_filename: baseFilename(source.filename),
      byte_size: file.byteSize,
      sha256: file.sha256,
      table_name: tableName,
      row_count: copied,
      table_schema: JSON.stringify(analysis.schema),
      load_report: JSON.stringify(report),
      title_metadata: analysis.title,
    });
    await timer.time('save_original', () => original.attach(raw, resourceId));
    const metadataSet = metadataColumns({ ...options.metadata, ...(options.title !== undefined ? { title } : {}) });
    await repository.updateDataset(kysely, dataset.id, {
      ...(created ? {} : metadataSet),
      current_resource_id: resourceId,
      visibility,
    });
    // Written last because appending locks the audit chain head until commit.
    await appendAuditEvent(kysely, {
      organisationId: organisation.id,
      actorUserId: actor.kind === 'organisation' ? (actor.userId ?? null) : null,
      actorKind: actor.kind === 'organisation' ? (actor.tokenId ? 'token' : 'user') : 'platform',
      action: 'resource.imported',
      subjectType: 'resource',
      subjectId: resourceId,
      requestId: options.requestId ?? null,
      details: {
        dataset: options.dataset,
        version,
        rows: copied,
        visibility,
        sha256: file.sha256,
        // Metadata set with the load is audited with it, as a separate change would be.
        ...(Object.keys(metadataSet).length > 0 ? { metadata: metadataSet } : {}),
        ...(actor.kind === 'operator' ? { operator: actor.name } : {}),
      },
    });
    return outcome;
  }

  /**
   * Warns when the new version's file is the one the dataset serves now, byte for byte, or when its columns differ
   * from that version's.
   */
  private async versionWarnings(kysely: Kysely<DB>, dataset: repository.DatasetRow, created: boolean, version: number, schema: TableSchema, sha256: string): Promise<LoadReport['warnings']> {
    if (created || dataset.current_resource_id === null) return [];
    const previous = await repository.findResourceById(kysely, dataset.current_resource_id);
    if (!previous) return [];
    if (previous.sha256 === sha256) return [sameFileWarning(previous.version, version)];
    const warning = columnChangeWarning({ version: previous.version, schema: previous.table_schema as TableSchema }, { version, schema });
    return warning === null ? [] : [warning];
  }

  private copySql(tableName: string, schema: TableSchema, format: CopyFormat): string {
    const columns = ['_id', ...schema.fields.map((field) => field.name)].map(quoteIdentifier).join(', ');
    return `copy ${qualifiedTableName(tableName)} (${columns}) from stdin with (format ${format})`;
  }

  /** Binary COPY is used on PostgreSQL only: PGlite splits COPY input into several statements, which binary cannot be. */
  private get binaryCopyAllowed(): boolean {
    return this.db.engine === 'postgres' && this.settings.binaryCopy !== false;
  }

  /**
   * Creates the table of an early load from the schema the analysis guessed and copies the rows it converts. A
   * savepoint lets the import discard the table and rows if the guess proves wrong. The COPY waits until the
   * connection is free, when the original file is staged on it.
   */
  private async startEarlyCopy(
    raw: RawConnection,
    connectionFree: Promise<unknown>,
    target: { dataset: string; resourceId: string },
    schema: TableSchema,
    rows: AsyncIterable<string | Buffer>,
    format: CopyFormat,
  ): Promise<number> {
    await connectionFree;
    const tableName = datastoreTableName(target.resourceId);
    await raw.query('savepoint early_load');
    await raw.query(createLoadTableSql(tableName, schema, this.ingest.columnSqlType));
    this.logger.info({ dataset: target.dataset, resource_id: target.resourceId, early: true, format }, 'import copy started');
    return copyIntoTable(this.db.engine, raw, this.copySql(tableName, schema, format), rows);
  }

  /** Returns the rows of the early load when they can stand; otherwise rolls them back and returns null. */
  private async keepEarlyCopy(raw: RawConnection, input: LoadInput): Promise<number | null> {
    const { early, analysis, timer, options, resourceId } = input;
    if (early === null) return null;
    const result = await timer.time('early_copy_wait', () => early.result(analysis.schema, analysis.rows));
    if (result.kept) {
      await raw.query('release savepoint early_load');
      return result.rows;
    }
    if (result.reason === 'not_started') return null;
    this.logger.info({ dataset: options.dataset, resource_id: resourceId, reason: result.reason, err: result.error }, 'import early load discarded, loading the file again');
    await raw.query('rollback to savepoint early_load');
    return null;
  }

  private async findOrCreateOrganisation(kysely: Kysely<DB>, options: ImportOptions): Promise<repository.OrganisationRow> {
    const existing = await repository.findOrganisationBySlug(kysely, options.organisation);
    const actor = options.actor;
    if (actor.kind === 'organisation') {
      if (!existing) throw notFound('organisation_not_found', `Organisation "${options.organisation}" was not found.`);
      if (existing.id !== actor.organisationId) {
        throw forbidden('organisation_mismatch', `You cannot load data into organisation "${options.organisation}". Use a token of that organisation.`);
      }
      return existing;
    }
    if (existing) return existing;
    this.logger.info({ organisation: options.organisation, actor: actor.name }, 'import creating organisation');
    const created = await repository.insertOrganisationUnlessTaken(kysely, { slug: options.organisation, name: options.organisationName?.trim() || nameFromSlug(options.organisation) });
    // Another import created the organisation first: the insert waited for its commit, and now reads its row.
    const organisation = created ?? (await repository.findOrganisationBySlug(kysely, options.organisation));
    if (!organisation) throw new Error(`Organisation "${options.organisation}" could be neither created nor found; run the import again.`);
    return organisation;
  }

  private async findOrCreateDataset(
    kysely: Kysely<DB>,
    organisationId: string,
    source: IngestSource,
    analysis: FileAnalysis,
    options: ImportOptions,
  ): Promise<{ dataset: repository.DatasetRow; created: boolean }> {
    const existing = await repository.findDatasetBySlug(kysely, options.dataset);
    if (existing) {
      if (existing.organisation_id !== organisationId) {
        throw conflict('dataset_slug_taken', `Dataset "${options.dataset}" belongs to another organisation. Choose another dataset slug.`);
      }
      if (options.newDataset) {
        throw conflict('dataset_exists', `Your organisation already has the dataset "${options.dataset}". Choose another dataset slug, or load the file as a new version of that dataset.`);
      }
      await repository.lockDataset(kysely, existing.id);
      return { dataset: existing, created: false };
    }
    const title = options.title?.trim() || analysis.title?.trim() || baseFilename(source.filename);
    const values = newDatasetValues(organisationId, options.dataset, { ...options.metadata, title: title.slice(0, 500) }, options.visibility ?? 'private');
    try {
      return { dataset: await repository.insertDataset(kysely, values), created: true };
    } catch (error) {
      if ((error as { code?: string }).code === '23505') {
        // Row-level security hides another organisation's private dataset, so the slug may belong to one of those, or
        // to a dataset of this organisation created while the file loaded. The message covers both without naming either.
        throw conflict(
          'dataset_slug_taken',
          `The dataset slug "${options.dataset}" is already in use. Choose another dataset slug. If your organisation created this dataset while the file loaded, run the import again to add a new version.`,
        );
      }
      throw error;
    }
  }
}

function buildReport(source: IngestSource, analysis: FileAnalysis, options: ImportOptions, outcome: LoadOutcome): LoadReport {
  return {
    ...outcome.extraReport,
    dataset: options.dataset,
    organisation: outcome.organisationSlug,
    title: outcome.title,
    resource_id: outcome.resourceId,
    version: outcome.version,
    visibility: outcome.visibility,
    rows: outcome.rows,
    file: baseFilename(source.filename),
    format: analysis.format,
    encoding: analysis.encoding,
    delimiter: analysis.delimiter,
    header_row: analysis.header_row,
    sheet: analysis.sheet,
    title_metadata: analysis.title,
    schema: analysis.schema,
    warnings: [...analysis.warnings, ...outcome.extraWarnings],
  };
}
