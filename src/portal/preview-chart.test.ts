import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../http/app.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { testServices } from '../../test/helpers/services.ts';
import { axisScale, barChartSvg, formatTick, lineChartSvg, niceMaximum } from './chart-svg.ts';
import type { Database } from '../db/database.ts';
import { insertPortalCatalogue, insertTestDataset } from './portal.test-data.ts';

/** The text of each cell in the first column after "Row" of the preview table. */
function rowNumbers(html: string): number[] {
  const body = html.slice(html.indexOf('<tbody class="govuk-table__body">'));
  return [...body.matchAll(/<tr class="govuk-table__row">\s*<td class="govuk-table__cell govuk-table__cell--numeric">(\d+)<\/td>/g)].map((match) => Number(match[1]));
}

describe('chart SVG', () => {
  test('bars carry text labels', () => {
    const svg = barChartSvg([{ label: 'Highways & <roads>', value: 1250.5 }, { label: 'Libraries', value: -20 }], { title: 'Total by area', description: 'Two areas.', id: 'c' });
    assert.match(svg, /role="img" aria-labelledby="c-title c-desc"/);
    assert.match(svg, /<title id="c-title">Total by area<\/title>/);
    assert.match(svg, /<desc id="c-desc">Two areas.<\/desc>/);
    assert.match(svg, />Highways &amp; &lt;roads&gt;<\/text>/);
    assert.match(svg, />1,250.5<\/text>/);
    assert.match(svg, />-20<\/text>/);
    assert.equal((svg.match(/<rect /g) ?? []).length, 3);
  });

  test('line axis is rounded', () => {
    assert.equal(niceMaximum(0), 1);
    assert.equal(niceMaximum(2100), 2500);
    const svg = lineChartSvg([{ label: '2026-01', value: 10 }, { label: '2026-02', value: 30 }], { title: 'By month', description: 'Rising.', id: 'l' });
    assert.match(svg, /<path d="M/);
    assert.match(svg, />2026-02<\/text>/);
  });

  test('axis top is smallest nice number', () => {
    const cases: Array<[number, number]> = [
      [-5, 1], [0.3, 0.3], [0.07, 0.08], [1, 1], [3.1, 4], [5.5, 6], [6.5, 8], [73, 80], [100, 100], [101, 120],
      [121, 150], [199, 200], [277, 300], [301, 400], [550, 600], [601, 800], [801, 1000], [1001, 1200], [8405, 10000],
    ];
    for (const [maximum, expected] of cases) assert.equal(niceMaximum(maximum), expected, `niceMaximum(${maximum})`);
  });

  test('axis ticks are short figures', () => {
    assert.deepEqual(axisScale(0, 277).ticks, [0, 50, 100, 150, 200, 250, 300]);
    assert.deepEqual(axisScale(0, 101).ticks, [0, 20, 40, 60, 80, 100, 120]);
    assert.deepEqual(axisScale(0, 140).ticks, [0, 25, 50, 75, 100, 125, 150]);
    assert.deepEqual(axisScale(0, 700).ticks, [0, 200, 400, 600, 800]);
    assert.deepEqual(axisScale(0, 0.3).ticks, [0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3]);
    assert.deepEqual(axisScale(-37, 277).ticks, [-100, 0, 100, 200, 300]);
    assert.deepEqual(axisScale(-45, -3).ticks, [-50, -40, -30, -20, -10, 0]);
    assert.deepEqual(axisScale(0, 0).ticks, [0, 0.2, 0.4, 0.6, 0.8, 1]);
    const small = axisScale(0, 0.0123);
    assert.deepEqual(small.ticks.map((tick) => formatTick(tick, small)), ['0', '0.0025', '0.005', '0.0075', '0.01', '0.0125', '0.015']);
    const large = axisScale(0, 1.1e9);
    assert.deepEqual(large.ticks.map((tick) => formatTick(tick, large)), ['0', '200m', '400m', '600m', '800m', '1bn', '1.2bn']);
    const thousands = axisScale(0, 8405);
    assert.deepEqual(thousands.ticks.map((tick) => formatTick(tick, thousands)), ['0', '2,000', '4,000', '6,000', '8,000', '10,000']);
  });

  test('line chart axis ends near maximum', () => {
    const svg = lineChartSvg([{ label: '2026-01', value: 120 }, { label: '2026-02', value: 277 }], { title: 'By month', description: 'Rising.', id: 'l' });
    const labels = [...svg.matchAll(/text-anchor="end" fill="#0b0c0c" [^>]*>([^<]+)<\/text>/g)].map((match) => match[1]!).filter((text) => !text.startsWith('2026'));
    assert.deepEqual(labels, ['0', '50', '100', '150', '200', '250', '300']);
  });
});

/** Reads the labels of the rows of the chart's figures table, in page order. */
function tableLabels(html: string): string[] {
  return [...html.matchAll(/<th scope="row" class="govuk-table__header">([^<]*)<\/th>/g)].map((match) => match[1]!);
}

/** Reads the labels under the points of a line chart, in drawing order. */
function lineLabels(html: string): string[] {
  return [...html.matchAll(/<text [^>]*transform="rotate\(-40[^>]*>([^<]*)<\/text>/g)].map((match) => match[1]!);
}

/**
 * Adds datasets whose groups are periods written as text, a dataset whose only numeric column is a code, and one with
 * 130 days written day first, whose later days have larger figures.
 */
async function insertChartCases(db: Database): Promise<void> {
  const organisation = { slug: 'grays-partnership', name: 'Grays Partnership' };
  // Referrals by ward and month: February is the largest month, so value order would put it first.
  const referrals: unknown[][] = [];
  const monthly = { '2026-01': [30, 12], '2026-02': [50, 40], '2026-03': [10, 8] } as const;
  for (const [month, [north, south]] of Object.entries(monthly)) {
    referrals.push(['Grays North', month, '2025/26', 'Q4 2025/26', north]);
    referrals.push(['Grays South', month, '2025/26', 'Q4 2025/26', south]);
  }
  referrals.push(['Grays North', '2025-12', '2025/26', 'Q3 2025/26', 70], ['Grays South', '2025-04', '2025/26', 'Q1 2025/26', 5]);
  referrals.push(['Grays North', '2025-03', '2024/25', 'Q4 2024/25', 1], ['Grays South', '2024-11', '2024/25', 'Q3 2024/25', 200]);
  await insertTestDataset(db, {
    organisation,
    slug: 'grays-needs-by-ward',
    title: 'Needs by ward',
    versions: [
      {
        schema: {
          fields: [
            { name: 'ward', title: 'Ward', type: 'string' },
            { name: 'month', title: 'Month', type: 'string' },
            { name: 'financial_year', title: 'Financial year', type: 'string' },
            { name: 'quarter', title: 'Quarter', type: 'string' },
            { name: 'referrals', title: 'Referrals', type: 'integer' },
          ],
        },
        rows: referrals,
      },
    ],
  });

  const days: unknown[][] = [];
  for (let day = 0; day < 130; day += 1) {
    const date = new Date(Date.UTC(2025, 0, 1 + day));
    const text = `${String(date.getUTCDate()).padStart(2, '0')}/${String(date.getUTCMonth() + 1).padStart(2, '0')}/${date.getUTCFullYear()}`;
    days.push([text, day + 1]);
  }
  days.push([null, 1000]);
  await insertTestDataset(db, {
    organisation,
    slug: 'daily-visits',
    title: 'Daily visits',
    versions: [{ schema: { fields: [{ name: 'visit_day', title: 'Visit day', type: 'string' }, { name: 'visits', title: 'Visits', type: 'integer' }] }, rows: days }],
  });

  await insertTestDataset(db, {
    organisation,
    slug: 'ward-lookup',
    title: 'Ward lookup',
    versions: [
      {
        schema: {
          fields: [
            { name: 'ward', title: 'Ward', type: 'string' },
            { name: 'district', title: 'District', type: 'string' },
            { name: 'ward_code', title: 'Ward code', type: 'integer' },
          ],
        },
        rows: [['Grays North', 'Grays', 5001], ['Grays South', 'Grays', 5002], ['Tilbury', 'Tilbury', 5003]],
      },
    ],
  });

  const schools: unknown[][] = [];
  for (let index = 0; index < 12; index += 1) {
    schools.push([100200 + index * 7, 8830001 + index * 13, `School ${index}`, index % 3 === 0 ? 'Secondary' : 'Primary', 2019 + (index % 4), 120 + index]);
  }
  await insertTestDataset(db, {
    organisation,
    slug: 'school-codes',
    title: 'School codes',
    versions: [
      {
        schema: {
          fields: [
            { name: 'urn', title: 'URN', type: 'integer' },
            { name: 'laestab', title: 'LAEstab', type: 'integer' },
            { name: 'school_name', title: 'School name', type: 'string' },
            { name: 'phase', title: 'Phase', type: 'string' },
            { name: 'opened', title: 'Year opened', type: 'integer' },
            { name: 'places', title: 'Places', type: 'integer' },
          ],
        },
        rows: schools,
      },
    ],
  });
}

for (const engine of testEngines()) {
  describe(`preview and chart on ${engine.name}`, () => {
    let drop: () => Promise<void>;
    let app: FastifyInstance;

    before(async () => {
      const created = await engine.create();
      drop = created.drop;
      await insertPortalCatalogue(created.db);
      await insertChartCases(created.db);
      app = await buildApp(testServices(created.db));
    });

    after(async () => {
      await app.close();
      await drop();
    });

    const get = (url: string) => app.inject({ url });

    test('preview pages through rows', async () => {
      const first = await get('/dataset/spending-over-500/preview');
      assert.equal(first.statusCode, 200);
      assert.match(first.body, /Showing rows 1 to 25 of 60/);
      assert.deepEqual(rowNumbers(first.body), Array.from({ length: 25 }, (_, index) => index + 1));
      assert.match(first.body, /<th scope="col" class="govuk-table__header govuk-table__header--numeric" >\s*<a class="govuk-link" href="[^"]*sort=amount/);
      const third = await get('/dataset/spending-over-500/preview?page=3');
      assert.match(third.body, /Showing rows 51 to 60 of 60/);
      assert.deepEqual(rowNumbers(third.body), Array.from({ length: 10 }, (_, index) => index + 51));
      assert.match(third.body, /Café &quot;Riverside&quot;, Grays/);
    });

    test('preview sorts and filters', async () => {
      const sorted = await get('/dataset/spending-over-500/preview?sort=amount&order=desc');
      assert.equal(sorted.statusCode, 200);
      assert.deepEqual(rowNumbers(sorted.body).slice(0, 3), [60, 59, 58]);
      assert.match(sorted.body, /aria-sort="descending"/);
      const filtered = await get('/dataset/spending-over-500/preview?filter-supplier=acme');
      assert.match(filtered.body, /Showing rows 1 to 15 of 15/);
      const byDate = await get('/dataset/spending-over-500/preview?filter-payment_date=2026-01-01');
      // Row i is dated month i mod 3 + 1, day i mod 27 + 1, so 1 January falls on rows i = 0, 27 and 54.
      assert.match(byDate.body, /Showing rows 1 to 3 of 3\s*</);
      assert.deepEqual(rowNumbers(byDate.body), [1, 28, 55]);
      const none = await get('/dataset/spending-over-500/preview?filter-service=nothing');
      assert.match(none.body, /No rows match these filters./);
    });

    test('preview date filter forms', async () => {
      // Rows i = 0, 27 and 54 are dated 1 January 2026.
      for (const typed of ['2026-01-01', '01/01/2026', '1/1/2026', '01-01-2026', '1.1.2026', '1 January 2026', '1st Jan 2026', ' 1 jan 2026 ']) {
        const response = await get(`/dataset/spending-over-500/preview?filter-payment_date=${encodeURIComponent(typed)}`);
        assert.equal(response.statusCode, 200, typed);
        assert.deepEqual(rowNumbers(response.body), [1, 28, 55], typed);
        assert.match(response.body, new RegExp(`id="filter-payment_date" name="filter-payment_date" type="text" value="${typed.trim()}"`), typed);
      }
      const paged = await get('/dataset/spending-over-500/preview?filter-payment_date=01%2F01%2F2026&sort=amount');
      assert.match(paged.body, /href="\/dataset\/spending-over-500\/preview\?sort=amount&amp;order=desc&amp;filter-payment_date=01%2F01%2F2026"/);
      for (const typed of ['31/02/2026', '2026-02-30', '01/01/26', '01/13/2026', '1 Smarch 2026', 'yesterday', '2026/01/01', '<b>1</b>']) {
        const response = await get(`/dataset/spending-over-500/preview?filter-payment_date=${encodeURIComponent(typed)}`);
        assert.equal(response.statusCode, 400, typed);
        const escapedValue = typed.replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\//g, '\\/');
        assert.match(response.body, new RegExp(`Payment Date must be a real date, like 31/01/2026, 31 January 2026 or 2026-01-31, not “${escapedValue}”`), typed);
      }
    });

    test('preview old version', async () => {
      const response = await get('/dataset/spending-over-500/preview?version=1');
      assert.equal(response.statusCode, 200);
      assert.match(response.body, /Version 1, loaded 1 February 2026/);
      assert.match(response.body, /Showing rows 1 to 20 of 20\s*</);
    });

    test('preview bad input', async () => {
      const badFilter = await get('/dataset/spending-over-500/preview?filter-amount=lots&filter-payment_date=31/02/2026');
      assert.equal(badFilter.statusCode, 400);
      assert.match(badFilter.body, /<title>Error: Preview/);
      assert.match(badFilter.body, /href="#filter-amount">Amount \(£\) must be a number, like 250 or 99.5/);
      assert.match(badFilter.body, /href="#filter-payment_date">Payment Date must be a real date, like 31\/01\/2026, 31 January 2026 or 2026-01-31, not “31\/02\/2026”/);
      assert.match(badFilter.body, /id="filter-amount" name="filter-amount" type="text" value="lots"/);
      assert.match(badFilter.body, /id="filter-amount-error"/);
      const sort = await get('/dataset/spending-over-500/preview?sort=salary');
      assert.equal(sort.statusCode, 400);
      assert.match(sort.body, /<strong>sort<\/strong>: &quot;salary&quot; is not a column of this dataset. Use one of: payment_date, supplier, service, amount./);
      const page = await get('/dataset/spending-over-500/preview?page=0');
      assert.equal(page.statusCode, 400);
      const version = await get('/dataset/spending-over-500/preview?version=two');
      assert.equal(version.statusCode, 400);
      assert.match(version.body, /<strong>version<\/strong>/);
      const beyond = await get('/dataset/spending-over-500/preview?page=4');
      assert.equal(beyond.statusCode, 404);
    });

    test('chart groups in SQL', async () => {
      const response = await get('/dataset/spending-over-500/chart?value=amount&group=service&agg=sum&type=bar');
      assert.equal(response.statusCode, 200);
      // Rows i = 0..59 pay 100 + 10.5 i to service i mod 3: Highways gets i = 0, 3, …, 57.
      const expected = [0, 1, 2].map((offset) => Array.from({ length: 20 }, (_, k) => 100 + (3 * k + offset) * 10.5).reduce((a, b) => a + b, 0));
      assert.deepEqual(expected, [7985, 8195, 8405]);
      assert.match(response.body, /<h2 class="govuk-heading-l">Total Amount \(£\) by Service Area<\/h2>/);
      assert.match(response.body, /<th scope="row" class="govuk-table__header">Libraries<\/th>\s*<td class="govuk-table__cell govuk-table__cell--numeric">8,405<\/td>/);
      assert.match(response.body, /<th scope="row" class="govuk-table__header">Highways<\/th>\s*<td class="govuk-table__cell govuk-table__cell--numeric">7,985<\/td>/);
      assert.match(response.body, /<svg xmlns="http:\/\/www.w3.org\/2000\/svg" class="civic-chart"/);
      assert.match(response.body, /<desc id="chart-desc">Bar chart of total amount \(£\) by service area for 3 groups. The largest is Libraries at 8,405.<\/desc>/);
    });

    test('chart by month', async () => {
      const response = await get('/dataset/spending-over-500/chart?group=month:payment_date&agg=count&type=line');
      assert.equal(response.statusCode, 200);
      for (const month of ['2026-01', '2026-02', '2026-03']) {
        assert.match(response.body, new RegExp(`<th scope="row" class="govuk-table__header">${month}</th>\\s*<td class="govuk-table__cell govuk-table__cell--numeric">20</td>`));
      }
      assert.match(response.body, /<path d="M/);
      const mean = await get('/dataset/spending-over-500/chart?value=amount&group=supplier&agg=mean');
      assert.match(mean.body, /Average Amount \(£\) by Supplier Name/);
    });

    test('chart of text months in time order', async () => {
      const line = await get('/dataset/grays-needs-by-ward/chart?agg=sum&value=referrals&group=month&type=line');
      assert.equal(line.statusCode, 200);
      const months = ['2024-11', '2025-03', '2025-04', '2025-12', '2026-01', '2026-02', '2026-03'];
      assert.deepEqual(tableLabels(line.body), months);
      assert.deepEqual(lineLabels(line.body), months);
      assert.match(line.body, /<th scope="row" class="govuk-table__header">2026-02<\/th>\s*<td class="govuk-table__cell govuk-table__cell--numeric">90<\/td>/);
      assert.match(line.body, /The largest is 2024-11 at 200./);

      const bar = await get('/dataset/grays-needs-by-ward/chart?agg=sum&value=referrals&group=month&type=bar');
      assert.deepEqual(tableLabels(bar.body), months);
    });

    test('chart of other periods in time order', async () => {
      const years = await get('/dataset/grays-needs-by-ward/chart?agg=sum&value=referrals&group=financial_year&type=line');
      assert.deepEqual(tableLabels(years.body), ['2024/25', '2025/26']);
      const quarters = await get('/dataset/grays-needs-by-ward/chart?agg=count&group=quarter&type=bar');
      assert.deepEqual(tableLabels(quarters.body), ['Q3 2024/25', 'Q4 2024/25', 'Q1 2025/26', 'Q3 2025/26', 'Q4 2025/26']);
      const dates = await get('/dataset/spending-over-500/chart?agg=count&group=payment_date&type=line');
      // Row i is dated month i mod 3 + 1, day i mod 27 + 1, which gives 27 different dates.
      const labels = tableLabels(dates.body);
      assert.equal(labels.length, 27);
      assert.deepEqual(labels, [...labels].sort());
      assert.doesNotMatch(dates.body, /There are more than/);
      assert.equal(labels[0], '2026-01-01');
    });

    test('chart of categories by value', async () => {
      const line = await get('/dataset/grays-needs-by-ward/chart?agg=sum&value=referrals&group=ward&type=line');
      assert.deepEqual(tableLabels(line.body), ['Grays South', 'Grays North']);
      const bar = await get('/dataset/spending-over-500/chart?value=amount&group=service&agg=sum&type=line');
      assert.deepEqual(tableLabels(bar.body), ['Libraries', 'Adult Social Care', 'Highways']);
    });

    test('chart of many days keeps first', async () => {
      const response = await get('/dataset/daily-visits/chart?agg=sum&value=visits&group=visit_day&type=line');
      assert.equal(response.statusCode, 200);
      const labels = tableLabels(response.body);
      assert.equal(labels.length, 120);
      assert.equal(labels[0], '01/01/2025');
      assert.equal(labels[119], '30/04/2025');
      assert.ok(!labels.includes('(blank)'), 'the blank group is left out of a time order');
      assert.ok(!labels.includes(''), 'the blank group is left out of a time order');
      assert.match(response.body, /There are more than 120 groups, so the chart shows the first 120, in time order./);
    });

    test('chart defaults skip codes', async () => {
      // Places (120 to 131) are all different too, but have fewer than 4 digits, so they are counts, not codes.
      const schools = await get('/dataset/school-codes/chart');
      assert.equal(schools.statusCode, 200);
      assert.match(schools.body, /<h2 class="govuk-heading-l">Total Places by Phase<\/h2>/);
      const named = await get('/dataset/school-codes/chart?agg=sum&value=urn');
      assert.equal(named.statusCode, 200);
      assert.match(named.body, /Total URN by Phase/);
      const lookup = await get('/dataset/ward-lookup/chart');
      assert.equal(lookup.statusCode, 200);
      assert.match(lookup.body, /<h2 class="govuk-heading-l">Number of rows by Ward<\/h2>/);
      const summed = await get('/dataset/ward-lookup/chart?agg=sum');
      assert.equal(summed.statusCode, 400);
      assert.match(summed.body, /<strong>value<\/strong>: The numeric columns of this dataset look like identifiers or codes, so name the column to add up: ward_code. Or use agg=count./);
      const needs = await get('/dataset/grays-needs-by-ward/chart');
      assert.match(needs.body, /<h2 class="govuk-heading-l">Total Referrals by Ward<\/h2>/);
    });

    test('preview leaves codes unseparated', async () => {
      const schools = await get('/dataset/school-codes/preview');
      assert.equal(schools.statusCode, 200);
      assert.match(schools.body, /<td class="govuk-table__cell govuk-table__cell--numeric">100200<\/td>/);
      assert.match(schools.body, /<td class="govuk-table__cell govuk-table__cell--numeric">8830001<\/td>/);
      assert.match(schools.body, /<td class="govuk-table__cell govuk-table__cell--numeric">2019<\/td>/);
      assert.doesNotMatch(schools.body, /100,200|8,830,001|2,019/);
      const spending = await get('/dataset/spending-over-500/preview?sort=amount&order=desc');
      assert.match(spending.body, /<td class="govuk-table__cell govuk-table__cell--numeric">719.5<\/td>/);
      const visits = await get('/dataset/daily-visits/preview?sort=visits&order=desc');
      assert.match(visits.body, /<td class="govuk-table__cell govuk-table__cell--numeric">1,000<\/td>/);
    });

    test('chart defaults and bad input', async () => {
      const defaults = await get('/dataset/land-and-building-assets/chart');
      assert.equal(defaults.statusCode, 200);
      assert.match(defaults.body, /Total BuildingSize by PropertyName/);
      const cases: Array<[string, RegExp]> = [
        ['value=supplier', /<strong>value<\/strong>: Column &quot;supplier&quot; contains string values, not numbers. Use a numeric column: amount./],
        ['value=salary', /<strong>value<\/strong>: &quot;salary&quot; is not a column/],
        ['group=colour', /<strong>group<\/strong>: &quot;colour&quot; is not a column/],
        ['group=month:supplier', /<strong>group<\/strong>: &quot;month:supplier&quot; does not name a date column. Use month: and one of: payment_date./],
        ['type=pie', /<strong>type<\/strong>: &quot;pie&quot; is not a choice for type. Use one of: bar, line./],
        ['agg=median', /<strong>agg<\/strong>/],
      ];
      for (const [query, message] of cases) {
        const response = await get(`/dataset/spending-over-500/chart?${query}`);
        assert.equal(response.statusCode, 400, query);
        assert.match(response.body, message, query);
      }
    });
  });
}
