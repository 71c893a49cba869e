import { validationError } from '../errors.ts';
import type { DatasetMetadata } from './catalogue.types.ts';

export interface Licence {
  id: string;
  title: string;
  url: string;
  /** Whether the licence meets the Open Definition, so the dataset may be published as open data. */
  open: boolean;
}

/** Licence ids follow the CKAN licence register, so CKAN clients recognise them. */
export const LICENCES: readonly Licence[] = [
  { id: 'OGL-UK-3.0', title: 'Open Government Licence v3.0', url: 'https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/', open: true },
  { id: 'OGL-UK-2.0', title: 'Open Government Licence v2.0', url: 'https://www.nationalarchives.gov.uk/doc/open-government-licence/version/2/', open: true },
  { id: 'CC-BY-4.0', title: 'Creative Commons Attribution 4.0', url: 'https://creativecommons.org/licenses/by/4.0/', open: true },
  { id: 'CC0-1.0', title: 'Creative Commons CCZero 1.0', url: 'https://creativecommons.org/publicdomain/zero/1.0/', open: true },
  { id: 'ODC-BY-1.0', title: 'Open Data Commons Attribution License 1.0', url: 'https://opendatacommons.org/licenses/by/1-0/', open: true },
  { id: 'other-closed', title: 'Other (not open)', url: '', open: false },
];

export const DEFAULT_LICENCE_ID = 'OGL-UK-3.0';

/** Update frequencies, named as in the DCAT frequency vocabulary of the EU Publications Office. */
export const UPDATE_FREQUENCIES = ['daily', 'weekly', 'monthly', 'quarterly', 'annual', 'irregular', 'never'] as const;

export const ORGANISATION_SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{1,99}$/;
export const DATASET_SLUG_PATTERN = /^[a-z0-9][a-z0-9_-]{1,99}$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const TAG_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,99}$/u;
/** Limits on free-text metadata, so that pages, DCAT and CKAN clients stay usable. */
export const MAX_TITLE_LENGTH = 500;
export const MAX_DESCRIPTION_LENGTH = 10_000;
export const MAX_SPATIAL_LENGTH = 200;
/** Maximum retention period of a dataset in months, matching the check on the datasets.retention_months column. */
export const MAX_RETENTION_MONTHS = 1200;
export const MAX_TAGS = 50;

export function findLicence(id: string): Licence | undefined {
  return LICENCES.find((licence) => licence.id === id);
}

/**
 * Slugs that name pages under /organisation/ (the signed-in member's organisation), so the public page of an organisation
 * with one of them could not be reached.
 */
export const RESERVED_ORGANISATION_SLUGS: ReadonlySet<string> = new Set(['members', 'invitations', 'settings', 'export', 'new', 'edit', 'wifi', 'billing', 'plan']);

/** A slug of this form could be read as another record's id, because the CKAN API finds records by id or slug. */
const UUID_FORM = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Returns whether `slug` has the form of a UUID, which organisation and dataset slugs may not have. */
export function hasIdForm(slug: string): boolean {
  return UUID_FORM.test(slug);
}

export function checkOrganisationSlug(slug: string): void {
  if (hasIdForm(slug)) throw uuidSlug('organisation', slug);
  if (RESERVED_ORGANISATION_SLUGS.has(slug)) {
    throw validationError(
      'reserved_organisation_slug',
      `Organisation "${slug}" is not available: the portal uses /organisation/${slug} for its own pages. Choose another slug, such as "${slug}-organisation" or one made from the organisation's name.`,
      [{ field: 'organisation', message: `Choose a slug other than "${slug}", which the portal uses for its own pages` }],
    );
  }
  if (!ORGANISATION_SLUG_PATTERN.test(slug)) {
    throw validationError(
      'invalid_organisation_slug',
      `Organisation "${slug}" is not a valid slug. Use 2 to 100 lowercase letters, digits and hyphens, starting with a letter or digit.`,
      [{ field: 'organisation', message: 'Enter a slug of lowercase letters, digits and hyphens' }],
    );
  }
}

export function checkDatasetSlug(slug: string): void {
  if (hasIdForm(slug)) throw uuidSlug('dataset', slug);
  if (!DATASET_SLUG_PATTERN.test(slug)) {
    throw validationError(
      'invalid_dataset_slug',
      `Dataset "${slug}" is not a valid slug. Use 2 to 100 lowercase letters, digits, hyphens and underscores, starting with a letter or digit.`,
      [{ field: 'dataset', message: 'Enter a slug of lowercase letters, digits, hyphens and underscores' }],
    );
  }
}

function uuidSlug(kind: 'organisation' | 'dataset', slug: string) {
  const Kind = kind === 'dataset' ? 'Dataset' : 'Organisation';
  return validationError(
    `invalid_${kind}_slug`,
    `${Kind} "${slug}" is not a valid slug: it has the form of an id, and the API finds ${kind}s by id as well as by slug. Choose a slug made from the ${kind}'s name.`,
    [{ field: kind, message: `Enter a slug that does not have the form of an id` }],
  );
}

function isRealDate(value: string): boolean {
  if (!ISO_DATE.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

/** Checks dataset metadata and throws one validation error listing every problem, each naming its field. */
export function checkDatasetMetadata(metadata: DatasetMetadata): void {
  const problems: Array<{ field: string; message: string }> = [];
  if (metadata.title !== undefined && (metadata.title.trim() === '' || metadata.title.length > MAX_TITLE_LENGTH)) {
    problems.push({ field: 'title', message: `Enter a title of 1 to ${MAX_TITLE_LENGTH} characters` });
  }
  if (metadata.licenceId !== undefined && !findLicence(metadata.licenceId)) {
    problems.push({ field: 'licence', message: `Licence "${metadata.licenceId}" is not known. Use one of: ${LICENCES.map((l) => l.id).join(', ')}` });
  }
  if (metadata.description !== undefined && metadata.description.length > MAX_DESCRIPTION_LENGTH) {
    problems.push({ field: 'description', message: `The description has ${metadata.description.length} characters. Shorten it to ${MAX_DESCRIPTION_LENGTH} characters or fewer` });
  }
  if ((metadata.tags?.length ?? 0) > MAX_TAGS) {
    problems.push({ field: 'tags', message: `There are ${metadata.tags!.length} tags. Give ${MAX_TAGS} or fewer` });
  }
  for (const tag of metadata.tags ?? []) {
    if (!TAG_PATTERN.test(tag)) problems.push({ field: 'tags', message: `Tag "${tag}" is invalid. Use up to 100 letters, digits, spaces, dots, hyphens or underscores` });
  }
  const frequency = metadata.updateFrequency;
  if (frequency != null && !(UPDATE_FREQUENCIES as readonly string[]).includes(frequency)) {
    problems.push({ field: 'update_frequency', message: `Update frequency "${frequency}" is not known. Use one of: ${UPDATE_FREQUENCIES.join(', ')}` });
  }
  for (const [field, value] of [['temporal_start', metadata.temporalStart], ['temporal_end', metadata.temporalEnd]] as const) {
    if (value != null && !isRealDate(value)) problems.push({ field, message: `"${value}" is not a date. Enter a date as YYYY-MM-DD` });
  }
  if (metadata.temporalStart && metadata.temporalEnd && isRealDate(metadata.temporalStart) && isRealDate(metadata.temporalEnd) && metadata.temporalStart > metadata.temporalEnd) {
    problems.push({ field: 'temporal_end', message: 'The end of the period must be the same as or after its start' });
  }
  if (metadata.spatial != null && (metadata.spatial.trim() === '' || metadata.spatial.length > MAX_SPATIAL_LENGTH)) {
    problems.push({ field: 'spatial', message: `Enter the area covered in 1 to ${MAX_SPATIAL_LENGTH} characters, such as Thurrock or E06000034` });
  }
  const retention = metadata.retentionMonths;
  if (retention != null && (!Number.isInteger(retention) || retention < 1 || retention > MAX_RETENTION_MONTHS)) {
    problems.push({ field: 'retention_months', message: `Retention period ${retention} is invalid. Enter a whole number of months from 1 to ${MAX_RETENTION_MONTHS}, or null to keep every version` });
  }
  if (problems.length > 0) {
    throw validationError('invalid_dataset_metadata', `Dataset metadata is invalid: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}.`, problems);
  }
}

/** Turns a slug such as `thurrock-council` into a readable name (`Thurrock Council`) for organisations an import creates. */
export function nameFromSlug(slug: string): string {
  return slug
    .split(/[-_]+/)
    .filter((part) => part !== '')
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join(' ');
}

/**
 * Checks the period a dataset will cover once `metadata` is applied to its stored period, because a request that
 * changes only one end can otherwise leave the end before the start. Call it after checkDatasetMetadata.
 */
export function checkMergedPeriod(stored: { temporal_start: string | null; temporal_end: string | null }, metadata: DatasetMetadata): void {
  const start = metadata.temporalStart !== undefined ? metadata.temporalStart : stored.temporal_start;
  const end = metadata.temporalEnd !== undefined ? metadata.temporalEnd : stored.temporal_end;
  if (start == null || end == null || start <= end) return;
  const field = metadata.temporalEnd !== undefined ? 'temporal_end' : 'temporal_start';
  const message = `The period would end on ${end}, before it starts on ${start}. Change both dates together, so the end is the same as or after the start`;
  throw validationError('invalid_dataset_metadata', `Dataset metadata is invalid: ${field}: ${message}.`, [{ field, message }]);
}
