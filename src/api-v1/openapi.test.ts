import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { testEngines } from '../../test/helpers/engines.ts';
import { startTestServer, testServices } from '../../test/helpers/services.ts';
import { NOTICE_EVENT_TYPES } from '../gdpr/rectification.service.ts';
import { buildApp } from '../http/app.ts';
import type { GuardAccess } from '../http/auth.ts';
import type { RunningServer } from '../main.ts';

/** Turns a Fastify route path (/api/v1/datasets/:slug) into its OpenAPI form (/api/v1/datasets/{slug}). */
function openApiPath(url: string): string {
  return url.replace(/:(\w+)/g, '{$1}');
}

/**
 * Reads Fastify's printed route tree (the only public form of its route table) into method and path pairs. A segment
 * shared by routes with different parameter names prints as `:a|:b`; each name gives its own path.
 */
function routeTable(printed: string): Array<{ method: string; url: string }> {
  const routes: Array<{ method: string; url: string }> = [];
  const stack: Array<{ column: number; paths: string[] }> = [];
  for (const line of printed.split('\n')) {
    const column = line.search(/[^\s│├└─]/);
    if (column < 0) continue;
    const match = /^(\S+)(?: \(([A-Z, ]+)\))?$/.exec(line.slice(column).trim());
    if (!match) continue;
    while (stack.length > 0 && stack[stack.length - 1]!.column >= column) stack.pop();
    const parents = stack[stack.length - 1]?.paths ?? [''];
    const alternatives = match[1]!.split('|').map((part, index, parts) => (index === 0 ? part : parts[0]!.replace(/:\w+$/, '') + part));
    const paths = parents.flatMap((parent) => alternatives.map((segment) => `${parent}${segment}`.replace(/\/\/+/g, '/')));
    stack.push({ column, paths });
    for (const method of match[2]?.split(', ') ?? []) for (const url of paths) routes.push({ method, url });
  }
  return routes;
}

const [engine] = testEngines();

describe('OpenAPI document', () => {
  let handle: Awaited<ReturnType<NonNullable<typeof engine>['create']>>;
  let app: FastifyInstance;
  const routes: Array<{ method: string; url: string }> = [];
  before(async () => {
    handle = await engine!.create();
    const services = testServices(handle.db, { publicUrl: 'https://data.example.test' });
    app = await buildApp(services);
    await app.ready();
    routes.push(...routeTable(app.printRoutes({ commonPrefix: false })).filter((route) => route.url.startsWith('/api/v1/')));
  });
  after(async () => {
    await app.close();
    await handle.drop();
  });

  test('parses as OpenAPI 3.1', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/openapi.json' });
    assert.equal(response.statusCode, 200);
    const document = JSON.parse(response.body);
    assert.match(document.openapi, /^3\.1\.\d+$/);
    assert.equal(document.info.title, 'Civic Exchange API');
    assert.deepEqual(document.servers, [{ url: 'https://data.example.test' }]);
    assert.ok(document.tags.some((tag: { name: string }) => tag.name === 'CKAN Action API'));
    assert.ok(document.paths['/api/3/action/datastore_search'].get);
    assert.ok(document.paths['/api/3/action/package_search'].post);
    const turtle = document.paths['/catalog.ttl'].get;
    assert.deepEqual(turtle.tags, ['DCAT metadata']);
    assert.ok(turtle.responses['200'].content['text/turtle']);
    assert.deepEqual(turtle.parameters.map((parameter: { name: string }) => parameter.name).sort(), ['modified_since', 'page']);
    assert.ok(document.paths['/dataset/{slug}.jsonld'].get.responses['404']);
  });

  test('subscription names every event type', async () => {
    const document = JSON.parse((await app.inject({ method: 'GET', url: '/api/openapi.json' })).body);
    const description: string = document.paths['/api/v1/exchange/subscriptions'].post.description;
    const eventTypes = ['dataset.version_created', 'agreement.version_in_force', 'agreement.status_changed', 'agreement.review_due', ...Object.values(NOTICE_EVENT_TYPES)];
    for (const eventType of eventTypes) assert.ok(description.includes(eventType), eventType);
  });

  test('upload documents its multipart form', async () => {
    const document = JSON.parse((await app.inject({ method: 'GET', url: '/api/openapi.json' })).body);
    const upload = document.paths['/api/v1/organisations/{organisation}/datasets/{dataset}/resources'].post;
    const form = upload.requestBody?.content?.['multipart/form-data']?.schema;
    assert.ok(form, 'the upload has a multipart/form-data request body');
    assert.deepEqual(form.required, ['file']);
    assert.equal(form.properties.file.format, 'binary');
    assert.deepEqual(form.properties.visibility.anyOf.flatMap((choice: { enum: string[] }) => choice.enum), ['private', 'open']);
    assert.ok(form.properties.agreement);
    const declared = new Set(document.tags.map((tag: { name: string }) => tag.name));
    for (const tag of upload.tags) assert.ok(declared.has(tag), `tag ${tag} is declared`);
  });

  test('documents every /api/v1 route', async () => {
    const document = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as { paths: Record<string, Record<string, unknown>> };
    const apiRoutes = routes.filter((route) => route.method !== 'HEAD');
    assert.ok(apiRoutes.length >= 6, `found ${apiRoutes.length} /api/v1 routes`);
    // A segment with two parameter names yields one path per name; each method must be documented under one of them.
    const byMethod = new Map<string, string[]>();
    for (const route of apiRoutes) {
      const key = `${route.method} ${route.url.replace(/:\w+/g, ':')}`;
      byMethod.set(key, [...(byMethod.get(key) ?? []), route.url]);
    }
    for (const [key, urls] of byMethod) {
      const method = key.split(' ')[0]!.toLowerCase();
      assert.ok(urls.some((url) => document.paths[openApiPath(url)]?.[method]), `${key} is documented (as one of ${urls.join(', ')})`);
    }
    const records = document.paths['/api/v1/resources/{id}/records']!.get as { parameters: Array<{ name: string }> };
    assert.ok(records.parameters.some((parameter) => parameter.name === 'filters'));
  });

  test('operation ids unique and stable', async () => {
    const document = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as { paths: Record<string, Record<string, { operationId?: string }>> };
    const ids = new Map<string, string>();
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) ids.set(`${method.toUpperCase()} ${path}`, operation.operationId ?? '');
    }
    assert.deepEqual([...ids].filter(([, id]) => id === '').map(([name]) => name), [], 'operations without an operationId');
    const seen = new Map<string, string[]>();
    for (const [name, id] of ids) seen.set(id, [...(seen.get(id) ?? []), name]);
    assert.deepEqual([...seen].filter(([, names]) => names.length > 1), [], 'operationIds used twice');
    // Generated clients name their methods after these ids, so a change here breaks their callers.
    const pinned: Array<[string, string]> = [
      ['GET /api/v1/datasets', 'getDatasets'],
      ['GET /api/v1/datasets/{slug}', 'getDatasetsBySlug'],
      ['PATCH /api/v1/datasets/{slug}', 'patchDatasetsBySlug'],
      ['GET /api/v1/resources/{id}/records', 'getResourcesByIdRecords'],
      ['POST /api/v1/organisations/{organisation}/datasets/{dataset}/resources', 'postOrganisationsByOrganisationDatasetsByDatasetResources'],
      ['GET /api/3/action/package_search', 'getCkanPackageSearch'],
      ['POST /api/3/action/package_search', 'postCkanPackageSearch'],
      ['GET /api/3/action/datastore_search_sql', 'getCkanDatastoreSearchSql'],
      ['GET /catalog.jsonld', 'getCatalogJsonld'],
      ['GET /dataset/{slug}.jsonld', 'getDatasetBySlugJsonld'],
      ['DELETE /api/tokens/{id}', 'deleteTokensById'],
    ];
    for (const [name, id] of pinned) assert.equal(ids.get(name), id, name);
  });

  test('leaves out pages and forms', async () => {
    const document = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as { paths: Record<string, unknown> };
    const outside = Object.keys(document.paths).filter((path) => !path.startsWith('/api/'));
    assert.deepEqual(outside.sort(), ['/catalog.jsonld', '/catalog.ttl', '/dataset/{slug}.jsonld'], 'only the DCAT routes');
    assert.ok(Object.keys(document.paths).length > 20, 'the API paths are still there');
  });
});

/** Guards that reject a caller who has not signed in or sent a token. The application guard always comes after one of them. */
const AUTHENTICATING_GUARDS = new Set<GuardAccess['kind']>(['signed_in', 'member', 'token', 'platform_admin']);

interface Operation {
  summary?: string;
  tags?: string[];
  security?: Array<Record<string, string[]>>;
}

describe('OpenAPI operations over HTTP', () => {
  let handle: Awaited<ReturnType<NonNullable<typeof engine>['create']>>;
  let server: RunningServer;
  const operations: Array<{ name: string; operation: Operation }> = [];
  before(async () => {
    handle = await engine!.create();
    server = await startTestServer(testServices(handle.db));
    const response = await fetch(`${server.url}/api/openapi.json`);
    assert.equal(response.status, 200);
    const document = (await response.json()) as { paths: Record<string, Record<string, Operation>> };
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) operations.push({ name: `${method.toUpperCase()} ${path}`, operation });
    }
  });
  after(async () => {
    await server.close();
    await handle.drop();
  });

  test('every operation has a summary', () => {
    assert.ok(operations.length >= 60, `found ${operations.length} operations`);
    const missing = operations.filter(({ operation }) => typeof operation.summary !== 'string' || operation.summary.trim() === '').map(({ name }) => name);
    assert.deepEqual(missing, [], 'operations without a summary');
  });

  test('every operation has a tag', () => {
    const missing = operations.filter(({ operation }) => !Array.isArray(operation.tags) || operation.tags.length === 0).map(({ name }) => name);
    assert.deepEqual(missing, [], 'operations without a tag');
  });

  test('guarded operations declare security', () => {
    const guarded = new Set(
      server.app.routeAccess
        .filter((route) => route.guards.some((guard) => AUTHENTICATING_GUARDS.has(guard.kind)))
        .map((route) => `${route.method} ${openApiPath(route.url)}`),
    );
    const checked = operations.filter(({ name }) => guarded.has(name));
    assert.ok(checked.length >= 30, `found ${checked.length} guarded operations`);
    const missing = checked.filter(({ operation }) => !Array.isArray(operation.security) || operation.security.length === 0).map(({ name }) => name);
    assert.deepEqual(missing, [], 'guarded operations without security');
  });
});
