import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { buildOrganisation, buildUser, memberAuth } from '../../test/helpers/accounts.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { startTestServer, testConfig } from '../../test/helpers/services.ts';
import { KeyRing } from '../keys/key-ring.ts';
import { createLogger } from '../logger.ts';
import { roleRequiredMessage } from './auth.ts';
import type { RunningServer } from '../main.ts';
import { createServices, type Services } from '../services.ts';

// The reply path does not depend on the engine, so the embedded one is enough.
const engine = testEngines()[0]!;

describe('API error replies', () => {
  let handle: Awaited<ReturnType<typeof engine.create>>;
  let server: RunningServer;
  let services: Services;
  const lines: Array<{ level: number; msg?: string }> = [];

  before(async () => {
    handle = await engine.create();
    const logger = createLogger('info', { write: (line: string) => lines.push(JSON.parse(line) as { level: number; msg?: string }) });
    services = createServices({ config: testConfig(), logger, db: handle.db, keys: new KeyRing(randomBytes(32)) });
    server = await startTestServer(services);
  });
  after(async () => {
    await server.close();
    await handle.drop();
  });

  test('sent once, logged once', async () => {
    lines.length = 0;
    const response = await fetch(`${server.url}/api/v1/datasets/no-such-dataset`);
    assert.equal(response.status, 404);
    const body = (await response.json()) as { error: { code: string } };
    assert.equal(body.error.code, 'dataset_not_found');
    const warnings = lines.filter((line) => line.level >= 40);
    assert.deepEqual(warnings.map((line) => line.msg), [], 'no warning such as "Reply was already sent"');
    assert.equal(lines.filter((line) => line.msg === 'request rejected').length, 1);
  });

  test('repeated query parameter is named', async () => {
    const response = await fetch(`${server.url}/api/v1/organisations?page=1&page=2`);
    assert.equal(response.status, 400);
    const body = (await response.json()) as { error: { code: string; message: string; fields: Array<{ field: string; message: string }> } };
    assert.equal(body.error.code, 'invalid_request');
    assert.deepEqual(body.error.fields, [{ field: 'page', message: 'query parameter page was given 2 times; give it once' }]);
  });

  async function postAgreement(contentType: string, body: string): Promise<{ status: number; error: { code: string; message: string } }> {
    const response = await fetch(`${server.url}/api/v1/agreements`, { method: 'POST', headers: { 'content-type': contentType }, body });
    return { status: response.status, error: ((await response.json()) as { error: { code: string; message: string } }).error };
  }

  test('oversized body names the limit', async () => {
    const reply = await postAgreement('application/json', `{"name":"${'a'.repeat(3 * 1024 * 1024)}"}`);
    assert.equal(reply.status, 413);
    assert.equal(reply.error.code, 'body_too_large');
    assert.match(reply.error.message, /larger than 2 MB/);
    assert.doesNotMatch(reply.error.code, /FST_/);
  });

  test('refused content type is named', async () => {
    const reply = await postAgreement('text/xml', '<agreement/>');
    assert.equal(reply.status, 415);
    assert.equal(reply.error.code, 'unsupported_media_type');
    assert.match(reply.error.message, /Content-Type "text\/xml" is not accepted/);
    assert.match(reply.error.message, /application\/json/);
  });

  test('malformed JSON gets a plain code', async () => {
    const reply = await postAgreement('application/json', '{"name": ');
    assert.equal(reply.status, 400);
    assert.equal(reply.error.code, 'invalid_json');
    assert.match(reply.error.message, /not valid JSON/);
  });

  test('CKAN oversized body names the limit', async () => {
    const response = await fetch(`${server.url}/api/3/action/package_search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"q":"${'a'.repeat(3 * 1024 * 1024)}"}` });
    assert.equal(response.status, 413);
    const body = (await response.json()) as { success: boolean; error: { message: string } };
    assert.equal(body.success, false);
    assert.match(body.error.message, /larger than 2 MB/);
  });

  test('address not UTF-8 in each format', async () => {
    // "%e9" (é in Latin-1) and "%ff" are bytes that are not UTF-8, so Fastify cannot decode the path to match a route.
    const page = await fetch(`${server.url}/dataset/caf%e9`);
    assert.equal(page.status, 400);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const html = await page.text();
    assert.match(html, /There is a problem with the web address/);
    assert.match(html, /bytes they encode must be UTF-8/);
    assert.doesNotMatch(html, /caf%e9/, 'the page does not repeat the address, which may hold a secret');
    const nonce = /<script type="module" nonce="([^"]+)"/.exec(html)?.[1];
    assert.ok(nonce, 'the page script has a nonce');
    assert.match(page.headers.get('content-security-policy') ?? '', new RegExp(`script-src 'self' 'nonce-${nonce.replace(/[+/]/g, '\\$&')}'`));
    assert.equal(page.headers.get('x-frame-options'), 'DENY');

    const api = await fetch(`${server.url}/api/v1/datasets/caf%e9`);
    assert.equal(api.status, 400);
    const apiBody = (await api.json()) as { error: { code: string; message: string } };
    assert.equal(apiBody.error.code, 'invalid_url');
    assert.match(apiBody.error.message, /must be UTF-8/);

    const ckan = await fetch(`${server.url}/api/3/action/package_show%ff`);
    assert.equal(ckan.status, 400);
    const ckanBody = (await ckan.json()) as { success: boolean; error: { __type: string; message: string } };
    assert.equal(ckanBody.success, false);
    assert.equal(ckanBody.error.__type, 'Validation Error');
    assert.match(ckanBody.error.message, /The web address is not valid/);
  });

  test('unparsable bodies get plain codes', async () => {
    const cases: Array<{ contentType: string; body: string; status: number; code: string; message: RegExp }> = [
      {
        contentType: 'application/json',
        body: '{"title": "Spending",}',
        status: 400,
        code: 'invalid_json',
        message: /^The request body is not valid JSON\. /,
      },
      {
        contentType: 'application/json',
        body: '',
        status: 400,
        code: 'empty_json_body',
        message: /^The request body is empty but its Content-Type is application\/json\. /,
      },
      {
        contentType: 'application/xml',
        body: '<title>Spending</title>',
        status: 415,
        code: 'unsupported_media_type',
        message: /^Content-Type "application\/xml" is not accepted here\. Send JSON with Content-Type: application\/json/,
      },
      {
        contentType: 'text/plain',
        body: 'title=Spending',
        status: 400,
        code: 'invalid_request',
        message: /^Invalid request: The request body must be a JSON object, sent with the header Content-Type: application\/json\.$/,
      },
    ];
    const organisation = await buildOrganisation(handle.db);
    const steward = await buildUser(handle.db, { member: { organisationId: organisation.id, role: 'data_steward' } });
    const token = (await services.tokens.create(memberAuth(steward.id, organisation.id, 'data_steward'), { name: 'client', scopes: ['write'] })).token;
    for (const { contentType, body, status, code, message } of cases) {
      const headers = { 'content-type': contentType, authorization: `Bearer ${token}` };
      const response = await fetch(`${server.url}/api/v1/datasets/no-such-dataset`, { method: 'PATCH', headers, body });
      const reply = (await response.json()) as { error: { code: string; message: string } };
      assert.equal(response.status, status, contentType);
      assert.equal(reply.error.code, code, contentType);
      assert.match(reply.error.message, message, contentType);
    }
  });
});

describe('role refusal wording', () => {
  test('names roles in words', () => {
    assert.equal(
      roleRequiredMessage(['data_protection_officer']),
      'Only a data protection officer or an administrator of your organisation can do this. Ask an administrator of your organisation if you need this role.',
    );
    assert.match(roleRequiredMessage(['data_steward', 'data_protection_officer']), /^Only a data steward or a data protection officer or an administrator of your organisation/);
    assert.match(roleRequiredMessage(['administrator']), /^Only an administrator of your organisation can do this\./);
  });
});
