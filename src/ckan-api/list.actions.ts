import { LICENCES, type Licence } from '../catalogue/catalogue.metadata.ts';
import { notFound } from '../errors.ts';
import type { OrganisationSort } from './catalogue-read.repository.ts';
import type { CkanAction } from './ckan.actions.ts';
import { organizationDetailDict, tagId, type CkanDict } from './ckan.dicts.ts';
import { invalidParameter, readBoolean, readInteger, readJson, readString } from './datastore-params.ts';

/**
 * The CKAN list actions: organization_list, group_list, tag_list and license_list, with the parameters, defaults and
 * result shapes of CKAN 2.10.
 */

/** CKAN 2.10's defaults for `ckan.group_and_organization_list_all_fields_max` and `ckan.group_and_organization_list_max`. */
const MAX_ORGANISATIONS_WITH_ALL_FIELDS = 25;
const MAX_ORGANISATIONS = 1000;

const ORGANIZATION_SORTS: Record<string, OrganisationSort> = { name: 'name', title: 'title', package_count: 'package_count', packages: 'package_count' };

/**
 * Reads `sort` as CKAN does: one field (name, title, package_count or its older name packages) and an optional
 * direction. The default is "title asc". A package count without a direction sorts largest first, as in CKAN.
 */
function readOrganisationSort(params: Record<string, unknown>): { sort: OrganisationSort; descending: boolean } {
  const text = readString(params, 'sort')?.trim() || readString(params, 'order_by')?.trim() || 'title';
  if (text.includes(',')) throw invalidParameter('sort', `Cannot sort organisations by "${text}": give one field only.`);
  const match = /^(\w+)(?:\s+(\w+))?$/.exec(text);
  const sort = match ? ORGANIZATION_SORTS[match[1]!] : undefined;
  if (!match || !sort) throw invalidParameter('sort', `Cannot sort organisations by "${text}". Use name, title or package_count, followed by asc or desc.`);
  const direction = match[2]?.toLowerCase() ?? (sort === 'package_count' ? 'desc' : 'asc');
  if (direction !== 'asc' && direction !== 'desc') throw invalidParameter('sort', `"${match[2]}" is not a sort direction. Use asc or desc.`);
  return { sort, descending: direction === 'desc' };
}

/** Reads a parameter that lists names: a JSON list, a repeated query parameter, or one name. */
function readNames(params: Record<string, unknown>, name: string): string[] | null {
  const raw = params[name];
  if (raw === undefined || raw === null || raw === '') return null;
  const value = typeof raw === 'string' && raw.trimStart().startsWith('[') ? readJson(params, name, '["thurrock-council"]') : raw;
  const names = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(names) || !names.every((item) => typeof item === 'string')) {
    throw invalidParameter(name, `${name} must be a list of names, such as ["thurrock-council"].`);
  }
  return names.map((item) => item.trim()).filter((item) => item !== '');
}

/**
 * Reads `limit` for organization_list and group_list. CKAN caps a larger limit at the site maximum instead of
 * rejecting it, and a missing limit gives the maximum.
 * NOTE: CKAN 2.10 applies no limit at all for limit=0; here 0 gives the maximum, so that the cap always holds.
 */
function readListLimit(params: Record<string, unknown>, allFields: boolean): number {
  const max = allFields ? MAX_ORGANISATIONS_WITH_ALL_FIELDS : MAX_ORGANISATIONS;
  const limit = readInteger(params, 'limit', 0, 0, Number.MAX_SAFE_INTEGER);
  return limit === 0 ? max : Math.min(limit, max);
}

/** A licence as CKAN 2.10's license_list returns it. CKAN sends every value as a string, booleans as "True" or "False". */
function licenseDict(licence: Licence): CkanDict {
  const flag = (value: boolean) => (value ? 'True' : 'False');
  return {
    domain_content: flag(licence.open),
    id: licence.id,
    domain_data: flag(licence.open),
    domain_software: 'False',
    family: '',
    is_generic: flag(licence.url === ''),
    od_conformance: licence.open ? 'approved' : 'not reviewed',
    osd_conformance: 'not reviewed',
    maintainer: '',
    status: 'active',
    url: licence.url,
    title: licence.title,
  };
}

export const LIST_ACTIONS: Record<string, CkanAction> = {
  organization_list: {
    help:
      'Return organisation names, or full dicts with all_fields=true. Parameters: all_fields, sort (name, title or ' +
      'package_count, with asc or desc; default "title asc"), limit (at most 25 with all_fields, else 1000), offset, ' +
      'q (text in the name, title or description), organizations (names to keep).',
    parameters: [
      { name: 'all_fields', description: 'Return dicts instead of names.', type: 'boolean' },
      { name: 'sort', description: 'name, title or package_count, with asc or desc (default "title asc"; package_count alone sorts largest first).' },
      { name: 'limit', description: 'Maximum organisations: at most 25 with all_fields, else 1000; a larger limit is capped.', type: 'integer' },
      { name: 'offset', description: 'Organisations to skip.', type: 'integer' },
      { name: 'q', description: 'Text that the name, title or description contains, ignoring case.' },
      { name: 'organizations', description: 'JSON list of organisation names to return.', type: 'list' },
    ],
    async run({ service, organisationId, params }) {
      const allFields = readBoolean(params, 'all_fields', false);
      const { sort, descending } = readOrganisationSort(params);
      const { organisations } = await service.listOrganisations(organisationId, {
        sort,
        descending,
        limit: readListLimit(params, allFields),
        offset: readInteger(params, 'offset', 0, 0, Number.MAX_SAFE_INTEGER),
        text: readString(params, 'q')?.trim() || null,
        names: readNames(params, 'organizations'),
      });
      return allFields ? organisations.map(organizationDetailDict) : organisations.map((organisation) => organisation.slug);
    },
  },

  group_list: {
    help: 'Return the site\'s groups. This site has organisations but no groups, so the list is always empty, as on a CKAN site without groups.',
    parameters: [
      { name: 'all_fields', description: 'Return dicts instead of names.', type: 'boolean' },
      { name: 'sort', description: 'name, title or package_count, with asc or desc.' },
      { name: 'limit', description: 'Maximum groups.', type: 'integer' },
      { name: 'offset', description: 'Groups to skip.', type: 'integer' },
    ],
    async run({ params }) {
      // The parameters are still checked, so a client's mistake shows here as it would on a site with groups.
      const allFields = readBoolean(params, 'all_fields', false);
      readOrganisationSort(params);
      readListLimit(params, allFields);
      readInteger(params, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
      readNames(params, 'groups');
      return [];
    },
  },

  tag_list: {
    help:
      'Return the names of the tags on the datasets you can see, sorted by name, or tag dicts with all_fields=true. ' +
      'query keeps the tags that contain the text, ignoring case. There are no tag vocabularies.',
    parameters: [
      { name: 'query', description: 'Text that each returned tag contains, ignoring case (q is read the same way).' },
      { name: 'all_fields', description: 'Return dicts with id, name, display_name and vocabulary_id instead of names.', type: 'boolean' },
      { name: 'vocabulary_id', description: 'A tag vocabulary; this site has none, so any value is not found.' },
    ],
    async run({ service, organisationId, params }) {
      const vocabulary = readString(params, 'vocabulary_id')?.trim();
      if (vocabulary) throw notFound('vocabulary_not_found', `Vocabulary "${vocabulary}" was not found. This site has free tags only: leave out vocabulary_id.`);
      const text = readString(params, 'query') ?? readString(params, 'q');
      const terms = text === undefined || text.trim() === '' ? [] : [text.trim()];
      const tags = await service.listTags(organisationId, terms);
      if (!readBoolean(params, 'all_fields', false)) return tags;
      // Tags are stored as names on each dataset and have no id of their own, so the name serves as the id.
      return tags.map((tag) => ({ id: tagId(tag), name: tag, display_name: tag, vocabulary_id: null }));
    },
  },

  license_list: {
    help: 'Return the licences that datasets on this site may use, as CKAN licence dicts.',
    parameters: [],
    async run() {
      return LICENCES.map(licenseDict);
    },
  },
};
