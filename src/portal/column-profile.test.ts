import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../http/app.ts';
import type { TableSchemaField } from '../ingest/table-schema.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { testServices } from '../../test/helpers/services.ts';
import { hasCoordinateName, hasIdentifierName, hasMeasureName, headerWords, isIdentifierColumn, usesThousandsSeparators, type ColumnProfile } from './column-profile.ts';

const integer = (title: string): TableSchemaField => ({ name: title.toLowerCase().replace(/[^a-z0-9]+/g, '_'), title, type: 'integer' });
const profile = (values: number, distinct: number, minimum: number, maximum: number): ColumnProfile => ({ values, distinct, minimum, maximum });

describe('column roles from headers', () => {
  test('header words', () => {
    assert.deepEqual(headerWords(integer('VAT reg no')), ['vat', 'reg', 'no']);
    assert.deepEqual(headerWords({ name: 'supplier_id', title: 'SupplierID', type: 'integer' }), ['supplier', 'id']);
    assert.deepEqual(headerWords({ name: 'building_size', title: 'BuildingSize', type: 'number' }), ['building', 'size']);
    assert.deepEqual(headerWords({ name: 'no_of_cases', title: '', type: 'integer' }), ['no', 'of', 'cases']);
  });

  test('identifier names', () => {
    for (const title of ['Transaction number', 'VAT reg no', 'VAT registration', 'Supplier ID', 'SupplierID', 'Expense code', 'Reference', 'Invoice ref', 'URN', 'UPRN', 'Account No.', 'Case num']) {
      assert.equal(hasIdentifierName(integer(title)), true, title);
    }
    for (const title of ['Amount', 'Number of referrals', 'No. of cases', 'Total number', 'Number', 'Referrals', 'Idle hours', 'Coder hours']) {
      assert.equal(hasIdentifierName(integer(title)), false, title);
    }
  });

  test('measure names', () => {
    for (const title of ['Amount', 'Amount (£)', 'Total spend', 'Net value', 'Count', 'Number of referrals', 'No of cases', 'Number', 'Cost to council']) {
      assert.equal(hasMeasureName(integer(title)), true, title);
    }
    for (const title of ['Body', 'Transaction number', 'Referrals', 'Year']) assert.equal(hasMeasureName(integer(title)), false, title);
  });

  test('coordinate names', () => {
    for (const title of ['GeoX', 'GeoY', 'Easting', 'Northing', 'Latitude', 'Longitude', 'Lat', 'Lng']) assert.equal(hasCoordinateName(integer(title)), true, title);
    for (const title of ['BuildingSize', 'LandArea', 'Amount', 'Geography code']) assert.equal(hasCoordinateName(integer(title)), false, title);
  });

  test('identifiers by values', () => {
    const reading = integer('Reading');
    assert.equal(isIdentifierColumn(reading, profile(237, 237, 22000001, 22009999)), true, 'all different, 8 digits each');
    assert.equal(isIdentifierColumn(reading, profile(237, 235, 22000001, 22009999)), false, 'some repeat');
    assert.equal(isIdentifierColumn(reading, profile(131, 131, 1, 1000)), false, 'counts of different sizes');
    assert.equal(isIdentifierColumn(reading, profile(9, 9, 22000001, 22009999)), false, 'too few values to tell');
    assert.equal(isIdentifierColumn(reading, profile(20, 20, 100, 999)), false, 'fewer than 4 digits');
    assert.equal(isIdentifierColumn(reading, profile(20, 20, -5000, -1000)), false, 'negative figures');
    assert.equal(isIdentifierColumn(reading, undefined), false, 'no profile');
    assert.equal(isIdentifierColumn(integer('Amount'), profile(237, 237, 22000001, 22009999)), false, 'a money name wins');
    assert.equal(isIdentifierColumn(integer('Transaction number'), profile(3, 1, 5, 5)), true, 'an identifier name wins');
    assert.equal(isIdentifierColumn({ name: 'grid_ref', title: 'Grid ref', type: 'number' }, undefined), false, 'only integer columns');
  });

  test('thousands separators', () => {
    assert.equal(usesThousandsSeparators(integer('Transaction number'), undefined), false);
    assert.equal(usesThousandsSeparators(integer('VAT reg no'), undefined), false);
    assert.equal(usesThousandsSeparators(integer('Year'), undefined), false);
    assert.equal(usesThousandsSeparators(integer('Referrals'), profile(30, 12, 1, 2000)), true);
    assert.equal(usesThousandsSeparators({ name: 'amount', title: 'Amount', type: 'number' }, undefined), true);
    assert.equal(usesThousandsSeparators({ name: 'grid_ref', title: 'Grid ref', type: 'number' }, undefined), false);
    assert.equal(usesThousandsSeparators({ name: 'supplier', title: 'Supplier', type: 'string' }, undefined), false);
  });
});

/** Reads the cells of the preview table's rows as text, one array per row. */
function previewCells(html: string): string[][] {
  const body = html.slice(html.indexOf('<tbody class="govuk-table__body">'), html.indexOf('</tbody>'));
  return [...body.matchAll(/<tr class="govuk-table__row">([\s\S]*?)<\/tr>/g)].map((row) => [...row[1]!.matchAll(/<td [^>]*>([\s\S]*?)<\/td>/g)].map((cell) => cell[1]!));
}

for (const engine of testEngines()) {
  describe(`sample council files on ${engine.name}`, () => {
    let drop: () => Promise<void>;
    let app: FastifyInstance;

    before(async () => {
      const created = await engine.create();
      drop = created.drop;
      const services = testServices(created.db);
      const report = await services.imports.importFile(
        { path: 'samples/spending/DCCSpendingOver500_202504-redacted.csv', filename: 'DCCSpendingOver500_202504-redacted.csv' },
        { organisation: 'devon', organisationName: 'Devon County Council', dataset: 'spending-over-500', title: 'Spending over £500', visibility: 'open', actor: { kind: 'operator', name: 'test-operator' } },
      );
      assert.equal(report.visibility, 'open');
      const land = await services.imports.importFile(
        { path: 'samples/trafford_land_and_building_assets.csv', filename: 'trafford_land_and_building_assets.csv' },
        { organisation: 'trafford', organisationName: 'Trafford Council', dataset: 'land-and-building-assets', title: 'Land and building assets', visibility: 'open', actor: { kind: 'operator', name: 'test-operator' } },
      );
      assert.equal(land.visibility, 'open');
      app = await buildApp(services);
    });

    after(async () => {
      await app.close();
      await drop();
    });

    const get = (url: string) => app.inject({ url });

    test('default chart adds up amounts', async () => {
      const response = await get('/dataset/spending-over-500/chart');
      assert.equal(response.statusCode, 200);
      assert.match(response.body, /<h2 class="govuk-heading-l">Total Amount by Expense area<\/h2>/);
      assert.match(response.body, /The largest is Capital - Climate Change, Environment &amp; Transport at 1,296,353.36./);
    });

    test('default chart skips coordinates', async () => {
      // GeoX and GeoY (longitude and latitude) come before BuildingSize in the Trafford file.
      const response = await get('/dataset/land-and-building-assets/chart');
      assert.equal(response.statusCode, 200);
      assert.match(response.body, /<h2 class="govuk-heading-l">Total BuildingSize by TenureType<\/h2>/);
    });

    test('preview shows identifiers plainly', async () => {
      const response = await get('/dataset/spending-over-500/preview');
      assert.equal(response.statusCode, 200);
      // Columns: row, Body, Name of Body, Date, Transaction number, Amount, Supplier name, Supplier ID, VAT reg no, …
      const rows = previewCells(response.body);
      assert.deepEqual(rows[1]!.slice(4, 6), ['22002752', '1,496']);
      assert.deepEqual(rows[3]!.slice(4, 9), ['22000298', '550', 'ESSENTIAL 6 LIMITED', '219393', '941534529']);
      assert.doesNotMatch(response.body, /22,002,769|941,534,529|219,393/);
    });

    test('preview filters by the file date', async () => {
      for (const typed of ['29/04/2025', '29-04-2025', '29 April 2025', '2025-04-29']) {
        const response = await get(`/dataset/spending-over-500/preview?filter-date=${encodeURIComponent(typed)}`);
        assert.equal(response.statusCode, 200, typed);
        assert.match(response.body, /Showing rows 1 to 25 of 56\s*</, typed);
      }
      const bad = await get('/dataset/spending-over-500/preview?filter-date=29%2F04%2F25');
      assert.equal(bad.statusCode, 400);
      assert.match(bad.body, /href="#filter-date">Date must be a real date, like 31\/01\/2026, 31 January 2026 or 2026-01-31, not “29\/04\/25”/);
    });
  });
}
