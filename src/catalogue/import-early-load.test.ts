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
    /** Phases of the last import that used the early load service. */
    let phases: Record<string, number> = {};
    const folder = temporaryFolder('civic-early-load-');

    before(async () => {
      handle = await engine.create();
      const log = { write: (line: string) => {
        const entry = JSON.parse(line) as { msg?: string; reason?: string; phases_ms?: Record<string, number> };
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
