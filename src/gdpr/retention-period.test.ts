import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { buildUser, memberAuth } from '../../test/helpers/accounts.ts';
import { buildCatalogue, type Catalogue } from '../../test/helpers/catalogue-builders.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { testServices } from '../../test/helpers/services.ts';
import { runVerify } from '../audit/audit-cli.ts';
import { CheckpointSigner } from '../audit/checkpoint-signer.ts';
import { buildApp } from '../http/app.ts';
import type { Services } from '../services.ts';
import { reportRetention } from './retention.command.ts';

// A steward sets a dataset's retention period through the API, and the retention run then removes what is past it.
for (const engine of testEngines()) {
  describe(`dataset retention period (${engine.name})`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let services: Services;
    let app: FastifyInstance;
    let catalogue: Catalogue;
    let token: string;

    before(async () => {
      handle = await engine.create();
      catalogue = await buildCatalogue(handle.db);
      services = testServices(handle.db);
      app = await buildApp(services);
      const steward = await buildUser(handle.db, { member: { organisationId: catalogue.council.id, role: 'data_steward' } });
      token = (await services.tokens.create(memberAuth(steward.id, catalogue.council.id, 'data_steward'), { name: 'retention', scopes: ['write'] })).token;
    });

    after(async () => {
      await app.close();
      await handle.drop();
    });

    const patch = async (body: unknown) => {
      const response = await app.inject({
        method: 'PATCH',
        url: '/api/v1/datasets/spending-over-500',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        payload: JSON.stringify(body),
      });
      return { status: response.statusCode, body: response.json() as { retention_months?: number | null; error?: { message: string; fields: { field: string }[] } } };
    };

    it('rejects invalid retention periods', async () => {
      for (const value of [0, 1201, 2.5, 'twelve']) {
        const { status, body } = await patch({ retention_months: value });
        assert.equal(status, 400, `retention_months ${JSON.stringify(value)}`);
        assert.match(body.error!.message, /retention_months/);
      }
      const stored = await handle.db.owner.selectFrom('datasets').select('retention_months').where('slug', '=', 'spending-over-500').executeTakeFirstOrThrow();
      assert.equal(stored.retention_months, null);
    });

    it('sets and clears the period', async () => {
      const set = await patch({ retention_months: 24 });
      assert.equal(set.status, 200, JSON.stringify(set.body));
      assert.equal(set.body.retention_months, 24);
      const read = await app.inject({ method: 'GET', url: '/api/v1/datasets/spending-over-500' });
      assert.equal((read.json() as { retention_months: number | null }).retention_months, 24);
      const cleared = await patch({ retention_months: null });
      assert.equal(cleared.body.retention_months, null);
    });

    it('reports a dataset it cannot change', async () => {
      assert.equal((await patch({ retention_months: 6 })).status, 200);
      await sql`update resources set created_at = now() - interval '7 months' where id = ${catalogue.spendingV1.id}`.execute(handle.db.owner);
      // A view on the version's table makes dropping the table fail, as any object depending on it would.
      await sql.raw(`create view datastore.spending_v1_view as select * from datastore."${catalogue.spendingV1.tableName}"`).execute(handle.db.owner);
      try {
        const report = await services.gdpr.retention.run();
        assert.deepEqual(report.removed, []);
        assert.deepEqual(report.failed.map((failure) => failure.datasetSlug), ['spending-over-500']);

        const out: string[] = [];
        const errors: string[] = [];
        assert.equal(reportRetention(report, (line) => out.push(line), (line) => errors.push(line)), 1);
        assert.match(errors[0]!, /^civic retention: could not remove the expired versions of dataset spending-over-500 \(.+\), which is unchanged: /);
        assert.match(errors.at(-1)!, /1 dataset\(s\) failed\. Fix the cause named above and run "civic retention run" again\./);
        const versions = await handle.db.owner.selectFrom('resources').select('id').where('dataset_id', '=', catalogue.spending.id).execute();
        assert.equal(versions.length, 2, 'both versions are kept');
      } finally {
        await sql.raw('drop view datastore.spending_v1_view').execute(handle.db.owner);
      }
    });

    it('removes versions past the period', async () => {
      const report = await services.gdpr.retention.run();
      const out: string[] = [];
      assert.equal(reportRetention(report, (line) => out.push(line), () => {}), 0);
      assert.equal(out[0], `removed version 1 of dataset spending-over-500 (${catalogue.spending.id}, table ${catalogue.spendingV1.tableName})`);

      assert.deepEqual(report.removed.map((removed) => removed.resourceId), [catalogue.spendingV1.id]);
      assert.deepEqual(report.withdrawn, []);
      const versions = await handle.db.owner.selectFrom('resources').select('id').where('dataset_id', '=', catalogue.spending.id).execute();
      assert.deepEqual(versions.map((version) => version.id), [catalogue.spendingV2.id]);
      const { rows } = await sql<{ found: string | null }>`select to_regclass(${`datastore.${catalogue.spendingV1.tableName}`})::text as found`.execute(handle.db.owner);
      assert.equal(rows[0]?.found, null, 'the version table is dropped');

      const lines: string[] = [];
      const publicKey = new CheckpointSigner(services.keys).publicKey;
      assert.equal(await runVerify(handle.db, { publicKey }, (line) => lines.push(line)), 0, lines.join('\n'));
    });
  });
}
