import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { withOrganisation } from '../db/tenant.ts';
import { notFound } from '../errors.ts';
import { missingDatasetError, missingResourceError } from './access.ts';
import * as repository from './catalogue-read.repository.ts';
import type { DatasetRecord, OrganisationListOptions, OrganisationRecord, ResourceRecord } from './catalogue-read.repository.ts';
import { searchDatastore } from './datastore-search.ts';
import { runDatastoreSql } from './datastore-sql.ts';
import type { DatastoreQuery, DatastoreResult, DatastoreSqlResult } from './datastore.types.ts';
import { searchPackages, type PackageSearchPage, type PackageSearchQuery } from './package-search.ts';

export interface DatasetWithResources {
  dataset: DatasetRecord;
  /** Every version, newest first. */
  resources: ResourceRecord[];
}

export interface ResourceWithDataset {
  resource: ResourceRecord;
  dataset: DatasetRecord;
  /** Position of the resource in its dataset's list (0 is the newest version). */
  position: number;
}

/**
 * The read side of the open-data APIs: catalogue lookups, package search and the datastore. Every method takes the
 * caller's organisation id (null for anonymous callers) and runs inside withOrganisation, so row-level security
 * decides what is visible.
 */
export class OpenDataService {
  constructor(
    private readonly db: Database,
    private readonly config: Pick<Config, 'sqlTimeoutMs' | 'publicUrl'>,
  ) {}

  get publicUrl(): string {
    return this.config.publicUrl;
  }

  listOpenDatasetSlugs(organisationId: string | null, limit: number | null, offset: number): Promise<string[]> {
    return withOrganisation(this.db.app, organisationId, (trx) => repository.listOpenDatasetSlugs(trx, limit, offset));
  }

  searchDatasets(organisationId: string | null, query: PackageSearchQuery): Promise<PackageSearchPage & { resources: Map<string, ResourceRecord[]> }> {
    return withOrganisation(this.db.app, organisationId, async (trx) => {
      const page = await searchPackages(trx, query);
      const resources = await repository.listResources(trx, page.datasets.map((dataset) => dataset.id));
      return { ...page, resources };
    });
  }

  /** Loads a dataset by slug or id with its resources. Throws 403 when it exists but is private to another organisation. */
  showDataset(organisationId: string | null, reference: string): Promise<DatasetWithResources> {
    return withOrganisation(this.db.app, organisationId, async (trx) => {
      const dataset = await repository.findDataset(trx, reference);
      if (!dataset) throw await missingDatasetError(trx, reference);
      const resources = (await repository.listResources(trx, [dataset.id])).get(dataset.id) ?? [];
      return { dataset, resources };
    });
  }

  showResource(organisationId: string | null, resourceId: string): Promise<ResourceWithDataset> {
    return withOrganisation(this.db.app, organisationId, async (trx) => {
      const resource = await repository.findResource(trx, resourceId);
      if (!resource) throw await missingResourceError(trx, resourceId);
      const dataset = await repository.findDataset(trx, resource.dataset_id);
      if (!dataset) throw await missingResourceError(trx, resourceId);
      const siblings = (await repository.listResources(trx, [dataset.id])).get(dataset.id) ?? [];
      return { resource, dataset, position: Math.max(0, siblings.findIndex((sibling) => sibling.id === resource.id)) };
    });
  }

  listOrganisations(organisationId: string | null, options: OrganisationListOptions): Promise<{ total: number; organisations: OrganisationRecord[] }> {
    return withOrganisation(this.db.app, organisationId, async (trx) => ({
      total: await repository.countOrganisations(trx),
      organisations: await repository.listOrganisations(trx, options),
    }));
  }

  /** Tags of the datasets the caller can see; see listTags for how `terms` match. */
  listTags(organisationId: string | null, terms: string[]): Promise<string[]> {
    return withOrganisation(this.db.app, organisationId, (trx) => repository.listTags(trx, terms));
  }

  showOrganisation(organisationId: string | null, reference: string): Promise<OrganisationRecord> {
    return withOrganisation(this.db.app, organisationId, async (trx) => {
      const organisation = await repository.findOrganisation(trx, reference);
      if (!organisation) throw notFound('organisation_not_found', `Organisation "${reference}" was not found. Check the name or id.`);
      return organisation;
    });
  }

  /** datastore_search: the portal's data preview and the native records route call this too. */
  searchDatastore(organisationId: string | null, query: DatastoreQuery): Promise<DatastoreResult> {
    return searchDatastore(this.db.app, organisationId, query);
  }

  runSql(organisationId: string | null, query: string): Promise<DatastoreSqlResult> {
    return runDatastoreSql(this.db.app, organisationId, query, { timeoutMs: this.config.sqlTimeoutMs, engine: this.db.engine });
  }
}
