import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { testEngines } from '../../test/helpers/engines.ts';
import { startTestServer } from '../../test/helpers/services.ts';
import { activeAgreement, AGREEMENT_REFERENCE, buildScenario, DATASET_SLUG, directCareTerms, type Scenario } from '../../test/fixtures/social-care/scenario.ts';
import { subjectsDigest } from '../audit/disclosure-subjects.ts';
import { preparedCount } from '../db/prepared.ts';
import { RetentionService } from '../gdpr/retention.service.ts';
import { SubjectAccessService } from '../gdpr/subject-access.service.ts';
import type { RunningServer } from '../main.ts';
import type { Services } from '../services.ts';
import { createExchangeServices } from './exchange.services.ts';
import { exchangeTestServices, TestClock } from './exchange.test-support.ts';

const IN_FORCE = '2026-12-04T12:00:00Z';
/** Only rows above this weekly cost are released, so reading the subjects back must apply the same filter. */
const ROW_FILTER = { field: 'weekly_cost', op: 'gt', value: 500 };

interface DisclosureState {
  id: string;
  subject_count: number | null;
  after_row_id: string | number | null;
  last_row_id: string | number | null;
  row_count: string | number;
  resource_id: string;
}

for (const engine of testEngines()) {
  describe(`deferred subject indexing on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let services: Services;
    let server: RunningServer;
    let scenario: Scenario;
    let subjectAccess: SubjectAccessService;
    const clock = new TestClock(IN_FORCE);
    const recordsPath = `/api/v1/exchange/agreements/${AGREEMENT_REFERENCE}/datasets/${DATASET_SLUG}/records`;

    before(async () => {
      handle = await engine.create();
      ({ services } = exchangeTestServices(handle.db, clock));
      // Every release with a subject field defers its subjects, however small.
      services.exchange = createExchangeServices({ config: services.config, db: handle.db, keys: services.keys, logger: services.logger, clock: clock.read, exportChunkRows: 10, inlineSubjectLimit: 0 });
      scenario = await buildScenario(services);
      const terms = directCareTerms(scenario) as { datasets: Array<Record<string, unknown>> };
      await activeAgreement(services, scenario, AGREEMENT_REFERENCE, { datasets: [{ ...terms.datasets[0], row_filter: ROW_FILTER }] });
      server = await startTestServer(services);
      subjectAccess = new SubjectAccessService(handle.db, services.audit.disclosures);
    });
    after(async () => {
      await server.close();
      await handle.drop();
    });

    const actor = () => ({ organisationId: scenario.council.id, userId: scenario.council.dpo.userId, actorKind: 'user' as const, requestId: 'test' });

    async function fetchPage(cursor?: string): Promise<{ records: Array<{ person_id: string }>; next_cursor: string | null }> {
      clock.now = new Date(IN_FORCE);
      const query = cursor === undefined ? '?limit=10' : `?limit=10&cursor=${encodeURIComponent(cursor)}`;
      const response = await fetch(`${server.url}${recordsPath}${query}`, { headers: { authorization: `Bearer ${scenario.trust.token}`, 'civic-purpose': 'direct_care' } });
      assert.equal(response.status, 200);
      return (await response.json()) as { records: Array<{ person_id: string }>; next_cursor: string | null };
    }

    /** Reads the clear NHS numbers of released people from the provider's table, as the test's source of truth. */
    async function nhsNumbersOf(personIds: string[]): Promise<string[]> {
      const resource = await handle.db.owner.selectFrom('resources').select('table_name').where('organisation_id', '=', scenario.council.id).orderBy('version', 'desc').executeTakeFirstOrThrow();
      const { rows } = await sql<{ nhs_number: string }>`select nhs_number from ${sql.id('datastore', resource.table_name)} where person_id in (${sql.join(personIds)})`.execute(handle.db.owner);
      return rows.map((row) => row.nhs_number);
    }

    async function latestDisclosure(): Promise<DisclosureState> {
      return handle.db.owner.selectFrom('disclosures').select(['id', 'subject_count', 'after_row_id', 'last_row_id', 'row_count', 'resource_id']).orderBy('audit_entry_id', 'desc').executeTakeFirstOrThrow();
    }

    const queued = async () => (await handle.db.owner.selectFrom('disclosure_index_queue').select('disclosure_id').execute()).map((row) => row.disclosure_id);
    const subjectsOf = async (disclosureId: string) => handle.db.owner.selectFrom('disclosure_subjects').select('subject_hash').where('disclosure_id', '=', disclosureId).execute();

    let firstPersonIds: string[] = [];

    test('release queues its subjects with the row range', async () => {
      const page = await fetchPage();
      firstPersonIds = page.records.map((record) => record.person_id);
      assert.equal(page.records.length, 10);
      const disclosure = await latestDisclosure();
      assert.equal(disclosure.subject_count, null);
      assert.equal(Number(disclosure.after_row_id), 0);
      assert.ok(Number(disclosure.last_row_id) >= 10);
      assert.equal(Number(disclosure.row_count), 10);
      assert.deepEqual(await queued(), [disclosure.id]);
      assert.equal((await subjectsOf(disclosure.id)).length, 0);
      const jobs = await handle.db.owner.selectFrom('jobs').select(['kind', 'organisation_id']).where('kind', '=', 'disclosures.index_subjects').execute();
      assert.deepEqual(jobs, [{ kind: 'disclosures.index_subjects', organisation_id: scenario.council.id }]);
    });

    test('subject search indexes queued releases first', async () => {
      const disclosure = await latestDisclosure();
      const released = await nhsNumbersOf(firstPersonIds);
      assert.equal(released.length, 10);
      const found = await subjectAccess.search(actor(), { kind: 'nhs_number', value: released[0]! });
      assert.deepEqual(found.map((item) => item.disclosureId), [disclosure.id]);
      assert.deepEqual(await queued(), []);
      const hashes = (await subjectsOf(disclosure.id)).map((row) => Buffer.from(row.subject_hash));
      const expected = services.audit.disclosures.subjects.hashAll(released.map((value) => ({ kind: 'nhs_number' as const, value })));
      assert.deepEqual(hashes.map((hash) => hash.toString('hex')).sort(), expected.map((hash) => hash.toString('hex')).sort());
      const entry = await handle.db.owner.selectFrom('audit_log').select(['details']).where('action', '=', 'disclosure.subjects_indexed').where('subject_id', '=', disclosure.id).executeTakeFirstOrThrow();
      assert.deepEqual(entry.details, { subjectCount: 10, subjectsDigest: subjectsDigest(expected) });
    });

    test('filtered-out person is not found', async () => {
      const resource = await handle.db.owner.selectFrom('resources').select('table_name').orderBy('version', 'desc').executeTakeFirstOrThrow();
      const { rows } = await sql<{ nhs_number: string }>`select nhs_number from ${sql.id('datastore', resource.table_name)} where weekly_cost <= 500 limit 1`.execute(handle.db.owner);
      assert.equal(rows.length, 1, 'the fixture has a row the filter withholds');
      const found = await subjectAccess.search(actor(), { kind: 'nhs_number', value: rows[0]!.nhs_number });
      assert.equal(found.length, 0);
    });

    test('job indexes queued releases', async () => {
      // A release has run before this test, so the ones here reuse its prepared texts and mark none.
      const marked = preparedCount();
      const first = await fetchPage();
      await fetchPage(first.next_cursor!);
      assert.equal(preparedCount(), marked, 'a release marked a new text for preparing');
      const disclosure = await latestDisclosure();
      assert.equal((await queued()).length, 2);
      clock.now = new Date(Date.now() + 1000);
      await services.exchange.worker.runDue();
      assert.deepEqual(await queued(), []);
      assert.equal((await subjectsOf(disclosure.id)).length, 10);
      const failed = await handle.db.owner.selectFrom('jobs').select(['last_error']).where('kind', '=', 'disclosures.index_subjects').where('status', '!=', 'completed').execute();
      assert.deepEqual(failed, []);
    });

    test('changed version table stops indexing', async () => {
      await fetchPage();
      const disclosure = await latestDisclosure();
      const resource = await handle.db.owner.selectFrom('resources').select('table_name').where('id', '=', disclosure.resource_id).executeTakeFirstOrThrow();
      const table = sql.id('datastore', resource.table_name);
      const { rows } = await sql<{ _id: number }>`select _id from ${table} where weekly_cost > 500 order by _id limit 1`.execute(handle.db.owner);
      await sql`update ${table} set weekly_cost = 1 where _id = ${rows[0]!._id}`.execute(handle.db.owner);
      try {
        await assert.rejects(subjectAccess.search(actor(), { kind: 'nhs_number', value: '999 000 0115' }), /recorded 10 rows, but its row range now selects 9/);
        assert.deepEqual(await queued(), [disclosure.id]);
      } finally {
        await sql`update ${table} set weekly_cost = 600 where _id = ${rows[0]!._id}`.execute(handle.db.owner);
      }
      await subjectAccess.search(actor(), { kind: 'nhs_number', value: '999 000 0115' });
      assert.deepEqual(await queued(), []);
    });

    test('retention without the log keeps queued versions', async () => {
      await fetchPage();
      const disclosure = await latestDisclosure();
      await sql`update datasets set retention_months = 1 where id = ${scenario.datasetId}`.execute(handle.db.owner);
      const later = () => new Date(Date.now() + 400 * 24 * 60 * 60 * 1000);
      const report = await new RetentionService(handle.db, services.logger, later).run();
      assert.deepEqual(report.removed, []);
      const resource = await handle.db.owner.selectFrom('resources').select('id').where('id', '=', disclosure.resource_id).executeTakeFirst();
      assert.ok(resource, 'the version is kept while its disclosure is queued');
      assert.deepEqual(await queued(), [disclosure.id]);
    });

    test('retention indexes a version before dropping it', async () => {
      const disclosure = await latestDisclosure();
      const released = await nhsNumbersOf([(await firstReleasedPerson())]);
      const later = () => new Date(Date.now() + 400 * 24 * 60 * 60 * 1000);
      const report = await new RetentionService(handle.db, services.logger, later, services.audit.disclosures).run();
      assert.deepEqual(report.removed.map((item) => item.resourceId), [disclosure.resource_id]);
      assert.deepEqual(await queued(), []);
      assert.equal((await subjectsOf(disclosure.id)).length, 10);
      const found = await subjectAccess.search(actor(), { kind: 'nhs_number', value: released[0]! });
      assert.ok(found.some((item) => item.disclosureId === disclosure.id));
    });

    test('subject rows keep their disclosure\'s parties', async () => {
      const disclosure = await handle.db.owner.selectFrom('disclosures').select(['id', 'organisation_id', 'recipient_organisation_id']).limit(1).executeTakeFirstOrThrow();
      const insert = (organisationId: string, recipientId: string) =>
        sql`insert into disclosure_subjects (disclosure_id, subject_hash, organisation_id, recipient_organisation_id)
            values (${disclosure.id}, ${Buffer.alloc(32, 7)}, ${organisationId}, ${recipientId})`.execute(handle.db.owner);
      // The parties swapped: both organisations exist, but not as this disclosure's provider and recipient.
      await assert.rejects(insert(disclosure.recipient_organisation_id, disclosure.organisation_id), /disclosure_subjects_disclosure_fkey/);
      await insert(disclosure.organisation_id, disclosure.recipient_organisation_id);
      const stored = await handle.db.owner.selectFrom('disclosure_subjects').select('subject_hash').where('disclosure_id', '=', disclosure.id).where('subject_hash', '=', Buffer.alloc(32, 7)).execute();
      assert.equal(stored.length, 1);
    });

    async function firstReleasedPerson(): Promise<string> {
      const resource = await handle.db.owner.selectFrom('resources').select('table_name').orderBy('version', 'desc').executeTakeFirstOrThrow();
      const { rows } = await sql<{ person_id: string }>`select person_id from ${sql.id('datastore', resource.table_name)} where weekly_cost > 500 order by _id limit 1`.execute(handle.db.owner);
      return rows[0]!.person_id;
    }
  });
}
