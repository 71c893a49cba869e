import type { DatasetMetadata } from './catalogue.types.ts';

/**
 * Dataset metadata as text fields, named as the upload API's form fields. `civic import` takes the same values as
 * options (`--update-frequency` for `update_frequency`). An empty value counts as not given.
 */
export interface MetadataFields {
  description?: string;
  licence?: string;
  /** Comma-separated, such as "spending, transparency". */
  tags?: string;
  update_frequency?: string;
  temporal_start?: string;
  temporal_end?: string;
  spatial?: string;
}

export const METADATA_FIELD_NAMES = ['description', 'licence', 'tags', 'update_frequency', 'temporal_start', 'temporal_end', 'spatial'] as const satisfies ReadonlyArray<keyof MetadataFields>;

/** Splits a comma-separated tag list, trimming each tag and dropping empty ones. */
export function splitTags(text: string): string[] {
  const seen = new Set<string>();
  return text
    .split(',')
    .map((tag) => tag.trim())
    .filter((tag) => {
      // A tag typed twice, even in another case, is kept once, as first written.
      const key = tag.toLowerCase();
      if (tag === '' || seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

/** Returns a field's trimmed text, or undefined when it is missing or blank. */
function textOf(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

/** Maps text fields to the catalogue's metadata and leaves out blank ones. The catalogue then checks the values. */
export function metadataFromFields(fields: MetadataFields): Omit<DatasetMetadata, 'title'> {
  const metadata: Omit<DatasetMetadata, 'title'> = {};
  const description = textOf(fields.description);
  const tags = textOf(fields.tags);
  if (description !== undefined) metadata.description = description;
  if (textOf(fields.licence) !== undefined) metadata.licenceId = textOf(fields.licence);
  if (tags !== undefined) metadata.tags = splitTags(tags);
  if (textOf(fields.update_frequency) !== undefined) metadata.updateFrequency = textOf(fields.update_frequency);
  if (textOf(fields.temporal_start) !== undefined) metadata.temporalStart = textOf(fields.temporal_start);
  if (textOf(fields.temporal_end) !== undefined) metadata.temporalEnd = textOf(fields.temporal_end);
  if (textOf(fields.spatial) !== undefined) metadata.spatial = textOf(fields.spatial);
  return metadata;
}
