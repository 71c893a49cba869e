import type { DatasetDetail } from '../catalogue/catalogue.types.ts';
import { findLicence } from '../catalogue/catalogue.metadata.ts';

/** Serialises JSON for a <script> element: `<` is escaped so that no text in the data can close the element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** Builds the schema.org Dataset description that search engines read from the dataset page (https://schema.org/Dataset). */
export function schemaOrgDataset(dataset: DatasetDetail, publicUrl: string): Record<string, unknown> {
  const landingPage = `${publicUrl}/dataset/${dataset.slug}`;
  const licence = findLicence(dataset.licenceId);
  const temporal = dataset.temporalStart || dataset.temporalEnd ? `${dataset.temporalStart ?? '..'}/${dataset.temporalEnd ?? '..'}` : undefined;
  const distribution = dataset.currentResource
    ? [
        { '@type': 'DataDownload', encodingFormat: 'text/csv', contentUrl: `${publicUrl}/dataset/${dataset.slug}/latest.csv` },
        { '@type': 'DataDownload', encodingFormat: 'application/json', contentUrl: `${publicUrl}/dataset/${dataset.slug}/resource/${dataset.currentResource.id}/download.json` },
      ]
    : [];
  return {
    '@context': 'https://schema.org/',
    '@type': 'Dataset',
    '@id': landingPage,
    name: dataset.title,
    description: dataset.description || dataset.title,
    url: landingPage,
    identifier: dataset.id,
    keywords: dataset.tags,
    ...(licence?.url ? { license: licence.url } : {}),
    isAccessibleForFree: true,
    creator: { '@type': 'Organization', name: dataset.organisation.name, url: `${publicUrl}/organisation/${dataset.organisation.slug}` },
    publisher: { '@type': 'Organization', name: dataset.organisation.name },
    dateModified: dataset.modifiedAt.toISOString(),
    datePublished: dataset.createdAt.toISOString(),
    ...(temporal ? { temporalCoverage: temporal } : {}),
    ...(dataset.spatial ? { spatialCoverage: { '@type': 'Place', name: dataset.spatial } } : {}),
    distribution,
  };
}
