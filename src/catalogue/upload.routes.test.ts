import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { buildOrganisation, buildUser, memberAuth } from '../../test/helpers/accounts.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { spendingFixture } from '../../test/helpers/import-fixtures.ts';
import { startTestServer, testServices } from '../../test/helpers/services.ts';
import { AppError } from '../errors.ts';
import type { RunningServer } from '../main.ts';
import type { Services } from '../services.ts';
import { organisationScope, PUBLIC_SCOPE } from './catalogue.types.ts';
import { uploadFile } from './upload.client.ts';

const run = promisify(execFile);
const CLI = path.resolve(import.meta.dirname, '../../bin/civic.mjs');

function uploadFolders(): string[] {
  return fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith('civic-upload-'));
}

async function postForm(url: string, token: string | undefined, form: FormData): Promise<{ status: number; body: any }> {
  const response = await fetch(url, { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {}, body: form });
  return { status: response.status, body: await response.json() };
}

for (const engine of testEngines()) {
  describe(`upload API on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let services: Services;
    let server: RunningServer;
    let councilToken: string;
    let readOnlyToken: string;
    let charityToken: string;
    let councilId: string;

    before(async () => {
      handle = await engine.create();
      services = testServices(handle.db);
      server = await startTestServer(services);
      const council = await buildOrganisation(handle.db, { slug: 'thurrock-council' });
      const charity = await buildOrganisation(handle.db, { slug: 'food-bank' });
      councilId = council.id;
      const steward = await buildUser(handle.db, { member: { organisationId: council.id, role: 'data_steward' } });
      const volunteer = await buildUser(handle.db, { member: { organisationId: charity.id, role: 'administrator' } });
      councilToken = (await services.tokens.create(memberAuth(steward.id, council.id, 'data_steward'), { name: 'loader', scopes: ['write'] })).token;
      readOnlyToken = (await services.tokens.create(memberAuth(steward.id, council.id, 'data_steward'), { name: 'reader', scopes: ['read'] })).token;
      charityToken = (await services.tokens.create(memberAuth(volunteer.id, charity.id, 'administrator'), { name: 'charity', scopes: ['write'] })).token;
    });
    after(async () => {
      await server.close();
      await handle.drop();
    });

    test('upload loads a new version', async () => {
      const foldersBefore = uploadFolders().length;
      const report = await uploadFile({
        server: server.url,
        token: councilToken,
        filePath: spendingFixture('mth-10-january-2014.csv'),
        organisation: 'thurrock-council',
        dataset: 'nhs-spend',
        title: 'NHS spend over £25,000',
        visibility: 'private',
      });
      assert.equal(report.rows, 89);
      assert.equal(report.version, 1);
      assert.equal(report.title, 'NHS spend over £25,000');
      assert.equal(report.schema.fields.find((field) => field.name === 'transaction_number')?.type, 'string');
      assert.equal(uploadFolders().length, foldersBefore, 'temporary upload folder removed');

      const dataset = await services.catalogue.showDataset(organisationScope(councilId), 'nhs-spend');
      assert.equal(dataset.currentResource?.rowCount, 89);
      assert.equal(dataset.visibility, 'private');
      assert.equal(await services.catalogue.findDataset(PUBLIC_SCOPE, 'nhs-spend'), undefined);
    });

    test('schema field overrides inference', async () => {
      const schema = JSON.stringify({
        fields: [
          { name: 'code', title: 'code', type: 'string' },
          { name: 'amount', title: 'amount', type: 'number' },
        ],
      });
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'civic-upload-test-')), 'codes.csv');
      fs.writeFileSync(file, 'code,amount\n123,1.5\n456,2\n');
      const report = await uploadFile({ server: server.url, token: councilToken, filePath: file, organisation: 'thurrock-council', dataset: 'codes', schema });
      assert.deepEqual(report.schema.fields.map((field) => [field.name, field.type]), [['code', 'string'], ['amount', 'number']]);
      fs.rmSync(path.dirname(file), { recursive: true });
    });

    test('metadata fields set the details', async () => {
      const report = await uploadFile({
        server: server.url,
        token: councilToken,
        filePath: spendingFixture('mth-10-january-2014.csv'),
        organisation: 'thurrock-council',
        dataset: 'described',
        title: 'Described spending',
        metadata: {
          description: 'Payments over £25,000.',
          licence: 'CC-BY-4.0',
          tags: 'spending, transparency, ',
          update_frequency: 'monthly',
          temporal_start: '2014-01-01',
          temporal_end: '2014-01-31',
          spatial: 'Thurrock',
        },
      });
      assert.equal(report.version, 1);
      const dataset = await services.catalogue.findDataset(organisationScope(councilId), 'described');
      assert.equal(dataset?.description, 'Payments over £25,000.');
      assert.equal(dataset?.licenceId, 'CC-BY-4.0');
      assert.deepEqual(dataset?.tags, ['spending', 'transparency']);
      assert.equal(dataset?.updateFrequency, 'monthly');
      assert.equal(dataset?.temporalStart, '2014-01-01');
      assert.equal(dataset?.temporalEnd, '2014-01-31');
      assert.equal(dataset?.spatial, 'Thurrock');

      // A later version changes only the details it sends.
      await uploadFile({ server: server.url, token: councilToken, filePath: spendingFixture('mth-10-january-2014.csv'), organisation: 'thurrock-council', dataset: 'described', metadata: { update_frequency: 'quarterly' } });
      const second = await services.catalogue.findDataset(organisationScope(councilId), 'described');
      assert.equal(second?.updateFrequency, 'quarterly');
      assert.equal(second?.licenceId, 'CC-BY-4.0');
      assert.equal(second?.description, 'Payments over £25,000.');
    });

    test('invalid metadata field names it', async () => {
      const form = new FormData();
      form.append('licence', 'GPL');
      form.append('temporal_end', '31/01/2014');
      form.append('file', new Blob(['code\n1\n']), 'codes.csv');
      const response = await postForm(`${server.url}/api/v1/organisations/thurrock-council/datasets/bad-metadata/resources`, councilToken, form);
      assert.equal(response.status, 400);
      assert.deepEqual(response.body.error.fields.map((field: { field: string }) => field.field), ['licence', 'temporal_end']);
      assert.match(response.body.error.fields[0].message, /Licence "GPL" is not known\. Use one of: OGL-UK-3\.0/);
      assert.match(response.body.error.fields[1].message, /"31\/01\/2014" is not a date/);
      assert.equal(await services.catalogue.findDataset({ kind: 'platform' }, 'bad-metadata'), undefined);
    });

    test('too many columns is a 400', async () => {
      const header = Array.from({ length: 1700 }, (_, index) => `c${index + 1}`).join(',');
      const form = new FormData();
      form.append('file', new Blob([`${header}\n${header}\n`]), 'wide.csv');
      const response = await postForm(`${server.url}/api/v1/organisations/thurrock-council/datasets/too-wide/resources`, councilToken, form);
      assert.equal(response.status, 400);
      assert.equal(response.body.error.code, 'too_many_columns');
      assert.match(response.body.error.message, /wide\.csv has 1700 columns .* at most 1600 columns/);
      assert.equal(await services.catalogue.findDataset({ kind: 'platform' }, 'too-wide'), undefined);
    });

    test('widest allowed file loads', async () => {
      // Short text values, because 1,599 numbers would pass PostgreSQL's 8 kB row limit, a separate matter.
      const header = Array.from({ length: 1599 }, (_, index) => `c${index + 1}`).join(',');
      const row = Array.from({ length: 1599 }, () => 'x').join(',');
      const form = new FormData();
      form.append('file', new Blob([`${header}\n${row}\n`]), 'widest.csv');
      const response = await postForm(`${server.url}/api/v1/organisations/thurrock-council/datasets/widest/resources`, councilToken, form);
      assert.equal(response.status, 201, JSON.stringify(response.body).slice(0, 500));
      assert.equal(response.body.schema.fields.length, 1599);
    });

    test('wrong token is rejected', async () => {
      const form = new FormData();
      form.append('file', new Blob(['a,b\n1,2\n']), 'small.csv');
      const url = `${server.url}/api/v1/organisations/thurrock-council/datasets/anything/resources`;
      const wrong = await postForm(url, 'civic_abcdefgh_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', form);
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.error.code, 'token_invalid');
      const missing = await postForm(url, undefined, form);
      assert.equal(missing.status, 401);
      await assert.rejects(
        uploadFile({ server: server.url, token: 'not-a-token', filePath: spendingFixture('mth-10-january-2014.csv'), organisation: 'thurrock-council', dataset: 'x-set' }),
        (error: unknown) => error instanceof AppError && error.kind === 'unauthenticated' && /HTTP 401/.test(error.message),
      );
      assert.equal(await services.catalogue.findDataset({ kind: 'platform' }, 'anything'), undefined);
    });

    test('other organisation token is forbidden', async () => {
      await assert.rejects(
        uploadFile({ server: server.url, token: charityToken, filePath: spendingFixture('mth-10-january-2014.csv'), organisation: 'thurrock-council', dataset: 'charity-upload' }),
        (error: unknown) => error instanceof AppError && error.kind === 'forbidden' && error.code === 'organisation_mismatch',
      );
      await assert.rejects(
        uploadFile({ server: server.url, token: readOnlyToken, filePath: spendingFixture('mth-10-january-2014.csv'), organisation: 'thurrock-council', dataset: 'read-upload' }),
        (error: unknown) => error instanceof AppError && error.kind === 'forbidden' && error.code === 'token_scope',
      );
      assert.equal(await services.catalogue.findDataset({ kind: 'platform' }, 'charity-upload'), undefined);
      assert.equal(await services.catalogue.findDataset({ kind: 'platform' }, 'read-upload'), undefined);
    });

    test('bad form input names the field', async () => {
      const url = `${server.url}/api/v1/organisations/thurrock-council/datasets/bad-input/resources`;
      const noFile = new FormData();
      noFile.append('title', 'No file');
      const missingFile = await postForm(url, councilToken, noFile);
      assert.equal(missingFile.status, 400);
      assert.equal(missingFile.body.error.code, 'file_missing');

      const badSchema = new FormData();
      badSchema.append('schema', '{"fields": [{"name": "code", "type": "money"}]}');
      badSchema.append('file', new Blob(['code\n1\n']), 'codes.csv');
      const invalidSchema = await postForm(url, councilToken, badSchema);
      assert.equal(invalidSchema.status, 400);
      assert.match(invalidSchema.body.error.message, /The schema field is not a valid Table Schema: fields\[0\]\.type "money"/);

      const badPattern = new FormData();
      badPattern.append('schema', '{"fields": [{"name": "code", "type": "string", "constraints": {"pattern": "[a-"}}]}');
      badPattern.append('file', new Blob(['code\n1\n']), 'codes.csv');
      const invalidPattern = await postForm(url, councilToken, badPattern);
      assert.equal(invalidPattern.status, 400);
      assert.equal(invalidPattern.body.error.code, 'invalid_table_schema');
      assert.match(invalidPattern.body.error.message, /fields\[0\]\.constraints\.pattern of field "code" must be a valid regular expression/);

      const badVisibility = new FormData();
      badVisibility.append('visibility', 'public');
      badVisibility.append('file', new Blob(['code\n1\n']), 'codes.csv');
      const invalidVisibility = await postForm(url, councilToken, badVisibility);
      assert.equal(invalidVisibility.status, 400);
      assert.equal(invalidVisibility.body.error.code, 'invalid_visibility');

      const surplus = new FormData();
      surplus.append('file', new Blob(['code,amount\n1,2\n3,4,5\n']), 'surplus.csv');
      const surplusCell = await postForm(url, councilToken, surplus);
      assert.equal(surplusCell.status, 400);
      assert.match(surplusCell.body.error.message, /surplus\.csv/);
      assert.match(surplusCell.body.error.message, /line 3/);
      assert.equal(await services.catalogue.findDataset({ kind: 'platform' }, 'bad-input'), undefined);
    });

    test('civic import --server end to end', async () => {
      const { stdout } = await run(process.execPath, [
        CLI, 'import', spendingFixture('DCCSpendingOver500_202603.csv'),
        '--organisation', 'thurrock-council', '--dataset', 'devon-example', '--server', server.url, '--token', councilToken, '--json',
      ], { env: { ...process.env, CIVIC_DATA_DIR: '/nonexistent-civic-data' } });
      const report = JSON.parse(stdout);
      assert.equal(report.rows, 3545);
      assert.equal(report.dataset, 'devon-example');
      assert.deepEqual(report.warnings.map((warning: { code: string }) => warning.code), ['summary_row_excluded']);

      const { stdout: described } = await run(process.execPath, [
        CLI, 'import', spendingFixture('mth-10-january-2014.csv'), '--organisation', 'thurrock-council', '--dataset', 'cli-described',
        '--server', server.url, '--token', councilToken, '--json', '--description', 'Sent by the command.', '--licence', 'OGL-UK-2.0',
        '--tags', 'nhs,spend', '--update-frequency', 'monthly', '--temporal-start', '2014-01-01', '--temporal-end', '2014-01-31', '--spatial', 'Essex',
      ], { env: { ...process.env, CIVIC_DATA_DIR: '/nonexistent-civic-data' } });
      assert.equal(JSON.parse(described).dataset, 'cli-described');
      const dataset = await services.catalogue.findDataset(organisationScope(councilId), 'cli-described');
      assert.deepEqual(
        [dataset?.description, dataset?.licenceId, dataset?.tags, dataset?.updateFrequency, dataset?.temporalStart, dataset?.temporalEnd, dataset?.spatial],
        ['Sent by the command.', 'OGL-UK-2.0', ['nhs', 'spend'], 'monthly', '2014-01-01', '2014-01-31', 'Essex'],
      );

      const forbidden = await run(process.execPath, [
        CLI, 'import', spendingFixture('mth-10-january-2014.csv'), '--organisation', 'thurrock-council', '--dataset', 'devon-example', '--server', server.url, '--token', charityToken,
      ]).then(() => null, (error: { code: number; stderr: string }) => error);
      assert.equal(forbidden?.code, 1);
      assert.match(forbidden!.stderr, /^civic import: This API token cannot load data into organisation "thurrock-council"/);
    });
  });
}

describe('upload size limit', () => {
  test('file over the limit gets 413', async () => {
    const [engine] = testEngines();
    const handle = await engine!.create();
    const previous = process.env.CIVIC_UPLOAD_MAX_MB;
    process.env.CIVIC_UPLOAD_MAX_MB = '1';
    const services = testServices(handle.db);
    const server = await startTestServer(services);
    try {
      const council = await buildOrganisation(handle.db, { slug: 'thurrock-council' });
      const steward = await buildUser(handle.db, { member: { organisationId: council.id, role: 'data_steward' } });
      const token = (await services.tokens.create(memberAuth(steward.id, council.id, 'data_steward'), { name: 'loader', scopes: ['write'] })).token;
      // The October 2012 Devon file is 1,091,766 bytes, over the 1 MiB limit.
      await assert.rejects(
        uploadFile({ server: server.url, token, filePath: spendingFixture('DCCSpendingOver500_201210.csv'), organisation: 'thurrock-council', dataset: 'too-big' }),
        (error: unknown) => error instanceof AppError && error.kind === 'too_large' && error.code === 'file_too_large',
      );
      const form = new FormData();
      form.append('file', await fs.openAsBlob(spendingFixture('DCCSpendingOver500_201210.csv')), 'DCCSpendingOver500_201210.csv');
      const response = await postForm(`${server.url}/api/v1/organisations/thurrock-council/datasets/too-big/resources`, token, form);
      assert.equal(response.status, 413);
      assert.equal(response.body.error.code, 'file_too_large');
      assert.equal(
        response.body.error.message,
        'The file is larger than the 1 MB this server accepts for an upload. Load it on the server with "civic import", ' +
          'or ask the server\'s operator to raise CIVIC_UPLOAD_MAX_MB (now 1, at most 1023).',
      );
      assert.ok(response.body.error.request_id);
      assert.deepEqual(response.body.error.fields, []);
      assert.equal(await services.catalogue.findDataset({ kind: 'platform' }, 'too-big'), undefined);
    } finally {
      if (previous === undefined) delete process.env.CIVIC_UPLOAD_MAX_MB;
      else process.env.CIVIC_UPLOAD_MAX_MB = previous;
      await server.close();
      await handle.drop();
    }
  });
});
