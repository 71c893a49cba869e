import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import jsonld from 'jsonld';
import { Parser, Writer, type Quad } from 'n3';
import { buildApp } from '../http/app.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { testServices } from '../../test/helpers/services.ts';
import { insertPortalCatalogue } from './portal.test-data.ts';
import { PREFIXES, toTurtle } from './rdf.ts';

const DCAT = PREFIXES.dcat;
const DCT = PREFIXES.dct;
const RDF_TYPE = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#type';

type Expanded = Record<string, unknown> & { '@id'?: string; '@type'?: string[] };

/** Every node of an expanded JSON-LD document, nested ones included. */
function allNodes(value: unknown, found: Expanded[] = []): Expanded[] {
  if (Array.isArray(value)) for (const item of value) allNodes(item, found);
  else if (value && typeof value === 'object') {
    const node = value as Expanded;
    if (node['@type']) found.push(node);
    for (const [key, child] of Object.entries(node)) if (!key.startsWith('@') || key === '@graph') allNodes(child, found);
  }
  return found;
}

const ofType = (nodes: Expanded[], type: string) => nodes.filter((node) => node['@type']?.includes(type));
const values = (node: Expanded, property: string) => (node[property] as Array<Record<string, unknown>> | undefined) ?? [];

describe('Turtle writer', () => {
  test('escapes literals and IRIs', () => {
    const text = toTurtle([{ id: 'http://example.test/a b', types: ['dcat:Dataset'], properties: [['dct:title', { value: 'Say "hi"\\n', language: 'en' }]] }]);
    assert.match(text, /<http:\/\/example.test\/a%20b>/);
    assert.match(text, /dct:title "Say \\"hi\\"\\\\n"@en/);
    assert.match(text, /^@prefix dcat: <http:\/\/www.w3.org\/ns\/dcat#> \./m);
  });
});

for (const engine of testEngines()) {
  describe(`DCAT metadata on ${engine.name}`, () => {
    let drop: () => Promise<void>;
    let app: FastifyInstance;
    let ids: Awaited<ReturnType<typeof insertPortalCatalogue>>;

    before(async () => {
      const created = await engine.create();
      drop = created.drop;
      ids = await insertPortalCatalogue(created.db);
      app = await buildApp(testServices(created.db));
    });

    after(async () => {
      await app.close();
      await drop();
    });

    test('catalogue expands as JSON-LD', async () => {
      const response = await app.inject({ url: '/catalog.jsonld' });
      assert.equal(response.statusCode, 200);
      assert.equal(response.headers['content-type'], 'application/ld+json; charset=utf-8');
      const document = JSON.parse(response.body);
      assert.equal(typeof document['@context'], 'object', 'the context is inline, so nothing is fetched');
      const expanded = await jsonld.expand(document, {
        documentLoader: async (url: string) => {
          throw new Error(`The catalogue made the JSON-LD processor fetch ${url}`);
        },
      });
      const nodes = allNodes(expanded);
      const catalogues = ofType(nodes, `${DCAT}Catalog`);
      assert.equal(catalogues.length, 1);
      const datasets = ofType(nodes, `${DCAT}Dataset`);
      assert.deepEqual(datasets.map((node) => node['@id']).sort(), ['http://localhost:3000/dataset/land-and-building-assets', 'http://localhost:3000/dataset/spending-over-500']);
      assert.equal(values(catalogues[0]!, `${DCAT}dataset`).length, 2);
      assert.doesNotMatch(response.body, /incident-log-restricted|Essex Police/);

      const spending = datasets.find((node) => node['@id']!.endsWith('spending-over-500'))!;
      // DCAT-AP mandatory (title, description) and recommended properties of a dataset.
      for (const property of ['identifier', 'title', 'description', 'publisher', 'issued', 'modified', 'license', 'accrualPeriodicity', 'temporal', 'spatial']) {
        assert.ok(values(spending, `${DCT}${property}`).length > 0, `dct:${property} missing`);
      }
      for (const property of ['keyword', 'theme', 'contactPoint', 'landingPage', 'distribution']) {
        assert.ok(values(spending, `${DCAT}${property}`).length > 0, `dcat:${property} missing`);
      }
      assert.deepEqual(values(spending, `${DCT}accrualPeriodicity`)[0], { '@id': 'http://publications.europa.eu/resource/authority/frequency/MONTHLY' });
      assert.deepEqual(values(spending, `${DCT}license`)[0], { '@id': 'https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/' });

      const distributions = ofType(nodes, `${DCAT}Distribution`).filter((node) => node['@id']!.includes(ids.spending[1]!));
      assert.equal(distributions.length, 3);
      const csv = distributions.find((node) => node['@id']!.endsWith('#csv'))!;
      assert.deepEqual(values(csv, `${DCAT}downloadURL`)[0], { '@id': `http://localhost:3000/dataset/spending-over-500/resource/${ids.spending[1]}/download.csv` });
      assert.deepEqual(values(csv, `${DCAT}mediaType`)[0], { '@id': 'http://www.iana.org/assignments/media-types/text/csv' });
      assert.deepEqual(values(csv, `${DCT}format`)[0], { '@id': 'http://publications.europa.eu/resource/authority/file-type/CSV' });
      for (const property of [`${DCAT}accessURL`, `${DCT}license`, `${DCT}conformsTo`]) assert.ok(values(csv, property).length > 0, `${property} missing on the CSV distribution`);
      const original = distributions.find((node) => node['@id']!.endsWith('#original'))!;
      assert.ok(values(original, `${DCAT}byteSize`).length > 0);

      const services = ofType(nodes, `${DCAT}DataService`);
      assert.equal(services.length, 1);
      assert.equal(values(services[0]!, `${DCAT}servesDataset`).length, 2);
      assert.deepEqual(values(services[0]!, `${DCAT}endpointURL`)[0], { '@id': 'http://localhost:3000/api/3/action' });
    });

    test('catalogue pages and filters', async () => {
      const first = JSON.parse((await app.inject({ url: '/catalog.jsonld' })).body);
      const view = first['@graph'][0]['hydra:view'];
      assert.equal(view['hydra:first']['@id'], 'http://localhost:3000/catalog.jsonld?page=1');
      assert.equal(view['hydra:next'], undefined);
      assert.equal(first['@graph'][0]['hydra:totalItems']['@value'], '2');
      const since = JSON.parse((await app.inject({ url: '/catalog.jsonld?modified_since=2026-03-01' })).body);
      assert.deepEqual(since['@graph'][0]['dcat:dataset'].map((node: { '@id': string }) => node['@id']), ['http://localhost:3000/dataset/spending-over-500']);
      const page = await app.inject({ url: '/catalog.jsonld?page=x' });
      assert.equal(page.statusCode, 400);
      const beyond = await app.inject({ url: '/catalog.jsonld?page=2' });
      assert.equal(beyond.statusCode, 404);
    });

    test('errors in machine formats', async () => {
      const bad = await app.inject({ url: '/catalog.jsonld?modified_since=yesterday' });
      assert.equal(bad.statusCode, 400);
      assert.match(bad.headers['content-type'] as string, /^application\/json/);
      const body = JSON.parse(bad.body);
      assert.equal(body.error.fields[0].field, 'modified_since');
      assert.match(body.error.fields[0].message, /"yesterday" is not an ISO 8601 date/);

      const beyond = JSON.parse((await app.inject({ url: '/catalog.jsonld?page=2' })).body);
      assert.equal(beyond.error.code, 'page_not_found');

      const turtle = await app.inject({ url: '/catalog.ttl?page=0' });
      assert.equal(turtle.statusCode, 400);
      assert.equal(turtle.headers['content-type'], 'text/plain; charset=utf-8');
      assert.match(turtle.body, /^The web address has a setting that is not valid: page\.\npage: "0" is not a page number/);
      assert.doesNotMatch(turtle.body, /<html|govuk/i);
      const repeated = await app.inject({ url: '/catalog.ttl?page=1&page=2' });
      assert.equal(repeated.statusCode, 400);
      assert.match(repeated.body, /Give page once/);

      const missing = await app.inject({ url: '/dataset/nope.jsonld' });
      assert.equal(missing.statusCode, 404);
      assert.match(missing.headers['content-type'] as string, /^application\/json/);
      assert.equal(JSON.parse(missing.body).error.code, 'dataset_not_found');

      const page = await app.inject({ url: '/dataset/nope' });
      assert.match(page.headers['content-type'] as string, /^text\/html/, 'the portal pages keep their HTML errors');
    });

    test('catalogue and council datasets share one publisher', async () => {
      const document = JSON.parse((await app.inject({ url: '/catalog.jsonld' })).body);
      const catalogue = document['@graph'][0];
      assert.equal(catalogue['dct:publisher']['@id'], 'http://localhost:3000/organisation/thurrock-council');
      assert.equal(catalogue['dct:publisher']['foaf:name'], 'Thurrock Council');
      for (const dataset of catalogue['dcat:dataset']) assert.equal(dataset['dct:publisher']['@id'], catalogue['dct:publisher']['@id'], dataset['@id']);

      const turtle = (await app.inject({ url: '/catalog.ttl' })).body;
      assert.match(turtle, /<http:\/\/localhost:3000\/catalog>\n(?: {2}.*\n)*? {2}dct:publisher <http:\/\/localhost:3000\/organisation\/thurrock-council>/);
      assert.equal(turtle.match(/^<http:\/\/localhost:3000\/organisation\/thurrock-council>$/gm)?.length, 1, 'the publisher is described once');
      assert.doesNotMatch(turtle, /dct:publisher <http:\/\/localhost:3000\/>/);
    });

    test('catalogue in Turtle', async () => {
      const response = await app.inject({ url: '/catalog.ttl' });
      assert.equal(response.statusCode, 200);
      assert.equal(response.headers['content-type'], 'text/turtle; charset=utf-8');
      assert.match(response.body, /<http:\/\/localhost:3000\/catalog>\n {2}a dcat:Catalog/);
      assert.match(response.body, /<http:\/\/localhost:3000\/dataset\/spending-over-500>\n {2}a dcat:Dataset ;\n {2}dct:identifier "[0-9a-f-]{36}"/);
      assert.match(response.body, /dcat:keyword "spending"@en, "transparency"@en/);
      assert.match(response.body, /dcat:startDate "2026-01-01"\^\^xsd:date/);
    });

    test('Turtle parses to the JSON-LD graph', async () => {
      const turtle = (await app.inject({ url: '/catalog.ttl' })).body;
      const quads: Quad[] = new Parser({ baseIRI: 'http://localhost:3000/' }).parse(turtle);
      const objectsOf = (subject: string, predicate: string) => quads.filter((quad) => quad.subject.value === subject && quad.predicate.value === predicate).map((quad) => quad.object);
      const dataset = 'http://localhost:3000/dataset/spending-over-500';
      assert.deepEqual(objectsOf(dataset, RDF_TYPE).map((term) => term.value), [`${DCAT}Dataset`]);

      const [temporal] = objectsOf(dataset, `${DCT}temporal`);
      assert.equal(temporal?.termType, 'BlankNode');
      const [start] = quads.filter((quad) => quad.subject.equals(temporal!) && quad.predicate.value === `${DCAT}startDate`).map((quad) => quad.object);
      assert.equal(start?.termType, 'Literal');
      assert.equal(start?.value, '2026-01-01');
      assert.equal(start?.termType === 'Literal' ? start.datatype.value : '', `${PREFIXES.xsd}date`);
      const [modified] = objectsOf(dataset, `${DCT}modified`);
      assert.equal(modified?.termType === 'Literal' ? modified.datatype.value : '', `${PREFIXES.xsd}dateTime`);
      assert.ok(objectsOf(dataset, `${DCT}spatial`).length > 0, 'dct:spatial missing');
      const [distribution] = objectsOf(dataset, `${DCAT}distribution`);
      assert.equal(objectsOf(distribution!.value, `${DCAT}accessURL`)[0]?.termType, 'NamedNode');

      // Canonicalising both graphs (URDNA2015) gives their blank nodes the same labels, so the statements compare line
      // by line. The page links of each format name that format, so they are read as one.
      const nQuads = new Writer({ format: 'N-Quads' }).quadsToString(quads).replaceAll('/catalog.ttl?', '/catalog.jsonld?');
      const fromTurtle = await jsonld.canonize(await jsonld.fromRDF(nQuads, { format: 'application/n-quads' }), { algorithm: 'URDNA2015', format: 'application/n-quads' });
      const document = JSON.parse((await app.inject({ url: '/catalog.jsonld' })).body);
      const fromJsonLd = await jsonld.canonize(document, { algorithm: 'URDNA2015', format: 'application/n-quads' });
      const onlyInTurtle = fromTurtle.split('\n').filter((line) => !fromJsonLd.includes(line));
      const onlyInJsonLd = fromJsonLd.split('\n').filter((line) => !fromTurtle.includes(line));
      assert.deepEqual(onlyInTurtle, [], 'statements of the Turtle missing from the JSON-LD');
      assert.deepEqual(onlyInJsonLd, [], 'statements of the JSON-LD missing from the Turtle');
    });

    test('dataset JSON-LD and Data Package', async () => {
      const dataset = await app.inject({ url: '/dataset/spending-over-500.jsonld' });
      assert.equal(dataset.statusCode, 200);
      const expanded = await jsonld.expand(JSON.parse(dataset.body));
      assert.equal(ofType(allNodes(expanded), `${DCAT}Dataset`).length, 1);
      const missing = await app.inject({ url: '/dataset/nothing-here.jsonld' });
      assert.equal(missing.statusCode, 404);

      const pack = await app.inject({ url: '/dataset/spending-over-500/datapackage.json' });
      assert.equal(pack.statusCode, 200);
      const body = JSON.parse(pack.body);
      assert.equal(body.name, 'spending-over-500');
      assert.equal(body.licenses[0].name, 'OGL-UK-3.0');
      assert.equal(body.resources[0].path, `http://localhost:3000/dataset/spending-over-500/resource/${ids.spending[1]}/download.csv?header=names`);
      assert.deepEqual(body.resources[0].schema.fields.map((field: { name: string }) => field.name), ['payment_date', 'supplier', 'service', 'amount']);

      const schema = await app.inject({ url: `/dataset/spending-over-500/resource/${ids.spending[1]}/schema.json` });
      assert.equal(schema.statusCode, 200);
      assert.equal(JSON.parse(schema.body).fields[3].title, 'Amount (£)');
    });
  });
}
