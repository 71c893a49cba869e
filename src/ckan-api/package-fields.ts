import type { CkanDict } from './ckan.dicts.ts';
import { invalidParameter, readJson } from './datastore-params.ts';

/**
 * package_search `fl`: the dataset fields to return instead of whole package dicts. With `fl`, CKAN 2.10 returns the
 * values Solr stores for the dataset. So the fields that Solr indexes in another form than the package dict take that
 * form here too: tags and res_format as lists of names, organization as the organisation's name.
 * NOTE: metadata_created and metadata_modified keep the package dict's form (UTC without a zone), where Solr would
 * add a Z.
 */

/** Top-level keys of the package dict that `fl` returns unchanged. */
const PACKAGE_FIELDS = [
  'id', 'name', 'title', 'notes', 'type', 'state', 'private', 'license_id', 'license_title', 'license_url', 'isopen',
  'owner_org', 'author', 'author_email', 'maintainer', 'maintainer_email', 'url', 'version', 'metadata_created',
  'metadata_modified', 'num_tags', 'resources', 'num_resources', 'relationships_as_subject', 'relationships_as_object',
  'extras', 'update_frequency', 'temporal_coverage', 'spatial_coverage', 'current_resource_id',
] as const;

type Resource = { name?: unknown; format?: unknown; url?: unknown; description?: unknown };

/** Fields in Solr's form, computed from the package dict. `data_dict` and `validated_data_dict` are the dict as JSON. */
const INDEX_FIELDS: Record<string, (pkg: CkanDict) => unknown> = {
  tags: (pkg) => (pkg.tags as Array<{ name: string }>).map((tag) => tag.name),
  organization: (pkg) => (pkg.organization as { name: string }).name,
  groups: () => [],
  res_name: (pkg) => (pkg.resources as Resource[]).map((resource) => resource.name),
  res_format: (pkg) => (pkg.resources as Resource[]).map((resource) => resource.format),
  res_url: (pkg) => (pkg.resources as Resource[]).map((resource) => resource.url),
  res_description: (pkg) => (pkg.resources as Resource[]).map((resource) => resource.description),
  capacity: (pkg) => (pkg.private === true ? 'private' : 'public'),
  dataset_type: (pkg) => pkg.type,
  data_dict: (pkg) => JSON.stringify(pkg),
  validated_data_dict: (pkg) => JSON.stringify(pkg),
};

export const FIELD_LIST_NAMES: readonly string[] = [...PACKAGE_FIELDS, ...Object.keys(INDEX_FIELDS)].sort();

/**
 * Reads `fl` as field names separated by commas or spaces, or as a list of names (JSON text or a JSON body's list).
 * Returns null when `fl` is absent, so whole package dicts are returned. An unknown field is a Validation Error,
 * where Solr would leave the field out silently.
 */
export function readFieldList(params: Record<string, unknown>): string[] | null {
  const raw = typeof params.fl === 'string' && params.fl.trimStart().startsWith('[') ? readJson(params, 'fl', '["name", "title"]') : params.fl;
  if (raw === undefined || raw === null || raw === '') return null;
  const parts = Array.isArray(raw) ? raw : [raw];
  if (!parts.every((part) => typeof part === 'string')) throw invalidParameter('fl', 'fl must be field names separated by commas or spaces, such as "name,title".');
  const names = [...new Set((parts as string[]).flatMap((part) => part.split(/[\s,]+/)).filter((name) => name !== ''))];
  if (names.length === 0) return null;
  const unknown = names.filter((name) => !FIELD_LIST_NAMES.includes(name));
  if (unknown.length > 0) {
    throw invalidParameter('fl', `${unknown.map((name) => `"${name}"`).join(', ')} ${unknown.length === 1 ? 'is not a dataset field' : 'are not dataset fields'}. Use any of: ${FIELD_LIST_NAMES.join(', ')}.`);
  }
  return names;
}

/** Keeps the fields of `names` from a package dict, in the order asked. */
export function selectFields(pkg: CkanDict, names: readonly string[]): CkanDict {
  return Object.fromEntries(names.map((name) => [name, INDEX_FIELDS[name]?.(pkg) ?? pkg[name]]));
}
