import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { buildUser, memberAuth } from '../../test/helpers/accounts.ts';
import { buildCatalogue, type Catalogue } from '../../test/helpers/catalogue-builders.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { startTestServer, testServices } from '../../test/helpers/services.ts';
import type { RunningServer } from '../main.ts';

/**
 * Calls operations over HTTP, errors included, and checks each response against the schema that /api/openapi.json
 * documents for its status and content type, as a client generated from the document would read it.
 */

interface ResponseObject {
  content?: Record<string, { schema?: unknown }>;
}

interface OpenApiDocument {
  paths: Record<string, Record<string, { responses?: Record<string, ResponseObject>; requestBody?: { content: Record<string, { schema: { required?: string[]; properties?: Record<string, unknown> } }> } }>>;
}

interface Call {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string | FormData;
  status: number;
}

function pointer(...parts: string[]): string {
  return parts.map((part) => part.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
}

/** Finds the documented path that `url` matches, such as /api/v1/datasets/{slug} for /api/v1/datasets/spending. */
function documentedPath(document: OpenApiDocument, url: string): string | undefined {
  const path = url.split('?')[0]!;
  return Object.keys(document.paths).find((template) => {
    const pattern = template.replace(/[.]/g, '\\.').replace(/\{\w+\}/g, '[^/]+');
    return new RegExp(`^${pattern}$`).test(path);
  });
}

for (const engine of testEngines()) {
  describe(`OpenAPI responses on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let server: RunningServer;
    let catalogue: Catalogue;
    let token: string;
    let document: OpenApiDocument;
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addFormat('binary', true);

    before(async () => {
      handle = await engine.create();
      const services = testServices(handle.db);
      server = await startTestServer(services);
      catalogue = await buildCatalogue(handle.db);
      const steward = await buildUser(handle.db, { member: { organisationId: catalogue.council.id, role: 'data_steward' } });
      token = (await services.tokens.create(memberAuth(steward.id, catalogue.council.id, 'data_steward'), { name: 'client', scopes: ['read', 'write'] })).token;
      document = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as OpenApiDocument;
      ajv.addSchema(document, 'openapi');
    });
    after(async () => {
      await server.close();
      await handle.drop();
    });

    /** Sends `call`, checks its status, and returns the problems found against the document (none when it matches). */
    async function check(call: Call): Promise<string[]> {
      const response = await fetch(`${server.url}${call.url}`, { method: call.method, headers: call.headers, body: call.body });
      const text = await response.text();
      assert.equal(response.status, call.status, `${call.method} ${call.url}: ${text.slice(0, 300)}`);
      const name = `${call.method} ${call.url} -> ${response.status}`;
      const path = documentedPath(document, call.url);
      const method = call.method.toLowerCase();
      if (!path || !document.paths[path]![method]) return [`${name}: operation not documented`];
      const documented = document.paths[path]![method]!.responses?.[String(response.status)];
      if (!documented) return [`${name}: status not documented`];
      const mediaType = (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
      if (!documented.content?.[mediaType]) return [`${name}: ${mediaType} not documented (${Object.keys(documented.content ?? {}).join(', ') || 'no content'})`];
      if (!mediaType.includes('json')) return [];
      const validate = ajv.getSchema(`openapi#/${pointer('paths', path, method, 'responses', String(response.status), 'content', mediaType, 'schema')}`)!;
      return validate(JSON.parse(text)) ? [] : [`${name}: ${ajv.errorsText(validate.errors)}`];
    }

    async function checkAll(calls: Call[]): Promise<void> {
      const problems: string[] = [];
      for (const call of calls) problems.push(...(await check(call)));
      assert.deepEqual(problems, []);
    }

    const json = { 'content-type': 'application/json' };
    const bearer = (): Record<string, string> => ({ authorization: `Bearer ${token}` });

    test('native dataset routes match', async () => {
      await checkAll([
        { method: 'GET', url: '/api/v1/datasets', status: 200 },
        { method: 'GET', url: '/api/v1/datasets?per_page=0', status: 400 },
        { method: 'GET', url: '/api/v1/datasets/spending-over-500', status: 200 },
        { method: 'GET', url: '/api/v1/datasets/no-such-dataset', status: 404 },
        { method: 'GET', url: `/api/v1/resources/${catalogue.spendingV2.id}/records?limit=2`, status: 200 },
        { method: 'PATCH', url: '/api/v1/datasets/spending-over-500', headers: { 'content-type': 'application/xml', ...bearer() }, body: '<title/>', status: 415 },
      ]);
    });

    test('aggregate responses match', async () => {
      await checkAll([
        { method: 'GET', url: '/api/v1/datasets/spending-over-500/aggregate?group_by=supplier', status: 200 },
        { method: 'GET', url: '/api/v1/datasets/spending-over-500/aggregate?group_by=no_such_column', status: 400 },
        { method: 'GET', url: '/api/v1/datasets/no-such-dataset/aggregate', status: 404 },
      ]);
    });

    test('visibility responses match', async () => {
      await checkAll([
        { method: 'PUT', url: '/api/v1/datasets/safeguarding-referrals/visibility', headers: json, body: '{"visibility":"private"}', status: 401 },
        { method: 'PUT', url: '/api/v1/datasets/safeguarding-referrals/visibility', headers: { ...json, ...bearer() }, body: '{"visibility":"hidden"}', status: 400 },
        { method: 'PUT', url: '/api/v1/datasets/no-such-dataset/visibility', headers: { ...json, ...bearer() }, body: '{"visibility":"private"}', status: 404 },
        { method: 'PUT', url: '/api/v1/datasets/safeguarding-referrals/visibility', headers: { ...json, ...bearer() }, body: '{"visibility":"private"}', status: 200 },
      ]);
    });

    test('DCAT responses match', async () => {
      await checkAll([
        { method: 'GET', url: '/catalog.jsonld', status: 200 },
        { method: 'GET', url: '/catalog.jsonld?page=99', status: 404 },
        { method: 'GET', url: '/catalog.ttl', status: 200 },
        { method: 'GET', url: '/catalog.ttl?page=0', status: 400 },
        { method: 'GET', url: '/dataset/spending-over-500.jsonld', status: 200 },
        { method: 'GET', url: '/dataset/no-such-dataset.jsonld', status: 404 },
      ]);
    });

    test('CKAN responses match', async () => {
      await checkAll([
        { method: 'GET', url: '/api/3/action/package_show?id=spending-over-500', status: 200 },
        { method: 'GET', url: '/api/3/action/package_show?id=no-such-dataset', status: 404 },
        { method: 'GET', url: '/api/3/action/package_show', status: 409 },
        { method: 'POST', url: '/api/3/action/package_show', headers: json, body: '{not json', status: 400 },
        { method: 'POST', url: '/api/3/action/package_show', headers: json, body: '[1]', status: 400 },
        { method: 'GET', url: '/api/3/action/package_list', headers: { authorization: 'not-a-token' }, status: 403 },
        { method: 'POST', url: '/api/3/action/package_show', headers: { 'content-type': 'application/xml' }, body: '<id/>', status: 415 },
        { method: 'GET', url: `/api/3/action/datastore_search?resource_id=${catalogue.spendingV2.id}&limit=1`, status: 200 },
      ]);
    });

    test('typed CKAN body matches', async () => {
      const body = {
        resource_id: catalogue.spendingV2.id,
        filters: { supplier: ['Acme Roads Ltd', 'Tilbury Print'] },
        q: { supplier: 'acme' },
        fields: ['supplier', 'amount'],
        sort: 'amount desc',
        limit: 2,
        offset: 0,
        include_total: true,
        distinct: false,
      };
      const path = pointer('paths', '/api/3/action/datastore_search', 'post', 'requestBody', 'content', 'application/json', 'schema');
      const validate = ajv.getSchema(`openapi#/${path}`)!;
      assert.ok(validate(body), `documented body schema: ${ajv.errorsText(validate.errors)}`);
      await checkAll([{ method: 'POST', url: '/api/3/action/datastore_search', headers: json, body: JSON.stringify(body), status: 200 }]);
      const listBody = { all_fields: true, limit: 5, offset: 0, organizations: ['thurrock-council'] };
      const listPath = pointer('paths', '/api/3/action/organization_list', 'post', 'requestBody', 'content', 'application/json', 'schema');
      const validateList = ajv.getSchema(`openapi#/${listPath}`)!;
      assert.ok(validateList(listBody), `documented body schema: ${ajv.errorsText(validateList.errors)}`);
      await checkAll([{ method: 'POST', url: '/api/3/action/organization_list', headers: json, body: JSON.stringify(listBody), status: 200 }]);
    });

    test('upload responses match', async () => {
      const form = (): FormData => {
        const body = new FormData();
        body.append('file', new Blob(['code,amount\n1,2.50\n']), 'codes.csv');
        return body;
      };
      await checkAll([
        { method: 'POST', url: '/api/v1/organisations/thurrock-council/datasets/client-upload/resources', body: form(), status: 401 },
        { method: 'POST', url: '/api/v1/organisations/thurrock-council/datasets/client-upload/resources', headers: bearer(), body: new FormData(), status: 400 },
        { method: 'POST', url: '/api/v1/organisations/thurrock-council/datasets/client-upload/resources', headers: bearer(), body: form(), status: 201 },
      ]);
    });

    test('upload form is documented', () => {
      const operation = document.paths['/api/v1/organisations/{organisation}/datasets/{dataset}/resources']!.post!;
      const form = operation.requestBody?.content['multipart/form-data']?.schema;
      assert.ok(form, 'multipart/form-data request body');
      assert.deepEqual(form.required, ['file']);
      assert.deepEqual(form.properties?.file, { type: 'string', format: 'binary', description: 'The CSV, TSV, XLSX or ODS file to load.' });
      assert.ok(form.properties?.visibility, 'visibility field');
      assert.ok(form.properties?.schema, 'schema field');
    });

    test('optional tokens are declared', () => {
      for (const [path, method] of [['/api/v1/datasets', 'get'], ['/api/3/action/package_search', 'post'], ['/api/v1/datasets/{slug}/aggregate', 'get']] as const) {
        const security = (document.paths[path]![method] as { security?: unknown[] }).security;
        assert.ok(security?.some((requirement) => JSON.stringify(requirement) === '{}'), `${method} ${path} allows anonymous callers`);
        assert.ok(security?.some((requirement) => JSON.stringify(requirement) === '{"bearerAuth":[]}'), `${method} ${path} takes a bearer token`);
      }
    });
  });
}
