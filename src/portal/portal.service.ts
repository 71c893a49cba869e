import { sql } from 'kysely';
import type { CatalogueService } from '../catalogue/catalogue.service.ts';
import { findLicence } from '../catalogue/catalogue.metadata.ts';
import { organisationScope, PUBLIC_SCOPE, type CatalogueScope, type DatasetDetail, type Organisation, type ResourceVersion } from '../catalogue/catalogue.types.ts';
import type { Database } from '../db/database.ts';
import { withOrganisation } from '../db/tenant.ts';
import { notFound } from '../errors.ts';
import * as search from './search.repository.ts';

/** Datasets per page of search results. */
export const RESULTS_PER_PAGE = 20;

export interface FacetOption {
  value: string;
  label: string;
  count: number;
  checked: boolean;
}

export interface SearchPage {
  total: number;
  page: number;
  pageCount: number;
  hits: Array<search.SearchHitRow & { licenceTitle: string }>;
  facets: Record<search.FacetName, FacetOption[]>;
}

export interface OrganisationListing {
  slug: string;
  name: string;
  description: string;
  datasetCount: number;
}

/** Returns the scope a portal visitor reads the catalogue in: public, or their signed-in organisation. */
export function viewerScope(organisationId: string | null): CatalogueScope {
  return organisationId === null ? PUBLIC_SCOPE : organisationScope(organisationId);
}

export function licenceTitle(id: string): string {
  return findLicence(id)?.title ?? id;
}

/** The version a page shows: `version` when given, else the current one; not found when it does not exist. */
export function pickVersion(dataset: DatasetDetail, version: number | undefined): ResourceVersion {
  const chosen = version === undefined ? dataset.currentResource : dataset.versions.find((candidate) => candidate.version === version);
  if (!chosen) {
    const what = version === undefined ? 'has no data loaded yet' : `has no version ${version}`;
    throw notFound('version_not_found', `Dataset "${dataset.slug}" ${what}.`);
  }
  return chosen;
}

/** Reads what the portal pages show, always as the visitor's organisation (null for the public). */
export class PortalService {
  constructor(
    private readonly db: Database,
    private readonly catalogue: CatalogueService,
  ) {}

  async search(viewer: string | null, filters: search.SearchFilters, sort: search.SearchSort, page: number): Promise<SearchPage> {
    return withOrganisation(this.db.app, viewer, async (trx) => {
      const total = await search.countMatches(trx, filters);
      const pageCount = Math.max(1, Math.ceil(total / RESULTS_PER_PAGE));
      if (page > pageCount) throw notFound('page_not_found', `There is no page ${page} of these results; there are ${pageCount}.`);
      const rows = await search.searchDatasets(trx, filters, sort, RESULTS_PER_PAGE, (page - 1) * RESULTS_PER_PAGE);
      const facets = {} as Record<search.FacetName, FacetOption[]>;
      for (const facet of search.FACETS) {
        const chosen = filters.facets[facet];
        const counted = await search.facetCounts(trx, filters, facet);
        const options: FacetOption[] = counted.map((row) => ({ ...row, label: facet === 'licence' ? licenceTitle(row.value) : row.label, checked: chosen.includes(row.value) }));
        // A chosen value stays on the list even with no matches, so the visitor can untick it.
        for (const value of chosen) {
          if (!options.some((option) => option.value === value)) options.push({ value, label: facet === 'licence' ? licenceTitle(value) : value, count: 0, checked: true });
        }
        facets[facet] = options;
      }
      return { total, page, pageCount, hits: rows.map((row) => ({ ...row, licenceTitle: licenceTitle(row.licence_id) })), facets };
    });
  }

  /** Reads the most recently updated datasets, the themes and the publishing organisations, for the home page. */
  async home(viewer: string | null): Promise<{ recent: search.SearchHitRow[]; themes: search.FacetCountRow[]; organisations: OrganisationListing[]; total: number }> {
    const everything: search.SearchFilters = { text: '', facets: { organisation: [], theme: [], format: [], licence: [], tag: [] } };
    const organisations = await this.organisations(viewer);
    return withOrganisation(this.db.app, viewer, async (trx) => ({
      recent: await search.searchDatasets(trx, everything, 'updated', 5, 0),
      themes: await search.facetCounts(trx, everything, 'theme'),
      total: await search.countMatches(trx, everything),
      organisations: organisations.filter((organisation) => organisation.datasetCount > 0),
    }));
  }

  dataset(viewer: string | null, slug: string): Promise<DatasetDetail> {
    return this.catalogue.showDataset(viewerScope(viewer), slug);
  }

  /** Lists every organisation the visitor can see, with how many datasets of each they can see. */
  async organisations(viewer: string | null): Promise<OrganisationListing[]> {
    return withOrganisation(this.db.app, viewer, async (trx) => {
      const { rows } = await sql<{ slug: string; name: string; description: string; dataset_count: number }>`
        select o.slug, o.name, o.description, count(d.id)::int as dataset_count
        from organisations o left join datasets d on d.organisation_id = o.id
        group by o.id order by lower(o.name), o.slug`.execute(trx);
      return rows.map((row) => ({ slug: row.slug, name: row.name, description: row.description, datasetCount: Number(row.dataset_count) }));
    });
  }

  organisation(viewer: string | null, slug: string): Promise<Organisation> {
    return this.catalogue.getOrganisation(viewerScope(viewer), slug);
  }
}
