import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import ExcelJS from 'exceljs';
import { sql } from 'kysely';
import { testEngines } from '../../test/helpers/engines.ts';
import { testServices } from '../../test/helpers/services.ts';
import type { AuthContext } from '../accounts/auth-context.ts';
import { PLATFORM_SCOPE, type LoadReport } from '../catalogue/catalogue.types.ts';
import type { Database } from '../db/database.ts';
import { withOrganisation } from '../db/tenant.ts';
import { AppError } from '../errors.ts';
import { REDACTED_TEXT } from '../privacy/redaction.ts';
import type { PersonalDataFinding } from '../privacy/scanner.ts';
import type { Services } from '../services.ts';
import type { PublicationImportOptions } from './publication.check.ts';
import type { PublicationActor } from './publication.service.ts';
import type { SmallCountFinding } from './small-counts.ts';
import type { TransparencyReport } from './transparency-check.ts';

const OPERATOR: PublicationActor = { kind: 'operator', name: 'test-operator' };

/** Children in care by ward and age band, already aggregated: four of its eight counts are from 1 to 9, and one is zero. */
const CHILDREN_IN_CARE_CSV = 'Ward,Age band,Children in care\nAveley,0 to 4,3\nAveley,5 to 15,12\nChafford,0 to 4,1\nChafford,5 to 15,2\nGrays,0 to 4,25\nGrays,5 to 15,4\nTilbury,0 to 4,0\nTilbury,5 to 15,14\n';

function importOptions(dataset: string, extra: Partial<PublicationImportOptions> = {}): PublicationImportOptions {
  return { organisation: 'devon', organisationName: 'Devon County Council', dataset, actor: { kind: 'operator', name: 'test-operator' }, ...extra };
}

async function datasetRow(db: Database, slug: string): Promise<{ id: string; visibility: string; current_resource_id: string | null }> {
  return db.owner.selectFrom('datasets').select(['id', 'visibility', 'current_resource_id']).where('slug', '=', slug).executeTakeFirstOrThrow();
}

async function auditActions(db: Database, datasetId: string): Promise<string[]> {
  const rows = await db.owner.selectFrom('audit_log').select('action').where('subject_id', '=', datasetId).orderBy('id').execute();
  return rows.map((row) => row.action);
}

async function tableColumn(db: Database, resourceId: string, column: string): Promise<Array<number | null>> {
  const resource = await db.owner.selectFrom('resources').select('table_name').where('id', '=', resourceId).executeTakeFirstOrThrow();
  const rows = await sql<{ value: string | number | null }>`select ${sql.ref(column)} as value from ${sql.table(`datastore.${resource.table_name}`)} order by _id`.execute(db.owner);
  return rows.rows.map((row) => (row.value === null ? null : Number(row.value)));
}

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected the call to be rejected');
}

for (const engine of testEngines()) {
  describe(`publication gate on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let services: Services;

    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'civic-publication-'));

    before(async () => {
      handle = await engine.create();
      services = testServices(handle.db);
    });
    after(async () => {
      await handle.drop();
      fs.rmSync(folder, { recursive: true, force: true });
    });

    async function importChildrenInCare(dataset: string): Promise<LoadReport> {
      const file = path.join(folder, 'smallcounts.csv');
      fs.writeFileSync(file, CHILDREN_IN_CARE_CSV);
      return services.imports.importFile({ path: file, filename: 'smallcounts.csv' }, importOptions(dataset, { visibility: 'open' }));
    }

    test('real spending file stays private until redacted', async () => {
      const file = 'test/fixtures/spending/DCCSpendingOver500_201706.csv';
      const report = await services.imports.importFile({ path: file, filename: 'DCCSpendingOver500_201706.csv' }, importOptions('devon-2017-06', { visibility: 'open' }));
      assert.equal(report.visibility, 'private');
      const findings = report.personal_data as PersonalDataFinding[];
      assert.deepEqual(findings.map((finding) => `${finding.column}:${finding.kind}`), ['Supplier Name:individual_name']);
      assert.ok(findings[0]!.count >= 183, `${findings[0]!.count} named payees`);
      assert.ok(!JSON.stringify(findings).includes('CAMERON'), 'findings hold no values');

      const before = await datasetRow(handle.db, 'devon-2017-06');
      assert.equal(before.visibility, 'private');
      const stored = await handle.db.owner.selectFrom('resources').select('load_report').where('id', '=', before.current_resource_id!).executeTakeFirstOrThrow();
      assert.deepEqual((stored.load_report as { personal_data: unknown }).personal_data, findings, 'the dataset page reads the findings from the load report');

      const refused = await rejection(services.publication.setVisibility(OPERATOR, 'devon-2017-06', 'open'));
      assert.equal(refused.kind, 'conflict');
      assert.equal(refused.code, 'personal_data_found');
      assert.match(refused.message, /Supplier Name \(individual_name, \d+ cells\)/);
      assert.match(refused.message, /--redact COLUMN\[:KIND\]/);

      // Any other path to open is refused by the database as well.
      await assert.rejects(services.catalogue.setVisibility(PLATFORM_SCOPE, 'devon-2017-06', 'open'), /personal-data findings/);
      assert.equal((await datasetRow(handle.db, 'devon-2017-06')).visibility, 'private');

      const result = await services.publication.publish(OPERATOR, 'devon-2017-06', { fixes: [{ type: 'redact', column: 'Supplier Name', kind: 'individual_name' }], open: true });
      assert.equal(result.visibility, 'open');
      assert.equal(result.version, 2);
      assert.deepEqual(result.personal_data, []);

      const after = await datasetRow(handle.db, 'devon-2017-06');
      assert.equal(after.visibility, 'open');
      assert.equal(after.current_resource_id, result.resource_id);
      const resource = await handle.db.owner.selectFrom('resources').select(['table_name', 'row_count']).where('id', '=', result.resource_id).executeTakeFirstOrThrow();
      assert.equal(Number(resource.row_count), 7990);
      const table = sql.table(`datastore.${resource.table_name}`);
      const redacted = await sql<{ n: string }>`select count(*) as n from ${table} where supplier_name = ${REDACTED_TEXT}`.execute(handle.db.owner);
      assert.equal(Number(redacted.rows[0]!.n), findings[0]!.count);
      const named = await sql<{ n: string }>`select count(*) as n from ${table} where supplier_name in ('CAMERON ROBERT MR', 'GOUGH ANNA DR')`.execute(handle.db.owner);
      assert.equal(Number(named.rows[0]!.n), 0);
      const company = await sql<{ n: string }>`select count(*) as n from ${table} where supplier_name = 'ENTERPRISE RENT-A-CAR (UK) LTD'`.execute(handle.db.owner);
      assert.ok(Number(company.rows[0]!.n) > 0, 'company payees are kept');

      const file2 = await handle.db.owner.selectFrom('resource_files').select('content').where('resource_id', '=', result.resource_id).executeTakeFirstOrThrow();
      const csv = Buffer.from(file2.content).toString('utf8');
      assert.ok(csv.includes(REDACTED_TEXT));
      assert.ok(!csv.includes('CAMERON ROBERT MR'));
      assert.deepEqual(await auditActions(handle.db, after.id), ['dataset.personal_data_fixed', 'dataset.opened']);
    });

    test('justification opens a flagged version', async () => {
      await services.imports.importFile({ path: 'test/fixtures/spending/DCCSpendingOver500_202504.csv', filename: 'DCCSpendingOver500_202504.csv' }, importOptions('devon-2025-04'));
      const short = await rejection(services.publication.publish(OPERATOR, 'devon-2025-04', { fixes: [], justification: 'ok', open: true }));
      assert.equal(short.code, 'invalid_justification');

      const result = await services.publication.publish(OPERATOR, 'devon-2025-04', {
        fixes: [],
        justification: 'Named professionals are paid in their business capacity and publish their own trading names.',
        open: true,
      });
      assert.equal(result.visibility, 'open');
      assert.equal(result.justified, true);
      assert.equal(result.personal_data.length, 1);
      const dataset = await datasetRow(handle.db, 'devon-2025-04');
      const justification = await handle.db.owner.selectFrom('publication_justifications').selectAll().where('dataset_id', '=', dataset.id).executeTakeFirstOrThrow();
      assert.equal(justification.recorded_by, 'operator test-operator');
      assert.equal(justification.resource_id, dataset.current_resource_id);
      assert.deepEqual(await auditActions(handle.db, dataset.id), ['dataset.publication_justified', 'dataset.opened']);
    });

    test('fixes generalise, drop and reject unknown columns', async () => {
      await services.imports.importFile({ path: 'test/fixtures/privacy/personal-data.csv', filename: 'personal-data.csv' }, importOptions('people-fixture'));
      const unknown = await rejection(services.publication.publish(OPERATOR, 'people-fixture', { fixes: [{ type: 'drop', column: 'Nope' }] }));
      assert.equal(unknown.code, 'unknown_column');
      assert.match(unknown.message, /"Supplier name"/);
      const versions = await handle.db.owner.selectFrom('resources').select('version').where('original_filename', '=', 'personal-data.csv').execute();
      assert.equal(versions.length, 1, 'a rejected fix writes nothing');

      const partial = await services.publication.publish(OPERATOR, 'people-fixture', {
        fixes: [
          { type: 'generalise_postcode', column: 'Client contact' },
          { type: 'generalise_dob', column: 'Date of birth' },
          { type: 'drop', column: 'Sort code' },
        ],
      });
      const remaining = partial.personal_data.map((finding) => `${finding.column}:${finding.kind}`);
      assert.ok(!remaining.includes('Client contact:postcode'));
      assert.ok(!remaining.includes('Date of birth:date_of_birth'));
      assert.ok(!remaining.includes('Account number:bank_account'), 'an account number alone is not bank details');
      assert.ok(remaining.includes('Client contact:phone_number'), 'generalising postcodes leaves phone numbers');
      assert.ok(remaining.includes('Notes:nhs_number'), 'other kinds stay flagged');
      const resource = await handle.db.owner.selectFrom('resources').select('table_name').where('id', '=', partial.resource_id).executeTakeFirstOrThrow();
      const table = sql.table(`datastore.${resource.table_name}`);
      const row7 = await sql<{ client_contact: string; date_of_birth: number | null }>`select client_contact, date_of_birth from ${table} where _id in (7, 8) order by _id`.execute(handle.db.owner);
      assert.equal(row7.rows[0]!.client_contact, '12 High Road, RM17 6');
      assert.equal(Number(row7.rows[1]!.date_of_birth), 1984);

      const refused = await rejection(services.publication.publish(OPERATOR, 'people-fixture', { fixes: [], open: true }));
      assert.equal(refused.code, 'personal_data_found');
      assert.match(refused.message, /Notes \(nhs_number/);
    });

    test('small counts stay private until suppressed', async () => {
      const report = await importChildrenInCare('children-in-care-by-ward');
      assert.equal(report.visibility, 'private');
      const findings = report.personal_data as SmallCountFinding[];
      assert.deepEqual(findings, [{ column: 'Children in care', kind: 'small_count', count: 4, rows: [1, 3, 4, 6], threshold: 10 }]);
      const warning = report.warnings.find((entry) => entry.code === 'small_counts');
      assert.equal(warning?.column, 'Children in care');
      assert.match(warning?.message ?? '', /has 4 cells with counts from 1 to 9, under the threshold of 10/);

      const refused = await rejection(services.publication.setVisibility(OPERATOR, 'children-in-care-by-ward', 'open'));
      assert.equal(refused.code, 'personal_data_found');
      assert.match(refused.message, /holds small counts: Children in care \(4 cells with counts from 1 to 9; threshold 10\)/);
      assert.match(refused.message, /--suppress-small-counts COLUMN/);
      assert.match(refused.message, /--round-counts COLUMN/);
      assert.doesNotMatch(refused.message, /--redact/, 'only the fixes that suit small counts are offered');
      await assert.rejects(services.catalogue.setVisibility(PLATFORM_SCOPE, 'children-in-care-by-ward', 'open'), /personal-data findings/);

      const result = await services.publication.publish(OPERATOR, 'children-in-care-by-ward', { fixes: [{ type: 'suppress_small_counts', column: 'children_in_care' }], open: true });
      assert.equal(result.visibility, 'open');
      assert.equal(result.version, 2);
      assert.deepEqual(result.personal_data, []);
      assert.deepEqual(result.fixes, ['suppress counts from 1 to 9 in "Children in care" (4 cells)']);
      assert.deepEqual(await tableColumn(handle.db, result.resource_id, 'children_in_care'), [null, 12, null, null, 25, null, 0, 14], 'zeros are kept');

      const stored = await handle.db.owner.selectFrom('resources').select(['load_report', 'table_schema']).where('id', '=', result.resource_id).executeTakeFirstOrThrow();
      const storedReport = stored.load_report as LoadReport;
      assert.ok(!storedReport.warnings.some((entry) => entry.code === 'small_counts'), 'the fixed version has no small-count warning');
      const field = (stored.table_schema as { fields: Array<{ name: string; type: string; description?: string }> }).fields.find((entry) => entry.name === 'children_in_care');
      assert.equal(field?.type, 'integer');
      assert.match(field?.description ?? '', /Counts from 1 to 9 are suppressed and left empty/);

      const publicVersions = await withOrganisation(handle.db.app, null, (trx) =>
        trx.selectFrom('resources').innerJoin('datasets', 'datasets.id', 'resources.dataset_id').select('resources.id').where('datasets.slug', '=', 'children-in-care-by-ward').execute(),
      );
      assert.deepEqual(publicVersions.map((row) => row.id), [result.resource_id], 'the version with small counts is withheld from public readers');
      const dataset = await datasetRow(handle.db, 'children-in-care-by-ward');
      assert.deepEqual(await auditActions(handle.db, dataset.id), ['dataset.personal_data_fixed', 'dataset.opened']);
    });

    test('small counts rounded or justified', async () => {
      await importChildrenInCare('children-rounded');
      const rounded = await services.publication.publish(OPERATOR, 'children-rounded', { fixes: [{ type: 'round_counts', column: 'Children in care' }], open: true });
      assert.equal(rounded.visibility, 'open');
      assert.deepEqual(await tableColumn(handle.db, rounded.resource_id, 'children_in_care'), [0, 10, 0, 0, 30, 0, 0, 10]);

      await importChildrenInCare('children-justified');
      const justified = await services.publication.publish(OPERATOR, 'children-justified', {
        fixes: [],
        justification: 'These are counts of council buildings by ward and age band, not of people.',
        open: true,
      });
      assert.equal(justified.visibility, 'open');
      assert.equal(justified.justified, true);
      assert.equal(justified.personal_data.length, 1, 'the justified finding stays on record');
    });

    test('rounding also rounds the totals', async () => {
      const file = path.join(folder, 'bands.csv');
      fs.writeFileSync(file, 'Ward,Aged 0 to 4,Aged 5 to 9,All ages\nAveley,3,12,15\nGrays,7,20,27\nTilbury,15,19,34\n');
      await services.imports.importFile({ path: file, filename: 'bands.csv' }, importOptions('children-by-band', { visibility: 'open' }));
      const result = await services.publication.publish(OPERATOR, 'children-by-band', { fixes: [{ type: 'round_counts', column: 'Aged 0 to 4' }], open: true });
      assert.equal(result.visibility, 'open');
      assert.deepEqual(await tableColumn(handle.db, result.resource_id, 'aged_0_to_4'), [0, 10, 20]);
      assert.deepEqual(await tableColumn(handle.db, result.resource_id, 'aged_5_to_9'), [10, 20, 20]);
      assert.deepEqual(await tableColumn(handle.db, result.resource_id, 'all_ages'), [20, 30, 30], 'an exact total less the exact band would give back 3, 7 and 15');
      assert.ok(result.fixes.includes('round 3 cells in "All ages" to the nearest 10 so that totals cannot reveal a rounded count'));
    });

    test('personal data in another sheet', async () => {
      const workbook = new ExcelJS.Workbook();
      workbook.addWorksheet('Summary').addRows([['Ward', 'Households helped'], ['Aveley', 25], ['Grays', 40]]);
      const raw = workbook.addWorksheet('Raw');
      raw.addRows([['Name', 'NHS number'], ['Mr John Smith', '943 476 5919'], ['Mrs Jane Brown', '401 023 2137']]);
      raw.state = 'hidden';
      const file = path.join(folder, 'households.xlsx');
      await workbook.xlsx.writeFile(file);

      const report = await services.imports.importFile({ path: file, filename: 'households.xlsx' }, importOptions('households-helped', { visibility: 'open', sheet: 'Summary' }));
      assert.equal(report.visibility, 'private', 'the original file, which the public could download, contains the hidden sheet');
      assert.deepEqual(
        (report.personal_data as PersonalDataFinding[]).map((finding) => `${finding.column}:${finding.kind}`),
        ['Sheet "Raw": Name:individual_name', 'Sheet "Raw": NHS number:nhs_number'],
      );
      const warning = report.warnings.find((entry) => entry.code === 'personal_data_in_other_sheet');
      assert.match(warning?.message ?? '', /^Sheet "Raw" \(hidden\) of households\.xlsx was not loaded, but its columns "Name", "NHS number" contain personal data/);
      const refused = await rejection(services.publication.setVisibility(OPERATOR, 'households-helped', 'open'));
      assert.equal(refused.code, 'personal_data_found');

      const clean = new ExcelJS.Workbook();
      clean.addWorksheet('Summary').addRows([['Ward', 'Households helped'], ['Aveley', 25], ['Grays', 40]]);
      clean.addWorksheet('Notes').addRows([['Note'], ['Counts are of households, from the housing register.']]);
      const cleanFile = path.join(folder, 'households-clean.xlsx');
      await clean.xlsx.writeFile(cleanFile);
      const cleanReport = await services.imports.importFile({ path: cleanFile, filename: 'households-clean.xlsx' }, importOptions('households-helped', { visibility: 'open', sheet: 'Summary' }));
      assert.equal(cleanReport.visibility, 'open', 'a sheet of notes keeps nothing private');
      assert.deepEqual(cleanReport.personal_data, []);
    });

    test('personal data outside the table', async () => {
      const file = path.join(folder, 'households-notes.csv');
      const lines = [
        'Households helped by ward - prepared for Mr John Smith NHS 943 476 5919',
        '',
        'Ward,Households helped,Contact jane.brown@example.org',
        'Aveley,25,',
        'Grays,40',
        'Tilbury,31',
        '',
        'Note: query raised by Mrs Jane Brown (NHS 401 023 2137; RM16 2XY)',
      ];
      fs.writeFileSync(file, `${lines.join('\n')}\n`);
      const report = await services.imports.importFile({ path: file, filename: 'households-notes.csv' }, importOptions('households-notes', { visibility: 'open' }));
      assert.equal(report.rows, 3);
      assert.equal(report.visibility, 'private', 'the original file, which the public could download, contains lines 1, 3 and 8');
      assert.deepEqual(
        (report.personal_data as PersonalDataFinding[]).map((finding) => `${finding.column}:${finding.kind}:${finding.rows.join(' ')}`),
        ['Lines that are not rows of data:nhs_number:1 8', 'Lines that are not rows of data:email_address:3', 'Lines that are not rows of data:postcode:8'],
      );
      const warning = report.warnings.find((entry) => entry.code === 'personal_data_outside_table');
      assert.match(warning?.message ?? '', /^Lines 1, 3, 8 of households-notes\.csv, which are not rows of data, contain personal data \(nhs number, email address, postcode\)/);
      assert.match(warning?.message ?? '', /give the dataset a title without it/);

      const clean = path.join(folder, 'households-clean.csv');
      fs.writeFileSync(clean, 'Households helped by ward, April 2025\n\nWard,Households helped\nAveley,25\nGrays,40\nTilbury,31\n\nSource: housing register\n');
      const cleanReport = await services.imports.importFile({ path: clean, filename: 'households-clean.csv' }, importOptions('households-notes-clean', { visibility: 'open' }));
      assert.equal(cleanReport.visibility, 'open', 'a title and a source note keep nothing private');
    });

    test('other fixes keep small counts flagged', async () => {
      await importChildrenInCare('children-dropped');
      const result = await services.publication.publish(OPERATOR, 'children-dropped', { fixes: [{ type: 'drop', column: 'Age band' }] });
      assert.deepEqual(result.personal_data.map((finding) => `${finding.column}:${finding.kind}`), ['Children in care:small_count']);
      const stored = await handle.db.owner.selectFrom('resources').select('load_report').where('id', '=', result.resource_id).executeTakeFirstOrThrow();
      assert.deepEqual((stored.load_report as LoadReport).warnings.filter((entry) => entry.code === 'small_counts').length, 1);
    });

    test('bad count fixes write nothing', async () => {
      await importChildrenInCare('children-bad-fix');
      const text = await rejection(services.publication.publish(OPERATOR, 'children-bad-fix', { fixes: [{ type: 'suppress_small_counts', column: 'Ward' }] }));
      assert.equal(text.code, 'not_a_count_column');
      const unknown = await rejection(services.publication.publish(OPERATOR, 'children-bad-fix', { fixes: [{ type: 'round_counts', column: 'Children' }] }));
      assert.equal(unknown.code, 'unknown_column');
      assert.match(unknown.message, /"Children in care"/);
      const both = await rejection(
        services.publication.publish(OPERATOR, 'children-bad-fix', { fixes: [{ type: 'round_counts', column: 'Children in care' }, { type: 'suppress_small_counts', column: 'Children in care' }] }),
      );
      assert.equal(both.code, 'conflicting_count_fixes');
      const dataset = await datasetRow(handle.db, 'children-bad-fix');
      const versions = await handle.db.owner.selectFrom('resources').select('version').where('dataset_id', '=', dataset.id).execute();
      assert.equal(versions.length, 1);
    });

    test('only data stewards publish', async () => {
      const dataset = await handle.db.owner.selectFrom('datasets').select('organisation_id').where('slug', '=', 'people-fixture').executeTakeFirstOrThrow();
      const auth: AuthContext = { via: 'session', userId: '00000000-0000-4000-8000-000000000001', organisationId: dataset.organisation_id, roles: ['analyst'], scopes: null, platformAdmin: false, sessionId: null, tokenId: null };
      const refused = await rejection(services.publication.publish({ kind: 'user', auth }, 'people-fixture', { fixes: [], open: true }));
      assert.equal(refused.kind, 'forbidden');
      const otherOrganisation = await rejection(services.publication.publish({ kind: 'user', auth: { ...auth, roles: ['data_steward'], organisationId: '00000000-0000-4000-8000-0000000000aa' } }, 'people-fixture', { fixes: [], open: true }));
      assert.equal(otherOrganisation.kind, 'not_found');
    });

    test('transparency report lists every problem', async () => {
      const report = await services.imports.importFile(
        { path: 'test/fixtures/transparency/spending-missing-purpose.csv', filename: 'spending-missing-purpose.csv' },
        importOptions('thurrock-spending-bad', { transparency: 'spending' }),
      );
      const transparency = report.transparency as TransparencyReport;
      assert.equal(transparency.valid, false);
      assert.deepEqual(transparency.missing_fields, ['Purpose']);
      const problems = transparency.problems.map((problem) => `${problem.row ?? '-'}:${problem.field}:${problem.code}`);
      assert.deepEqual(problems, ['-:Purpose:missing_field', '2:Amount:wrong_type', '3:IrrecoverableVATAmount:out_of_range']);
      assert.match(transparency.problems[1]!.message, /Row 2: Amount is "TBC", which is not a number/);
    });

    test('unknown transparency schema rolls back', async () => {
      const refused = await rejection(
        services.imports.importFile({ path: 'test/fixtures/transparency/spending-missing-purpose.csv', filename: 'x.csv' }, importOptions('thurrock-unknown', { transparency: 'grants' })),
      );
      assert.equal(refused.code, 'unknown_transparency_schema');
      const row = await handle.db.owner.selectFrom('datasets').select('id').where('slug', '=', 'thurrock-unknown').executeTakeFirst();
      assert.equal(row, undefined);
    });
  });
}
