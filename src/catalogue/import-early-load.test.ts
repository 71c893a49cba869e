import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { testEngines } from '../../test/helpers/engines.ts';
import { catalogueCounts, csvWithSurplusCell, datastoreTables, temporaryFolder } from '../../test/helpers/import-fixtures.ts';
import type { Database } from '../db/database.ts';
import { IngestError } from '../ingest/ingest.types.ts';
import { createLogger } from '../logger.ts';
import { ingestFunctions } from './import.ingest.ts';
import { ImportService } from './import.service.ts';
import type { ImportOptions } from './import.types.ts';

const OPERATOR = { kind: 'operator', name: 'test' } as const;

function source(file: string) {
  return { path: file, filename: path.basename(file) };
}

function options(dataset: string): ImportOptions {
  return { organisation: 'early-load-council', dataset, actor: OPERATOR };
}

async function storedRows(db: Database, tableName: string): Promise<Array<Record<string, unknown>>> {
  const { rows } = await sql<Record<string, unknown>>`select * from ${sql.table(`datastore.${tableName}`)} order by _id`.execute(db.owner);
  return rows;
}

async function tableOf(db: Database, resourceId: string): Promise<string> {
  const { rows } = await sql<{ table_name: string }>`select table_name from resources where id = ${resourceId}`.execute(db.owner);
  return rows[0]!.table_name;
}

async function primaryKeyOf(db: Database, tableName: string): Promise<string | undefined> {
  const { rows } = await sql<{ indexdef: string }>`select indexdef from pg_indexes where schemaname = 'datastore' and tablename = ${tableName} and indexname = ${`${tableName}_pkey`}`.execute(db.owner);
  return rows[0]?.indexdef;
}

for (const engine of testEngines()) {
  describe(`early load on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let early: ImportService;
    let twoPass: ImportService;
    const discarded: string[] = [];
    /** COPY formats of the early load service's imports, in order. */
    const copyFormats: string[] = [];
    /** Phases of the last import that used the early load service. */
    let phases: Record<string, number> = {};
    const folder = temporaryFolder('civic-early-load-');
    /** Every log line of the early load service, to check what it leaves out. */
    const logged: string[] = [];

    before(async () => {
      handle = await engine.create();
      const log = { write: (line: string) => {
        logged.push(line);
        const entry = JSON.parse(line) as { msg?: string; reason?: string; format?: string; phases_ms?: Record<string, number> };
        if (entry.msg === 'import copy started') copyFormats.push(entry.format ?? '');
        if (entry.msg?.startsWith('import early load discarded')) discarded.push(entry.reason ?? '');
        if (entry.msg === 'import committed') phases = entry.phases_ms ?? {};
      } };
      early = new ImportService(handle.db, ingestFunctions, createLogger('info', log), [], { earlyLoadAfterRows: 100 });
      twoPass = new ImportService(handle.db, ingestFunctions, createLogger('silent'), [], { earlyLoadAfterRows: 0 });
    });
    after(async () => {
      await handle.drop();
      folder.remove();
    });

    test('log lines leave out the file name', async () => {
      const file = path.join(folder.path, 'Jane Smith referral.csv');
      fs.writeFileSync(file, 'Ward,Count\r\nAveley,12\r\nBelhus,15\r\n');
      logged.length = 0;
      await early.importFile(source(file), options('named-file'));
      assert.ok(logged.some((line) => line.includes('"import analysed"')), 'the import logged its analysis');
      for (const line of logged) assert.doesNotMatch(line, /Jane Smith/);
    });

    test('stores the rows two passes store', async () => {
      const file = path.join(folder.path, 'payments.csv');
      const lines = ['Date,Transaction,Amount,Supplier,VAT number,Note'];
      for (let i = 1; i <= 2000; i++) {
        let note = '';
        if (i % 7 === 0) note = '"Line one\r\nline two, with ""quotes"""';
        else if (i % 5 === 0) note = 'back\\slash\ttab';
        lines.push(`${String((i % 28) + 1).padStart(2, '0')}/04/2025,T${i},"£${(i * 37).toLocaleString('en-GB')}.${String(i % 100).padStart(2, '0')}",Supplier ${i % 50},${i % 3 === 0 ? '' : 100000 + i},${note}`);
      }
      fs.writeFileSync(file, `${lines.join('\r\n')}\r\nTotal,,"£1.00",,,\r\n`);
      const first = await early.importFile(source(file), options('early'));
      assert.ok('early_copy_wait' in phases, 'the early rows were kept');
      assert.ok(!('copy' in phases), 'the file was not loaded a second time');
      const second = await twoPass.importFile(source(file), options('two-pass'));
      assert.deepEqual(discarded, []);
      assert.equal(first.rows, 2000);
      assert.deepEqual(first.schema, second.schema);
      assert.deepEqual(first.warnings, second.warnings);
      const earlyTable = await tableOf(handle.db, first.resource_id);
      const twoPassTable = await tableOf(handle.db, second.resource_id);
      assert.deepEqual(await storedRows(handle.db, earlyTable), await storedRows(handle.db, twoPassTable));
      assert.match((await primaryKeyOf(handle.db, earlyTable)) ?? '', /UNIQUE INDEX .* \(_id\)/);
    });

    test('binary and text COPY store the same rows', async () => {
      const file = path.join(folder.path, 'formats.csv');
      const lines = ['Paid on,Amount,Count,Settled,Recorded at,Note'];
      for (let i = 1; i <= 600; i++) {
        const amount = i % 4 === 0 ? `"-£${(i * 1234).toLocaleString('en-GB')}.0${i % 10}"` : `${i}.${i % 100}`;
        lines.push(`${String((i % 28) + 1).padStart(2, '0')}/02/2024,${amount},${i * 1_000_003},${i % 2 === 0 ? 'yes' : 'no'},2025-04-0${(i % 9) + 1}T10:${String(i % 60).padStart(2, '0')}:00Z,"tab	here ${'é'.repeat(i % 3)}"`);
      }
      fs.writeFileSync(file, `${lines.join('\n')}\n`);
      copyFormats.length = 0;
      const asText = new ImportService(handle.db, ingestFunctions, createLogger('silent'), [], { earlyLoadAfterRows: 100, binaryCopy: false });
      const withDatetime = await early.importFile(source(file), options('formats-default'));
      const textOnly = await asText.importFile(source(file), options('formats-text'));
      assert.deepEqual(
        await storedRows(handle.db, await tableOf(handle.db, withDatetime.resource_id)),
        await storedRows(handle.db, await tableOf(handle.db, textOnly.resource_id)),
      );

      // Without the datetime column every field has a binary encoder, so PostgreSQL loads the rows as binary COPY.
      const dateOnly = path.join(folder.path, 'formats-no-datetime.csv');
      fs.writeFileSync(dateOnly, lines.map((line) => line.replace(/,[^,]*T10:[^,]*,/, ',').replace('Recorded at,', '')).join('\n') + '\n');
      const binary = await early.importFile(source(dateOnly), options('formats-binary'));
      assert.deepEqual(copyFormats, ['text', engine.name === 'postgres' ? 'binary' : 'text'], 'datetime loads as text; binary only on PostgreSQL');
      const text = await asText.importFile(source(dateOnly), options('formats-binary-text'));
      assert.deepEqual(binary.schema.fields.map((field) => field.type), ['date', 'number', 'integer', 'boolean', 'string']);
      const binaryRows = await storedRows(handle.db, await tableOf(handle.db, binary.resource_id));
      assert.equal(binaryRows.length, 600);
      assert.deepEqual(binaryRows, await storedRows(handle.db, await tableOf(handle.db, text.resource_id)));
    });

    test('wrong guess loads the file again', async () => {
      discarded.length = 0;
      const file = path.join(folder.path, 'late-decimal.csv');
      const lines = ['code,amount'];
      for (let i = 1; i <= 1000; i++) lines.push(`C${i},${i === 900 ? '12.50' : String(i)}`);
      fs.writeFileSync(file, `${lines.join('\n')}\n`);
      const report = await early.importFile(source(file), options('late-decimal'));
      assert.deepEqual(discarded, ['value_did_not_fit']);
      assert.ok('copy' in phases, 'the file was loaded a second time');
      assert.equal(report.rows, 1000);
      assert.equal(report.schema.fields[1]?.type, 'number');
      const rows = await storedRows(handle.db, await tableOf(handle.db, report.resource_id));
      assert.equal(rows.length, 1000);
      assert.equal(Number(rows[899]!.amount), 12.5);
      assert.equal(Number(rows[999]!.amount), 1000);
    });

    test('failed analysis rolls back the early rows', async () => {
      const countsBefore = await catalogueCounts(handle.db);
      const tablesBefore = await datastoreTables(handle.db);
      await assert.rejects(early.importFile(source(csvWithSurplusCell(folder.path, 900, 1000)), options('surplus')), IngestError);
      assert.deepEqual(await catalogueCounts(handle.db), countsBefore);
      assert.deepEqual(await datastoreTables(handle.db), tablesBefore);
    });
  });
}
