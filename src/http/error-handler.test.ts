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

  test('unparsable bodies get plain codes', async () => {
    const cases: Array<{ contentType: string; body: string; status: number; code: string; message: string }> = [
      {
        contentType: 'application/json',
        body: '{"title": "Spending",}',
        status: 400,
        code: 'invalid_json',
        message: 'The request body is not valid JSON. Check its syntax, such as double quotes around names and text, and no trailing commas.',
      },
      {
        contentType: 'application/json',
        body: '',
        status: 400,
        code: 'empty_json_body',
        message: 'The request body is empty but its Content-Type is application/json. Send a JSON object, or leave out the Content-Type header.',
      },
      {
        contentType: 'application/xml',
        body: '<title>Spending</title>',
        status: 415,
        code: 'unsupported_media_type',
        message: 'The request body\'s Content-Type is not accepted here. Send JSON with the header Content-Type: application/json.',
      },
      {
        contentType: 'text/plain',
        body: 'title=Spending',
        status: 400,
        code: 'invalid_request',
        message: 'Invalid request: The request body must be a JSON object, sent with the header Content-Type: application/json.',
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
      assert.equal(reply.error.message, message, contentType);
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
