import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { buildOrganisation } from '../../test/helpers/accounts.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { testServices } from '../../test/helpers/services.ts';
import { runVerify } from '../audit/audit-cli.ts';
import type { Database } from '../db/database.ts';
import { withOrganisation } from '../db/tenant.ts';
import type { Services } from '../services.ts';
import { insertDataset } from './gdpr.test-support.ts';
import { monthsBefore, RetentionService } from './retention.service.ts';

/** Inserts a dataset version with a one-row datastore table, loaded at `loadedAt`. */
async function insertVersion(db: Database, organisationId: string, datasetId: string, version: number, loadedAt: string): Promise<{ id: string; tableName: string }> {
  const tableName = `retention_${datasetId.slice(0, 8)}_v${version}`;
  await sql.raw(`create table datastore."${tableName}" (_id bigint primary key, care_package text)`).execute(db.owner);
  await sql.raw(`insert into datastore."${tableName}" values (1, 'Home care')`).execute(db.owner);
  const row = await db.owner
    .insertInto('resources')
    .values({ organisation_id: organisationId, dataset_id: datasetId, version, name: `Version ${version}`, format: 'CSV', media_type: 'text/csv', original_filename: 'care.csv', byte_size: 20, sha256: '0'.repeat(64), table_name: tableName, row_count: 1, table_schema: '{"fields":[]}', load_report: '{}', created_at: loadedAt })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db.owner.updateTable('datasets').set({ current_resource_id: row.id }).where('id', '=', datasetId).execute();
  return { id: row.id, tableName };
}

async function tableExists(db: Database, tableName: string): Promise<boolean> {
  const { rows } = await sql<{ found: string | null }>`select to_regclass(${`datastore."${tableName}"`})::text as found`.execute(db.owner);
  return rows[0]?.found !== null;
}

for (const engine of testEngines()) {
  describe(`dataset retention (${engine.name})`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let services: Services;
    let council: string;
    let trust: string;
    let careDataset: string;
    let oldDataset: string;
    const versions: Record<string, { id: string; tableName: string }> = {};

    before(async () => {
      handle = await engine.create();
      services = testServices(handle.db);
      council = (await buildOrganisation(handle.db, { slug: 'thurrock-council' })).id;
      trust = (await buildOrganisation(handle.db, { slug: 'basildon-trust' })).id;
      careDataset = await insertDataset(handle.db, council, 'adult-social-care', 'Adult social care clients');
      oldDataset = await insertDataset(handle.db, council, 'old-survey', 'Resident survey 2019');
      versions.first = await insertVersion(handle.db, council, careDataset, 1, '2025-01-10T09:00:00Z');
      versions.second = await insertVersion(handle.db, council, careDataset, 2, '2026-09-10T09:00:00Z');
      versions.third = await insertVersion(handle.db, council, careDataset, 3, '2026-11-01T09:00:00Z');
      versions.survey = await insertVersion(handle.db, council, oldDataset, 1, '2024-03-01T09:00:00Z');
      await sql`update datasets set retention_months = 12 where id in (${careDataset}, ${oldDataset})`.execute(handle.db.owner);
      await withOrganisation(services.db.app, council, (trx) =>
        services.audit.disclosures.appendDisclosure(trx, {
          recipientOrganisationId: trust,
          agreementId: careDataset,
          agreementVersion: 1,
          purpose: 'direct_care',
          datasetId: careDataset,
          resourceId: versions.first!.id,
          fields: ['care_package'],
          rowCount: 1,
          occurredAt: new Date('2025-02-01T09:00:00Z'),
          requestId: null,
          subjects: [{ kind: 'nhs_number', value: '9434765919' }],
        }),
      );
    });

    after(async () => {
      await handle.drop();
    });

    it('subtracts calendar months', () => {
      assert.equal(monthsBefore(new Date('2026-12-04T10:00:00Z'), 12).toISOString(), '2025-12-04T10:00:00.000Z');
      assert.equal(monthsBefore(new Date('2026-03-31T00:00:00Z'), 1).toISOString(), '2026-02-28T00:00:00.000Z');
    });

    it('removes expired old versions only', async () => {
      const retention = new RetentionService(handle.db, services.logger, () => new Date('2026-12-04T10:00:00Z'));
      const report = await retention.run();
      assert.deepEqual(report.removed.filter((item) => item.datasetId === careDataset).map((item) => item.version), [1]);
      assert.equal(await tableExists(handle.db, versions.first!.tableName), false);
      assert.equal(await tableExists(handle.db, versions.second!.tableName), true, 'inside the period');
      assert.equal(await tableExists(handle.db, versions.third!.tableName), true, 'the current version');
      const care = await handle.db.owner.selectFrom('datasets').select(['current_resource_id']).where('id', '=', careDataset).executeTakeFirstOrThrow();
      assert.equal(care.current_resource_id, versions.third!.id);
      const remaining = await handle.db.owner.selectFrom('resources').select('version').where('dataset_id', '=', careDataset).orderBy('version').execute();
      assert.deepEqual(remaining.map((row) => row.version), [2, 3]);
    });

    it('withdraws a dataset past retention', async () => {
      const survey = await sql<{ current_resource_id: string | null; withdrawn_at: Date | null }>`select current_resource_id, withdrawn_at from datasets where id = ${oldDataset}`.execute(handle.db.owner);
      assert.equal(survey.rows[0]!.current_resource_id, null);
      assert.notEqual(survey.rows[0]!.withdrawn_at, null);
      assert.equal(await tableExists(handle.db, versions.survey!.tableName), false);
    });

    it('keeps disclosures and audits removals', async () => {
      const disclosures = await handle.db.owner.selectFrom('disclosures').select(['resource_id']).execute();
      assert.deepEqual(disclosures, [{ resource_id: versions.first!.id }]);
      const audit = await handle.db.owner.selectFrom('audit_log').select(['action', 'subject_id']).where('action', 'like', 'retention.%').orderBy('id').execute();
      assert.deepEqual(audit.map((row) => row.action).sort(), ['retention.dataset_withdrawn', 'retention.version_removed', 'retention.version_removed']);
      assert.ok(audit.some((row) => row.subject_id === versions.first!.id));
      const lines: string[] = [];
      const status = await runVerify(handle.db, { publicKey: services.audit.checkpoints.signer.publicKey }, (line) => lines.push(line));
      assert.equal(status, 0, lines.join('\n'));
    });

    it('does nothing on a second run', async () => {
      const retention = new RetentionService(handle.db, services.logger, () => new Date('2026-12-04T11:00:00Z'));
      assert.deepEqual(await retention.run(), { removed: [], withdrawn: [], failed: [] });
    });

    it('removes uploads no import attached', async () => {
      const upload = (id: string, createdAt: string) =>
        sql`insert into file_uploads (id, organisation_id, content, created_at) values (${id}, ${council}, ${Buffer.from('code,amount\n')}, ${createdAt})`.execute(handle.db.owner);
      await upload('00000000-0000-4000-8000-000000000001', '2026-12-02T09:00:00Z');
      await upload('00000000-0000-4000-8000-000000000002', '2026-12-04T09:30:00Z');
      await new RetentionService(handle.db, services.logger, () => new Date('2026-12-04T12:00:00Z')).run();
      const left = await handle.db.owner.selectFrom('file_uploads').select('id').execute();
      assert.deepEqual(left, [{ id: '00000000-0000-4000-8000-000000000002' }], 'an upload of the last day may still be attached');
      await sql`delete from file_uploads`.execute(handle.db.owner);
    });

    it('runs from the job queue', async () => {
      await services.gdpr.retention.schedule(new Date('2026-01-01T00:00:00Z'));
      // Loading a version also queues a notification job per version, so more than one job runs.
      const ran = await services.exchange.worker.runDue(20);
      assert.ok(ran >= 1);
      const jobs = await handle.db.owner.selectFrom('jobs').select(['status', 'run_at']).where('kind', '=', 'gdpr.retention').orderBy('run_at').execute();
      assert.equal(jobs[0]!.status, 'completed');
      assert.equal(jobs.length, 2, 'the run queued the next day');
    });
  });
}
