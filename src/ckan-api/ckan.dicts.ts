import { createHash } from 'node:crypto';
import { findLicence } from '../catalogue/catalogue.metadata.ts';
import type { DatasetRecord, OrganisationRecord, ResourceRecord } from './catalogue-read.repository.ts';

/**
 * Package, resource and organization dicts in the shapes CKAN 2.10 returns, so CKAN clients read them unchanged.
 * Timestamps follow CKAN's form: ISO 8601 in UTC without a zone suffix.
 */

export type CkanDict = Record<string, unknown>;

export function ckanTimestamp(date: Date): string {
  return date.toISOString().replace(/Z$/, '');
}

/** The namespace UUID of tag ids, chosen at random once and never changed, since changing it changes every id. */
const TAG_NAMESPACE = Buffer.from('5b0f6c1e3d8a4f2b9c7e1a2d4b6f8e03', 'hex');

/**
 * Returns the id of a tag, a name-based UUID (version 5 of RFC 9562) of its name. A tag has the same id on every
 * dataset and in every response, as a CKAN tag does.
 */
export function tagId(name: string): string {
  const bytes = createHash('sha1').update(TAG_NAMESPACE).update(name, 'utf8').digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function tagDict(name: string): CkanDict {
  return { id: tagId(name), name, display_name: name, state: 'active', vocabulary_id: null };
}

export function organizationDict(organisation: Pick<OrganisationRecord, 'id' | 'slug' | 'name' | 'description' | 'created_at'>): CkanDict {
  return {
    id: organisation.id,
    name: organisation.slug,
    title: organisation.name,
    display_name: organisation.name,
    type: 'organization',
    description: organisation.description,
    image_url: '',
    image_display_url: '',
    created: ckanTimestamp(organisation.created_at),
    is_organization: true,
    approval_status: 'approved',
    state: 'active',
  };
}

/** A full organization dict as organization_list (all_fields) and organization_show return it. */
export function organizationDetailDict(organisation: OrganisationRecord): CkanDict {
  return { ...organizationDict(organisation), package_count: organisation.dataset_count, num_followers: 0, users: [], extras: [], tags: [], groups: [] };
}

export function resourceDict(resource: ResourceRecord, dataset: { slug: string }, position: number, publicUrl: string): CkanDict {
  const created = ckanTimestamp(resource.created_at);
  return {
    id: resource.id,
    package_id: resource.dataset_id,
    name: resource.name,
    description: resource.description,
    format: resource.format.toUpperCase(),
    mimetype: resource.media_type,
    url: `${publicUrl}/dataset/${encodeURIComponent(dataset.slug)}/resource/${resource.id}/download`,
    url_type: 'upload',
    datastore_active: true,
    size: resource.byte_size,
    hash: `sha256:${resource.sha256}`,
    created,
    last_modified: created,
    metadata_modified: created,
    position,
    state: 'active',
    resource_type: null,
    // Civic Exchange keeps every loaded version as a resource; CKAN clients ignore keys they do not know.
    version: resource.version,
    row_count: resource.row_count,
  };
}

function extrasOf(dataset: DatasetRecord): Array<{ key: string; value: string }> {
  const extras: Array<{ key: string; value: string }> = [];
  const add = (key: string, value: string | null) => {
    if (value !== null && value !== '') extras.push({ key, value });
  };
  add('update_frequency', dataset.update_frequency);
  add('temporal_start', dataset.temporal_start);
  add('temporal_end', dataset.temporal_end);
  add('spatial_coverage', dataset.spatial);
  add('theme', dataset.theme);
  return extras;
}

export function packageDict(dataset: DatasetRecord, resources: ResourceRecord[], publicUrl: string): CkanDict {
  const licence = findLicence(dataset.licence_id);
  const organization = organizationDict({
    id: dataset.organisation_id,
    slug: dataset.organisation_slug,
    name: dataset.organisation_name,
    description: dataset.organisation_description,
    created_at: dataset.organisation_created_at,
  });
  return {
    id: dataset.id,
    name: dataset.slug,
    title: dataset.title,
    notes: dataset.description,
    type: 'dataset',
    state: 'active',
    private: dataset.visibility === 'private',
    license_id: dataset.licence_id,
    license_title: licence?.title ?? dataset.licence_id,
    license_url: licence?.url ?? '',
    isopen: licence?.open ?? false,
    owner_org: dataset.organisation_id,
    organization,
    author: null,
    author_email: null,
    maintainer: dataset.organisation_name,
    maintainer_email: null,
    url: `${publicUrl}/dataset/${encodeURIComponent(dataset.slug)}`,
    version: null,
    metadata_created: ckanTimestamp(dataset.created_at),
    metadata_modified: ckanTimestamp(dataset.modified_at),
    tags: dataset.tags.map(tagDict),
    num_tags: dataset.tags.length,
    resources: resources.map((resource, position) => resourceDict(resource, dataset, position, publicUrl)),
    num_resources: resources.length,
    groups: [],
    relationships_as_subject: [],
    relationships_as_object: [],
    extras: extrasOf(dataset),
    update_frequency: dataset.update_frequency,
    temporal_coverage: { start: dataset.temporal_start, end: dataset.temporal_end },
    spatial_coverage: dataset.spatial,
    current_resource_id: dataset.current_resource_id,
  };
}
