import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Services } from '../services.ts';
import { checkDatasetMetadata, checkDatasetSlug, checkOrganisationSlug } from './catalogue.metadata.ts';
import type { LoadReport, Visibility } from './catalogue.types.ts';
import type { ImportOptions } from './import.types.ts';

/** The sample catalogue shipped with the project. */
export const SAMPLES_FOLDER = fileURLToPath(new URL('../../samples/', import.meta.url));

export interface SampleDataset {
  organisation: { slug: string; name: string };
  dataset: string;
  title: string;
  description: string;
  licence: string;
  tags: string[];
  update_frequency: string | null;
  temporal_start?: string;
  temporal_end?: string;
  spatial?: string;
  /** The Local Government Transparency Code schema the file follows, such as `land`; the publication checks read it. */
  transparency?: string;
  /** Path of the file relative to the samples folder, such as `spending/FILE.csv`; it may not leave the folder. */
  file: string;
  visibility: Visibility;
}

export class SampleManifestError extends Error {
  override name = 'SampleManifestError';
}

function text(entry: Record<string, unknown>, key: string, where: string): string {
  const value = entry[key];
  if (typeof value !== 'string' || value.trim() === '') throw new SampleManifestError(`${where}: "${key}" must be non-empty text.`);
  return value;
}

function optionalText(entry: Record<string, unknown>, key: string, where: string): string | undefined {
  return entry[key] === undefined ? undefined : text(entry, key, where);
}

/** Reads and checks `catalogue.json` in `folder`; errors name the entry and the field at fault. */
export function readSampleManifest(folder: string = SAMPLES_FOLDER): SampleDataset[] {
  const manifestPath = path.join(folder, 'catalogue.json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  } catch (error) {
    throw new SampleManifestError(`The sample manifest ${manifestPath} cannot be read: ${(error as Error).message}`);
  }
  const datasets = (parsed as { datasets?: unknown }).datasets;
  if (!Array.isArray(datasets)) throw new SampleManifestError(`The sample manifest ${manifestPath} must have a "datasets" list.`);

  return datasets.map((raw: unknown, position) => {
    const where = `${manifestPath} datasets[${position}]`;
    if (typeof raw !== 'object' || raw === null) throw new SampleManifestError(`${where} must be an object.`);
    const entry = raw as Record<string, unknown>;
    const organisation = entry.organisation as Record<string, unknown> | undefined;
    if (typeof organisation !== 'object' || organisation === null) throw new SampleManifestError(`${where}: "organisation" must be an object with "slug" and "name".`);
    const tags = entry.tags ?? [];
    if (!Array.isArray(tags) || tags.some((tag) => typeof tag !== 'string')) throw new SampleManifestError(`${where}: "tags" must be a list of text.`);
    const visibility = entry.visibility ?? 'open';
    if (visibility !== 'open' && visibility !== 'private') throw new SampleManifestError(`${where}: "visibility" must be open or private.`);
    const sample: SampleDataset = {
      organisation: { slug: text(organisation, 'slug', `${where} organisation`), name: text(organisation, 'name', `${where} organisation`) },
      dataset: text(entry, 'dataset', where),
      title: text(entry, 'title', where),
      description: optionalText(entry, 'description', where) ?? '',
      licence: optionalText(entry, 'licence', where) ?? 'OGL-UK-3.0',
      tags: tags as string[],
      update_frequency: optionalText(entry, 'update_frequency', where) ?? null,
      temporal_start: optionalText(entry, 'temporal_start', where),
      temporal_end: optionalText(entry, 'temporal_end', where),
      spatial: optionalText(entry, 'spatial', where),
      transparency: optionalText(entry, 'transparency', where),
      file: text(entry, 'file', where),
      visibility,
    };
    try {
      checkOrganisationSlug(sample.organisation.slug);
      checkDatasetSlug(sample.dataset);
      checkDatasetMetadata({
        title: sample.title,
        licenceId: sample.licence,
        tags: sample.tags,
        updateFrequency: sample.update_frequency,
        temporalStart: sample.temporal_start,
        temporalEnd: sample.temporal_end,
      });
    } catch (error) {
      throw new SampleManifestError(`${where}: ${(error as Error).message}`);
    }
    const resolved = path.resolve(folder, sample.file);
    if (!resolved.startsWith(path.resolve(folder) + path.sep) || !fs.existsSync(resolved)) {
      throw new SampleManifestError(`${where}: file "${sample.file}" is not in ${folder}.`);
    }
    return sample;
  });
}

/**
 * Loads the sample catalogue when the catalogue has no datasets yet, one import per entry, and logs each load. A
 * catalogue that already has datasets is left alone, so a second start does not load the samples again.
 */
export async function seedSampleCatalogue(services: Services, folder: string = SAMPLES_FOLDER): Promise<LoadReport[]> {
  const samples = readSampleManifest(folder);
  const existing = await services.catalogue.countAllDatasets();
  if (existing > 0) {
    services.logger.info({ datasets: existing }, 'sample catalogue not loaded because the catalogue has datasets');
    return [];
  }
  const reports: LoadReport[] = [];
  for (const sample of samples) {
    const options: ImportOptions & { transparency?: string } = {
      organisation: sample.organisation.slug,
      organisationName: sample.organisation.name,
      dataset: sample.dataset,
      title: sample.title,
      metadata: {
        description: sample.description,
        licenceId: sample.licence,
        tags: sample.tags,
        updateFrequency: sample.update_frequency,
        temporalStart: sample.temporal_start ?? null,
        temporalEnd: sample.temporal_end ?? null,
        spatial: sample.spatial ?? null,
      },
      visibility: sample.visibility,
      actor: { kind: 'operator', name: 'sample catalogue' },
      transparency: sample.transparency,
    };
    const report = await services.imports.importFile({ path: path.join(folder, sample.file), filename: path.basename(sample.file) }, options);
    services.logger.info({ organisation: report.organisation, dataset: report.dataset, rows: report.rows, visibility: report.visibility }, 'sample dataset loaded');
    if (report.visibility !== sample.visibility) {
      services.logger.warn({ dataset: report.dataset, requested: sample.visibility, visibility: report.visibility }, 'sample dataset kept private by the publication checks');
    }
    reports.push(report);
  }
  return reports;
}
