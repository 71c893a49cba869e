import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { testEngines } from '../../test/helpers/engines.ts';
import { startTestServer, testServices } from '../../test/helpers/services.ts';
import type { RunningServer } from '../main.ts';
import type { Services } from '../services.ts';
import { formatCsv } from './csv.ts';

/**
 * Ward and service counts: every combination appears `counts[ward][service]` times. Each row's referral date falls in
 * January, February or March 2026 in turn.
 */
function residentsCsv(counts: Record<string, Record<string, number>>): string {
  const records: string[][] = [['Ward', 'Service', 'Cost', 'Referred']];
  for (const [ward, services] of Object.entries(counts)) {
    for (const [service, count] of Object.entries(services)) {
      for (let index = 0; index < count; index += 1) records.push([ward, service, '100', `2026-0${(records.length % 3) + 1}-15`]);
    }
  }
  return formatCsv(records);
}

const FIRST = { Aveley: { Meals: 40, Transport: 3 }, Chafford: { Meals: 25, Transport: 30 }, Grays: { Meals: 12, Transport: 60 } };

for (const engine of testEngines()) {
  describe(`aggregate endpoint on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let services: Services;
    let server: RunningServer;
    let folder: string;

    async function load(counts: Record<string, Record<string, number>>): Promise<void> {
      const file = path.join(folder, 'residents.csv');
      fs.writeFileSync(file, residentsCsv(counts));
      await services.imports.importFile({ path: file, filename: 'residents.csv' }, { organisation: 'thurrock', dataset: 'care-services', actor: { kind: 'operator', name: 'test' }, visibility: 'open' });
    }

    async function get(query: string): Promise<{ status: number; body: any }> {
      const response = await fetch(`${server.url}/api/v1/datasets/care-services/aggregate?${query}`);
      return { status: response.status, body: await response.json() };
    }

    before(async () => {
      handle = await engine.create();
      services = testServices(handle.db);
      server = await startTestServer(services);
      folder = fs.mkdtempSync(path.join(os.tmpdir(), 'civic-aggregate-'));
      await load(FIRST);
    });
    after(async () => {
      await server.close();
      await handle.drop();
      fs.rmSync(folder, { recursive: true, force: true });
    });

    test('one dimension suppresses and marks cells', async () => {
      const { status, body } = await get('group_by=ward');
      assert.equal(status, 200);
      assert.deepEqual(body.cells, [
        { group: { ward: 'Aveley' }, value: 45, suppressed: false },
        { group: { ward: 'Chafford' }, value: 55, suppressed: false },
        { group: { ward: 'Grays' }, value: 70, suppressed: false },
      ]);
      assert.deepEqual(body.total, { value: 170, suppressed: false });
    });

    test('two dimensions add secondary suppression', async () => {
      const { status, body } = await get('group_by=ward,service&rule=default');
      assert.equal(status, 200);
      const cell = (ward: string, service: string) => body.cells.find((entry: any) => entry.group.ward === ward && entry.group.service === service);
      assert.deepEqual(cell('Aveley', 'Transport'), { group: { ward: 'Aveley', service: 'Transport' }, value: null, suppressed: true, reason: 'primary' });
      assert.equal(cell('Aveley', 'Meals').reason, 'secondary', 'the Aveley row total would give the small cell away');
      const transport = body.cells.filter((entry: any) => entry.group.service === 'Transport' && entry.suppressed);
      assert.ok(transport.length >= 2, 'the Transport column has a second suppressed cell');
      assert.equal(body.row_totals.length, 3);
      assert.equal(body.column_totals.length, 2);
    });

    test('sums are suppressed with their counts', async () => {
      const { status, body } = await get('group_by=ward,service&measure=sum:cost');
      assert.equal(status, 200);
      const small = body.cells.find((entry: any) => entry.group.ward === 'Aveley' && entry.group.service === 'Transport');
      assert.equal(small.value, null);
      const large = body.cells.find((entry: any) => entry.group.ward === 'Grays' && entry.group.service === 'Transport');
      assert.equal(large.value, 6000);
    });

    test('the NHS rule publishes 8 and above', async () => {
      const { body } = await get('group_by=service&rule=nhs');
      assert.equal(body.rule, 'nhs');
      assert.ok(body.cells.every((entry: any) => !entry.suppressed));
    });

    test('bad queries get 400 naming the problem', async () => {
      const cases: Array<[string, string]> = [
        ['group_by=ward&rule=strict', 'unknown_rule'],
        ['group_by=ward,service,cost', 'too_many_groups'],
        ['group_by=postcode', 'unknown_column'],
        ['group_by=month:ward', 'not_a_date'],
        ['group_by=ward&measure=sum:ward', 'not_numeric'],
        ['group_by=ward&measure=median:cost', 'invalid_measure'],
      ];
      for (const [query, code] of cases) {
        const { status, body } = await get(query);
        assert.equal(status, 400, query);
        assert.equal(body.error.code, code, query);
      }
    });

    test('month of a date column groups', async () => {
      const { status, body } = await get('group_by=month:referred');
      assert.equal(status, 200, JSON.stringify(body));
      assert.deepEqual(body.cells.map((cell: { group: Record<string, string> }) => cell.group['month:referred']), ['2026-01', '2026-02', '2026-03']);
      const total = body.cells.reduce((sum: number, cell: { value: number }) => sum + cell.value, 0);
      // Each month's count is rounded to 5, so the three add up to within 7 of the 170 rows.
      assert.ok(total >= 163, `the months add up to ${total}`);
      assert.ok(total <= 177, `the months add up to ${total}`);
    });

    test('a new version that differences a small group is refused', async () => {
      const released = await get('group_by=ward');
      assert.equal(released.status, 200);
      // One more Aveley resident: the Aveley counts of the two versions differ by one person.
      await load({ ...FIRST, Aveley: { Meals: 41, Transport: 3 } });
      const { status, body } = await get('group_by=ward');
      assert.equal(status, 409);
      assert.equal(body.error.code, 'differencing_risk');
      assert.match(body.error.message, /ward = Aveley/);
      assert.match(body.error.message, /ask again once every group has changed by 0 or by 10 or more/);
      const other = await get('group_by=service');
      assert.equal(other.status, 200, 'a query not released before is answered');
    });

    test('table of small counts is not served', async () => {
      const file = path.join(folder, 'smallcounts.csv');
      fs.writeFileSync(file, 'Ward,Age band,Children in care\nAveley,0 to 4,3\nAveley,5 to 15,12\nChafford,0 to 4,1\nChafford,5 to 15,2\nGrays,0 to 4,25\nGrays,5 to 15,4\n');
      const report = await services.imports.importFile({ path: file, filename: 'smallcounts.csv' }, { organisation: 'thurrock', dataset: 'children-in-care-by-ward', actor: { kind: 'operator', name: 'test' }, visibility: 'open' });
      assert.equal(report.visibility, 'private');
      const blocked = await fetch(`${server.url}/dataset/children-in-care-by-ward/latest.csv`);
      assert.equal(blocked.status, 404);
      await blocked.arrayBuffer();

      await services.publication.publish({ kind: 'operator', name: 'test' }, 'children-in-care-by-ward', { fixes: [{ type: 'suppress_small_counts', column: 'Children in care' }], open: true });
      const served = await fetch(`${server.url}/dataset/children-in-care-by-ward/latest.csv`);
      assert.equal(served.status, 200);
      const lines = (await served.text()).trim().split(/\r?\n/);
      assert.deepEqual(lines.slice(1), ['Aveley,0 to 4,', 'Aveley,5 to 15,12', 'Chafford,0 to 4,', 'Chafford,5 to 15,', 'Grays,0 to 4,25', 'Grays,5 to 15,']);
    });

    test('visibility change needs sign-in', async () => {
      const response = await fetch(`${server.url}/api/v1/datasets/care-services/visibility`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ visibility: 'open' }),
      });
      assert.equal(response.status, 401);
    });
  });
}
