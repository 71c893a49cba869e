import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildOrganisation, buildUser, memberAuth } from '../../test/helpers/accounts.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { startTestServer, testServices } from '../../test/helpers/services.ts';
import type { RunningServer } from '../main.ts';
import type { Services } from '../services.ts';

/** Upload requests whose form is wrong as a whole: the body's type, the number of files and fields, a field's size. */

interface ErrorBody {
  error: { code: string; message: string; fields: Array<{ field: string; message: string }> };
}

for (const engine of testEngines()) {
  describe(`upload form errors on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let services: Services;
    let server: RunningServer;
    let token: string;

    before(async () => {
      handle = await engine.create();
      services = testServices(handle.db);
      server = await startTestServer(services);
      const council = await buildOrganisation(handle.db, { slug: 'thurrock-council' });
      const steward = await buildUser(handle.db, { member: { organisationId: council.id, role: 'data_steward' } });
      token = (await services.tokens.create(memberAuth(steward.id, council.id, 'data_steward'), { name: 'loader', scopes: ['write'] })).token;
    });
    after(async () => {
      await server.close();
      await handle.drop();
    });

    async function post(dataset: string, body: BodyInit, headers: Record<string, string> = {}): Promise<{ status: number; body: ErrorBody }> {
      const url = `${server.url}/api/v1/organisations/thurrock-council/datasets/${dataset}/resources`;
      const response = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, ...headers }, body });
      return { status: response.status, body: (await response.json()) as ErrorBody };
    }

    async function datasetExists(slug: string): Promise<boolean> {
      return (await services.catalogue.findDataset({ kind: 'platform' }, slug)) !== undefined;
    }

    test('bare CSV body asks for multipart', async () => {
      const response = await post('bare-csv', 'code,amount\n1,2\n', { 'content-type': 'text/csv' });
      assert.equal(response.status, 400);
      assert.equal(response.body.error.code, 'multipart_required');
      assert.equal(response.body.error.message, 'Send the file as multipart/form-data with the file in the field "file". The request was sent as "text/csv".');
      assert.deepEqual(response.body.error.fields, [{ field: 'file', message: 'Send a file' }]);
      assert.equal(await datasetExists('bare-csv'), false);
    });

    test('JSON body names its type', async () => {
      const response = await post('json-body', '{}', { 'content-type': 'application/json' });
      assert.equal(response.status, 400);
      assert.equal(response.body.error.code, 'multipart_required');
      assert.match(response.body.error.message, /The request was sent as "application\/json"\.$/);
    });

    test('second file is a 400', async () => {
      const form = new FormData();
      form.append('file', new Blob(['code\n1\n']), 'first.csv');
      form.append('file', new Blob(['code\n2\n']), 'second.csv');
      const response = await post('two-files', form);
      assert.equal(response.status, 400);
      assert.equal(response.body.error.code, 'too_many_files');
      assert.equal(response.body.error.message, 'The form has more than one file. Send one file, in the form field "file".');
      assert.deepEqual(response.body.error.fields, [{ field: 'file', message: 'Send one file' }]);
      assert.equal(await datasetExists('two-files'), false);
    });

    test('too many fields is a 400', async () => {
      const form = new FormData();
      for (let index = 0; index < 17; index += 1) form.append('tags', `tag-${index}`);
      form.append('file', new Blob(['code\n1\n']), 'codes.csv');
      const response = await post('many-fields', form);
      assert.equal(response.status, 400);
      assert.equal(response.body.error.code, 'too_many_fields');
      assert.equal(response.body.error.message, 'The form has more than 16 fields besides the file. Send each field at most once.');
      assert.equal(await datasetExists('many-fields'), false);
    });

    test('field over 1 MB is rejected', async () => {
      const form = new FormData();
      form.append('description', 'x'.repeat(1024 * 1024 + 1));
      form.append('file', new Blob(['code\n1\n']), 'codes.csv');
      const response = await post('long-field', form);
      assert.equal(response.status, 400);
      assert.equal(response.body.error.code, 'field_too_long');
      assert.equal(response.body.error.message, 'The form field "description" is longer than 1 MB. Shorten it.');
      assert.deepEqual(response.body.error.fields, [{ field: 'description', message: 'Shorten this field' }]);
      assert.equal(await datasetExists('long-field'), false);
    });
  });
}
