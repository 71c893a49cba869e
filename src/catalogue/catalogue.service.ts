import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import type { DB } from '../db/schema.ts';
import { setOrganisation, setPlatformScope } from '../db/tenant.ts';
import { appendAuditEvent } from '../audit/audit.repository.ts';
import type { AuditActorKind } from '../audit/audit.tables.ts';
import { conflict, forbidden, notFound, validationError } from '../errors.ts';
import type { TableSchema } from '../ingest/table-schema.ts';
import { checkDatasetMetadata, checkDatasetSlug, checkMergedPeriod, checkOrganisationSlug, DEFAULT_LICENCE_ID } from './catalogue.metadata.ts';
import * as repository from './catalogue.repository.ts';
import type {
  CatalogueScope,
  Dataset,
  DatasetDetail,
  DatasetMetadata,
  DatasetPage,
  ListDatasetsOptions,
  LoadReport,
  Organisation,
  OriginalFile,
  ResourceVersion,
  Visibility,
} from './catalogue.types.ts';

/** The person or token that changes a dataset's metadata, as the audit log records it. */
export interface MetadataEditor {
  userId: string | null;
  kind: AuditActorKind;
  /** The HTTP request id, when the change came through the portal or the API. */
  requestId?: string;
  /** The operating-system user of a command run on the server, for platform changes. */
  operator?: string;
}

/** Largest page `listDatasets` returns; CKAN's package_search uses the same cap. */
export const MAX_PAGE_SIZE = 1000;

/** Applies a scope to the current transaction, so row-level security shows what that scope may see. */
export async function applyScope(trx: Kysely<DB>, scope: CatalogueScope): Promise<void> {
  if (scope.kind === 'platform') await setPlatformScope(trx);
  else await setOrganisation(trx, scope.kind === 'organisation' ? scope.organisationId : null);
}

export function toOrganisation(row: repository.OrganisationRow): Organisation {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    kind: row.kind,
    status: row.status,
    description: row.description,
    website: row.website,
    createdAt: row.created_at,
  };
}

export function toDataset(row: repository.DatasetRow): Dataset {
  return {
    id: row.id,
    slug: row.slug,
    organisation: { id: row.organisation_id, slug: row.organisation_slug, name: row.organisation_name },
    title: row.title,
    description: row.description,
    licenceId: row.licence_id,
    tags: row.tags,
    theme: row.theme,
    updateFrequency: row.update_frequency,
    temporalStart: row.temporal_start,
    temporalEnd: row.temporal_end,
    spatial: row.spatial,
    retentionMonths: row.retention_months,
    visibility: row.visibility,
    currentResourceId: row.current_resource_id,
    createdAt: row.created_at,
    modifiedAt: row.modified_at,
  };
}

export function toResource(row: repository.ResourceRow): ResourceVersion {
  return {
    id: row.id,
    datasetId: row.dataset_id,
    organisationId: row.organisation_id,
    version: row.version,
    name: row.name,
    description: row.description,
    format: row.format,
    mediaType: row.media_type,
    originalFilename: row.original_filename,
    byteSize: Number(row.byte_size),
    sha256: row.sha256,
    tableName: row.table_name,
    rowCount: Number(row.row_count),
    tableSchema: row.table_schema as TableSchema,
    loadReport: row.load_report as LoadReport,
    titleMetadata: row.title_metadata,
    createdAt: row.created_at,
  };
}

/** Reads and edits the catalogue: organisations, datasets and their versions, each as the given scope sees them. */
export class CatalogueService {
  constructor(private readonly db: Database) {}

  /** Runs `work` in one transaction with `scope` applied. */
  inScope<T>(scope: CatalogueScope, work: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
    return this.db.app.transaction().execute(async (trx) => {
      await applyScope(trx, scope);
      return work(trx);
    });
  }

  async findOrganisation(scope: CatalogueScope, slug: string): Promise<Organisation | undefined> {
    const row = await this.inScope(scope, (trx) => repository.findOrganisationBySlug(trx, slug));
    return row && toOrganisation(row);
  }

  async getOrganisation(scope: CatalogueScope, slug: string): Promise<Organisation> {
    const organisation = await this.findOrganisation(scope, slug);
    if (!organisation) throw notFound('organisation_not_found', `Organisation "${slug}" was not found.`);
    return organisation;
  }

  async listOrganisations(scope: CatalogueScope): Promise<Organisation[]> {
    const rows = await this.inScope(scope, (trx) => repository.listOrganisations(trx));
    return rows.map(toOrganisation);
  }

  /** Creates an organisation; only the platform scope may, because row-level security allows no one else. */
  async createOrganisation(input: { slug: string; name: string; kind?: string; description?: string; website?: string | null }): Promise<Organisation> {
    checkOrganisationSlug(input.slug);
    if (input.name.trim() === '' || input.name.length > 300) {
      throw validationError('invalid_organisation_name', 'Enter an organisation name of 1 to 300 characters.', [{ field: 'name', message: 'Enter a name of 1 to 300 characters' }]);
    }
    return this.inScope({ kind: 'platform' }, async (trx) => {
      if (await repository.findOrganisationBySlug(trx, input.slug)) {
        throw conflict('organisation_exists', `Organisation "${input.slug}" already exists. Choose another slug.`);
      }
      return toOrganisation(await repository.insertOrganisation(trx, input));
    });
  }

  async listDatasets(scope: CatalogueScope, options: ListDatasetsOptions = {}): Promise<DatasetPage> {
    const limit = Math.min(Math.max(options.limit ?? 20, 0), MAX_PAGE_SIZE);
    const offset = Math.max(options.offset ?? 0, 0);
    return this.inScope(scope, async (trx) => {
      const total = await repository.countDatasets(trx, options);
      const rows = limit === 0 ? [] : await repository.listDatasets(trx, { ...options, limit, offset });
      return { total, datasets: rows.map(toDataset) };
    });
  }

  async findDataset(scope: CatalogueScope, slug: string): Promise<Dataset | undefined> {
    const row = await this.inScope(scope, (trx) => repository.findDatasetBySlug(trx, slug));
    return row && toDataset(row);
  }

  /** A dataset with every version, newest first; not found when the scope may not see it. */
  async showDataset(scope: CatalogueScope, slug: string): Promise<DatasetDetail> {
    return this.inScope(scope, async (trx) => {
      const row = await repository.findDatasetBySlug(trx, slug);
      if (!row) throw notFound('dataset_not_found', `Dataset "${slug}" was not found.`);
      const versions = (await repository.listResources(trx, row.id)).map(toResource);
      const currentResource = versions.find((version) => version.id === row.current_resource_id) ?? null;
      return { ...toDataset(row), versions, currentResource };
    });
  }

  /** The version a dataset currently serves, or null before its first load. */
  async currentResource(scope: CatalogueScope, datasetSlug: string): Promise<ResourceVersion | null> {
    return this.inScope(scope, async (trx) => {
      const dataset = await repository.findDatasetBySlug(trx, datasetSlug);
      if (!dataset) throw notFound('dataset_not_found', `Dataset "${datasetSlug}" was not found.`);
      if (!dataset.current_resource_id) return null;
      const row = await repository.findResourceById(trx, dataset.current_resource_id);
      return row ? toResource(row) : null;
    });
  }

  async getResource(scope: CatalogueScope, resourceId: string): Promise<ResourceVersion> {
    const row = await this.inScope(scope, (trx) => (isUuid(resourceId) ? repository.findResourceById(trx, resourceId) : Promise.resolve(undefined)));
    if (!row) throw notFound('resource_not_found', `Resource "${resourceId}" was not found.`);
    return toResource(row);
  }

  /** The original file a version was loaded from, for download. */
  async getResourceFile(scope: CatalogueScope, resourceId: string): Promise<OriginalFile> {
    return this.inScope(scope, async (trx) => {
      const resource = isUuid(resourceId) ? await repository.findResourceById(trx, resourceId) : undefined;
      const file = resource && (await repository.findResourceFile(trx, resource.id));
      if (!resource || !file) throw notFound('resource_not_found', `Resource "${resourceId}" was not found.`);
      return { filename: resource.original_filename, mediaType: resource.media_type, byteSize: Number(resource.byte_size), sha256: resource.sha256, content: asBuffer(file.content) };
    });
  }

  /** Creates an empty dataset (no version yet) in an organisation the scope may write to. */
  async createDataset(scope: CatalogueScope, organisationSlug: string, slug: string, metadata: DatasetMetadata & { title: string }): Promise<Dataset> {
    checkDatasetSlug(slug);
    checkDatasetMetadata(metadata);
    return this.inScope(scope, async (trx) => {
      const organisation = await repository.findOrganisationBySlug(trx, organisationSlug);
      if (!organisation) throw notFound('organisation_not_found', `Organisation "${organisationSlug}" was not found.`);
      if (await repository.findDatasetBySlug(trx, slug)) throw conflict('dataset_exists', `Dataset "${slug}" already exists. Choose another slug.`);
      return toDataset(await repository.insertDataset(trx, newDatasetValues(organisation.id, slug, metadata, 'private')));
    });
  }

  /**
   * Changes a dataset's descriptive metadata and records the change in the audit log in the same transaction. Fields
   * left undefined keep their values, and visibility has its own method. An organisation scope may change only its
   * own datasets: another organisation's open dataset is rejected with 403, a private one is not found.
   */
  async updateDatasetMetadata(scope: CatalogueScope, slug: string, metadata: DatasetMetadata, editor: MetadataEditor): Promise<Dataset> {
    checkDatasetMetadata(metadata);
    return this.inScope(scope, async (trx) => {
      const row = await repository.findDatasetBySlug(trx, slug);
      if (!row) throw notFound('dataset_not_found', `Dataset "${slug}" was not found.`);
      if (scope.kind === 'organisation' && row.organisation_id !== scope.organisationId) {
        throw forbidden('dataset_of_another_organisation', `Dataset "${slug}" belongs to ${row.organisation_name}. Only its data stewards and administrators can change its details.`);
      }
      checkMergedPeriod(row, metadata);
      const changed = changedColumns(row, metadataColumns(metadata));
      if (Object.keys(changed).length === 0) return toDataset(row);
      await repository.updateDataset(trx, row.id, changed);
      await appendAuditEvent(trx, {
        organisationId: row.organisation_id,
        actorUserId: editor.userId,
        actorKind: editor.kind,
        action: 'dataset.metadata_updated',
        subjectType: 'dataset',
        subjectId: row.id,
        requestId: editor.requestId ?? null,
        details: { dataset: slug, changed, ...(editor.operator ? { operator: editor.operator } : {}) },
      });
      return toDataset((await repository.findDatasetBySlug(trx, slug))!);
    });
  }

  /**
   * Makes a dataset private or open.
   * NOTE: this applies no personal-data check; callers that publish must pass the publication gate first.
   */
  async setVisibility(scope: CatalogueScope, slug: string, visibility: Visibility): Promise<Dataset> {
    return this.inScope(scope, async (trx) => {
      const row = await repository.findDatasetBySlug(trx, slug);
      if (!row) throw notFound('dataset_not_found', `Dataset "${slug}" was not found.`);
      await repository.updateDataset(trx, row.id, { visibility });
      return toDataset((await repository.findDatasetBySlug(trx, slug))!);
    });
  }

  /** Number of datasets in the whole catalogue, private ones included. */
  async countAllDatasets(): Promise<number> {
    return this.inScope({ kind: 'platform' }, (trx) => repository.countDatasets(trx, {}));
  }
}

/** PGlite returns bytea as a Uint8Array and node-postgres as a Buffer; callers get a Buffer either way. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}

/** Maps metadata given in the service's names to the dataset columns it sets, leaving absent fields untouched. */
export function metadataColumns(metadata: DatasetMetadata): Partial<repository.NewDataset> {
  const columns: Partial<repository.NewDataset> = {};
  if (metadata.title !== undefined) columns.title = metadata.title.trim();
  if (metadata.description !== undefined) columns.description = metadata.description;
  if (metadata.licenceId !== undefined) columns.licence_id = metadata.licenceId;
  if (metadata.tags !== undefined) columns.tags = [...new Set(metadata.tags)];
  if (metadata.theme !== undefined) columns.theme = metadata.theme;
  if (metadata.updateFrequency !== undefined) columns.update_frequency = metadata.updateFrequency;
  if (metadata.temporalStart !== undefined) columns.temporal_start = metadata.temporalStart;
  if (metadata.temporalEnd !== undefined) columns.temporal_end = metadata.temporalEnd;
  if (metadata.spatial !== undefined) columns.spatial = metadata.spatial;
  if (metadata.retentionMonths !== undefined) columns.retention_months = metadata.retentionMonths;
  return columns;
}

/** Keeps the columns whose new value differs from the stored one, so the audit log lists real changes only. */
export function changedColumns(row: repository.DatasetRow, columns: Partial<repository.NewDataset>): Partial<repository.NewDataset> {
  const changed: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(columns)) {
    const stored = (row as unknown as Record<string, unknown>)[name];
    if (JSON.stringify(stored ?? null) !== JSON.stringify(value ?? null)) changed[name] = value;
  }
  return changed as Partial<repository.NewDataset>;
}

export function newDatasetValues(organisationId: string, slug: string, metadata: DatasetMetadata & { title: string }, visibility: Visibility): repository.NewDataset {
  return {
    organisation_id: organisationId,
    slug,
    title: metadata.title.trim(),
    description: metadata.description ?? '',
    licence_id: metadata.licenceId ?? DEFAULT_LICENCE_ID,
    tags: [...new Set(metadata.tags ?? [])],
    theme: metadata.theme ?? null,
    update_frequency: metadata.updateFrequency ?? null,
    temporal_start: metadata.temporalStart ?? null,
    temporal_end: metadata.temporalEnd ?? null,
    spatial: metadata.spatial ?? null,
    visibility,
  };
}
