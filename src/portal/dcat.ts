import { sql, type Kysely } from 'kysely';
import { findLicence } from '../catalogue/catalogue.metadata.ts';
import type { DB } from '../db/schema.ts';
import { COUNCIL_NAME, SERVICE_NAME } from '../http/views.ts';
import { english, iri, typed, type RdfNode, type RdfObject } from './rdf.ts';

/**
 * The DCAT 3 catalogue (https://www.w3.org/TR/vocab-dcat-3/) with the DCAT-AP controlled vocabularies of the EU
 * Publications Office for frequencies, file types and languages, as national catalogues harvest it. Only open
 * datasets are described.
 */
export const CATALOGUE_PAGE_SIZE = 50;

const FREQUENCIES: Record<string, string> = {
  daily: 'DAILY',
  weekly: 'WEEKLY',
  monthly: 'MONTHLY',
  quarterly: 'QUARTERLY',
  annual: 'ANNUAL',
  irregular: 'IRREG',
  never: 'NEVER',
};
const EU_AUTHORITY = 'http://publications.europa.eu/resource/authority';
const IANA_MEDIA_TYPES = 'http://www.iana.org/assignments/media-types';
const TABLE_SCHEMA_SPEC = 'https://specs.frictionlessdata.io/table-schema/';

/** One open dataset with its publisher and current version, as the catalogue query returns it. */
export interface CatalogueEntry {
  id: string;
  slug: string;
  title: string;
  description: string;
  licence_id: string;
  tags: string[];
  theme: string | null;
  update_frequency: string | null;
  temporal_start: string | null;
  temporal_end: string | null;
  spatial: string | null;
  created_at: Date;
  modified_at: Date;
  organisation_slug: string;
  organisation_name: string;
  organisation_website: string | null;
  resource_id: string | null;
  resource_version: number | null;
  resource_format: string | null;
  resource_media_type: string | null;
  resource_filename: string | null;
  resource_byte_size: number | null;
  resource_created_at: Date | null;
}

function entryQuery(modifiedSince: Date | null) {
  const since = modifiedSince ? sql`and d.modified_at >= ${modifiedSince.toISOString()}::timestamptz` : sql``;
  return sql`from datasets d
    join organisations o on o.id = d.organisation_id
    left join resources r on r.id = d.current_resource_id
    where d.visibility = 'open' ${since}`;
}

/** Reads a page of open datasets, most recently changed first. Run it in a transaction scoped to the public. */
export async function catalogueEntries(db: Kysely<DB>, page: number, modifiedSince: Date | null): Promise<{ total: number; entries: CatalogueEntry[] }> {
  const from = entryQuery(modifiedSince);
  const { rows: counted } = await sql<{ total: number }>`select count(*)::int as total ${from}`.execute(db);
  const { rows } = await sql<CatalogueEntry>`
    select d.id, d.slug, d.title, d.description, d.licence_id, d.tags, d.theme, d.update_frequency,
           d.temporal_start::text as temporal_start, d.temporal_end::text as temporal_end, d.spatial, d.created_at, d.modified_at,
           o.slug as organisation_slug, o.name as organisation_name, o.website as organisation_website,
           r.id as resource_id, r.version as resource_version, r.format as resource_format, r.media_type as resource_media_type,
           r.original_filename as resource_filename, r.byte_size as resource_byte_size, r.created_at as resource_created_at
    ${from}
    order by d.modified_at desc, d.slug
    limit ${CATALOGUE_PAGE_SIZE} offset ${(page - 1) * CATALOGUE_PAGE_SIZE}`.execute(db);
  return { total: Number(counted[0]?.total ?? 0), entries: rows };
}

/** Finds the open dataset with this slug; undefined when there is none. */
export async function catalogueEntry(db: Kysely<DB>, slug: string): Promise<CatalogueEntry | undefined> {
  const { rows } = await sql<CatalogueEntry>`
    select d.id, d.slug, d.title, d.description, d.licence_id, d.tags, d.theme, d.update_frequency,
           d.temporal_start::text as temporal_start, d.temporal_end::text as temporal_end, d.spatial, d.created_at, d.modified_at,
           o.slug as organisation_slug, o.name as organisation_name, o.website as organisation_website,
           r.id as resource_id, r.version as resource_version, r.format as resource_format, r.media_type as resource_media_type,
           r.original_filename as resource_filename, r.byte_size as resource_byte_size, r.created_at as resource_created_at
    ${entryQuery(null)} and d.slug = ${slug}`.execute(db);
  return rows[0];
}

const dateTime = (value: Date) => typed(value.toISOString(), 'xsd:dateTime');

function dataServiceId(publicUrl: string): string {
  return `${publicUrl}/api/3/action`;
}

/** A publishing organisation as the catalogue describes it. */
export interface Publisher {
  slug: string;
  name: string;
  website: string | null;
}

/**
 * The slug of the council that runs the portal, made from its name ("Thurrock Council" gives "thurrock-council"), as
 * an import names an organisation from such a slug.
 * NOTE: no setting names the council's organisation, so a council registered under another slug is not found here.
 */
export const COUNCIL_SLUG = COUNCIL_NAME.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

/**
 * Reads the council's organisation, the publisher of the catalogue. When it has no organisation on the platform yet,
 * its name alone describes it, under the same IRI its organisation page would have.
 */
export async function councilPublisher(db: Kysely<DB>): Promise<Publisher> {
  const row = await db.selectFrom('organisations').select(['slug', 'name', 'website']).where('slug', '=', COUNCIL_SLUG).executeTakeFirst();
  return row ?? { slug: COUNCIL_SLUG, name: COUNCIL_NAME, website: null };
}

/**
 * Builds the foaf:Organization node of a publisher. Its IRI is the organisation's page, the same for the catalogue and
 * for every dataset the organisation publishes, so that harvesters see one agent.
 */
export function publisherNode(publisher: Publisher, publicUrl: string): RdfNode {
  return {
    id: `${publicUrl}/organisation/${publisher.slug}`,
    types: ['foaf:Organization'],
    properties: [
      ['foaf:name', publisher.name],
      ['foaf:homepage', publisher.website ? iri(publisher.website) : undefined],
    ],
  };
}

function entryPublisher(entry: CatalogueEntry): Publisher {
  return { slug: entry.organisation_slug, name: entry.organisation_name, website: entry.organisation_website };
}

function distribution(entry: CatalogueEntry, publicUrl: string, kind: 'csv' | 'json' | 'original'): RdfNode {
  const base = `${publicUrl}/dataset/${entry.slug}/resource/${entry.resource_id}`;
  const licence = findLicence(entry.licence_id);
  const formats = {
    csv: { title: 'CSV', url: `${base}/download.csv`, mediaType: 'text/csv', fileType: 'CSV' },
    json: { title: 'JSON', url: `${base}/download.json`, mediaType: 'application/json', fileType: 'JSON' },
    original: {
      title: `Original file (${entry.resource_format ?? 'file'})`,
      url: `${base}/download`,
      mediaType: entry.resource_media_type ?? 'application/octet-stream',
      fileType: (entry.resource_format ?? 'BIN').toUpperCase(),
    },
  }[kind];
  const properties: RdfNode['properties'] = [
    ['dct:title', english(`${entry.title}, version ${entry.resource_version}, ${formats.title}`)],
    ['dcat:accessURL', iri(`${publicUrl}/dataset/${entry.slug}`)],
    ['dcat:downloadURL', iri(formats.url)],
    ['dcat:mediaType', iri(`${IANA_MEDIA_TYPES}/${formats.mediaType}`)],
    ['dct:format', iri(`${EU_AUTHORITY}/file-type/${formats.fileType}`)],
    ['dct:license', licence?.url ? iri(licence.url) : undefined],
    ['dct:issued', entry.resource_created_at ? dateTime(entry.resource_created_at) : undefined],
  ];
  if (kind === 'original' && entry.resource_byte_size !== null) properties.push(['dcat:byteSize', typed(String(entry.resource_byte_size), 'xsd:nonNegativeInteger')]);
  if (kind !== 'original') {
    properties.push(['dct:conformsTo', { id: `${base}/schema.json`, types: ['dct:Standard'], properties: [['dct:title', 'Frictionless Table Schema of this version'], ['rdfs:seeAlso', iri(TABLE_SCHEMA_SPEC)]] }]);
    properties.push(['dcat:accessService', iri(dataServiceId(publicUrl))]);
  }
  return { id: `${base}#${kind}`, types: ['dcat:Distribution'], properties };
}

/** Builds the dcat:Dataset node of one open dataset, with its publisher, contact point and distributions. */
export function datasetNode(entry: CatalogueEntry, publicUrl: string): RdfNode {
  const landingPage = `${publicUrl}/dataset/${entry.slug}`;
  const licence = findLicence(entry.licence_id);
  const frequency = entry.update_frequency ? FREQUENCIES[entry.update_frequency] : undefined;
  const temporal: RdfObject | undefined =
    entry.temporal_start || entry.temporal_end
      ? {
          types: ['dct:PeriodOfTime'],
          properties: [
            ['dcat:startDate', entry.temporal_start ? typed(entry.temporal_start, 'xsd:date') : undefined],
            ['dcat:endDate', entry.temporal_end ? typed(entry.temporal_end, 'xsd:date') : undefined],
          ],
        }
      : undefined;
  return {
    id: landingPage,
    types: ['dcat:Dataset'],
    properties: [
      ['dct:identifier', entry.id],
      ['dct:title', english(entry.title)],
      ['dct:description', english(entry.description || entry.title)],
      ['dct:publisher', publisherNode(entryPublisher(entry), publicUrl)],
      ['dct:issued', dateTime(entry.created_at)],
      ['dct:modified', dateTime(entry.modified_at)],
      ['dct:license', licence?.url ? iri(licence.url) : undefined],
      ['dcat:keyword', entry.tags.map(english)],
      [
        'dcat:theme',
        entry.theme
          ? { id: `${publicUrl}/datasets?theme=${encodeURIComponent(entry.theme)}`, types: ['skos:Concept'], properties: [['skos:prefLabel', english(entry.theme)]] }
          : undefined,
      ],
      ['dct:accrualPeriodicity', frequency ? iri(`${EU_AUTHORITY}/frequency/${frequency}`) : undefined],
      ['dct:temporal', temporal],
      ['dct:spatial', entry.spatial ? { types: ['dct:Location'], properties: [['skos:prefLabel', english(entry.spatial)]] } : undefined],
      [
        'dcat:contactPoint',
        { types: ['vcard:Organization'], properties: [['vcard:fn', entry.organisation_name], ['vcard:hasURL', iri(`${publicUrl}/organisation/${entry.organisation_slug}`)]] },
      ],
      ['dcat:landingPage', iri(landingPage)],
      ['dct:language', iri(`${EU_AUTHORITY}/language/ENG`)],
      ['dcat:distribution', entry.resource_id ? [distribution(entry, publicUrl, 'csv'), distribution(entry, publicUrl, 'json'), distribution(entry, publicUrl, 'original')] : []],
    ],
  };
}

/** Builds the dcat:DataService node of the CKAN Action API, serving the datasets given. */
export function dataServiceNode(publicUrl: string, entries: CatalogueEntry[]): RdfNode {
  return {
    id: dataServiceId(publicUrl),
    types: ['dcat:DataService'],
    properties: [
      ['dct:title', english(`${SERVICE_NAME} CKAN API`)],
      ['dcat:endpointURL', iri(dataServiceId(publicUrl))],
      ['dcat:endpointDescription', iri(`${publicUrl}/api-guide`)],
      ['dct:conformsTo', iri('https://docs.ckan.org/en/latest/api/')],
      ['dcat:servesDataset', entries.map((entry) => iri(`${publicUrl}/dataset/${entry.slug}`))],
    ],
  };
}

export interface CataloguePageLinks {
  /** This page's URL, including its query. */
  self: string;
  first: string;
  last: string;
  next?: string;
  previous?: string;
}

/**
 * Builds the dcat:Catalog of one page, with the DataService and a Hydra view linking the other pages. `publisher` is
 * the council that runs the portal (see councilPublisher).
 */
export function catalogueGraph(publicUrl: string, publisher: Publisher, entries: CatalogueEntry[], total: number, links: CataloguePageLinks): RdfNode[] {
  const catalogue: RdfNode = {
    id: `${publicUrl}/catalog`,
    types: ['dcat:Catalog'],
    properties: [
      ['dct:title', english(`${SERVICE_NAME} data catalogue`)],
      ['dct:description', english(`Open data published by ${COUNCIL_NAME} and its partners.`)],
      ['dct:publisher', publisherNode(publisher, publicUrl)],
      ['foaf:homepage', iri(`${publicUrl}/`)],
      ['dct:language', iri(`${EU_AUTHORITY}/language/ENG`)],
      ['dct:modified', entries[0] ? dateTime(entries[0].modified_at) : undefined],
      ['dcat:dataset', entries.map((entry) => datasetNode(entry, publicUrl))],
      ['dcat:service', dataServiceNode(publicUrl, entries)],
      ['hydra:totalItems', typed(String(total), 'xsd:nonNegativeInteger')],
      [
        'hydra:view',
        {
          id: links.self,
          types: ['hydra:PartialCollectionView'],
          properties: [
            ['hydra:first', iri(links.first)],
            ['hydra:last', iri(links.last)],
            ['hydra:next', links.next ? iri(links.next) : undefined],
            ['hydra:previous', links.previous ? iri(links.previous) : undefined],
          ],
        },
      ],
    ],
  };
  return [catalogue];
}
