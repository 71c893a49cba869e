import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseTableSchema } from '../catalogue/schema-input.ts';
import { analyseFile } from './analyse.ts';
import { IngestError, type ValuePosition } from './ingest.types.ts';
import { column, fixture, load } from './ingest.test-support.ts';
import type { TableSchema } from './table-schema.ts';

const source = fixture('ingest', 'schema-check.csv');

describe('user-supplied Table Schema', () => {
  it('overrides inference when every value fits', async () => {
    const schema: TableSchema = { fields: [{ name: 'amount', title: 'Amount', type: 'string' }] };
    const loaded = await load(fixture('ingest', 'money.csv'), { schema });
    assert.equal(loaded.analysis.schema.fields[1]!.type, 'string');
    assert.deepEqual(column(loaded, 'amount'), ['£1,234.50', '-£25', '(300.00)', ' 519.89 ', '1,000']);
  });

  it('reads per cent signs when bareNumber is false', async () => {
    const schema = parseTableSchema(JSON.stringify({ fields: [{ name: 'turnout', title: 'Turnout', type: 'number', bareNumber: false }] }), 'schema.json');
    assert.equal(schema.fields[0]!.bareNumber, false);
    const loaded = await load(fixture('ingest', 'percentages.csv'), { schema });
    assert.deepEqual(column(loaded, 'turnout'), ['34.5', '28', '41']);

    for (const field of [{ name: 'turnout', type: 'number', bareNumber: 'no' }, { name: 'ward', type: 'string', bareNumber: false }]) {
      assert.throws(() => parseTableSchema(JSON.stringify({ fields: [field] }), 'schema.json'), /fields\[0\]\.bareNumber of field "\w+" must be true or false, on a number or integer field/);
    }
  });

  it('reads the load report schema back', async () => {
    const first = await load(fixture('ingest', 'sentinels.csv'));
    const saved = parseTableSchema(JSON.stringify(first.analysis.schema), 'schema.json');
    assert.deepEqual(saved.fields[1]!.missingValues, first.analysis.schema.fields[1]!.missingValues);

    const second = await load(fixture('ingest', 'sentinels.csv'), { schema: saved });
    assert.deepEqual(column(second, 'count'), column(first, 'count'));
  });

  it('reads trueValues, falseValues and decimalChar', async () => {
    const booleans = parseTableSchema(JSON.stringify({ fields: [{ name: 'bit', type: 'boolean', trueValues: ['1'], falseValues: ['0'] }] }), 'schema.json');
    assert.deepEqual(column(await load(fixture('ingest', 'booleans.csv'), { schema: booleans }), 'bit'), ['t', 'f', 't']);

    const decimals = parseTableSchema(JSON.stringify({ fields: [{ name: 'rate', type: 'number', decimalChar: ',' }] }), 'schema.json');
    assert.deepEqual(column(await load(fixture('ingest', 'quoted-decimal-comma.csv'), { schema: decimals }), 'rate'), ['1.5', '2.25']);
  });

  it('rejects invalid value options', () => {
    const cases: Array<[object, RegExp]> = [
      [{ name: 'bit', type: 'boolean', trueValues: 'yes' }, /fields\[0\]\.trueValues of field "bit" must be a list of text values, on a boolean field/],
      [{ name: 'rate', type: 'string', falseValues: ['no'] }, /fields\[0\]\.falseValues of field "rate" must be a list of text values, on a boolean field/],
      [{ name: 'rate', type: 'number', decimalChar: ';' }, /fields\[0\]\.decimalChar of field "rate" must be "\." or ",", on a number or integer field/],
      [{ name: 'rate', type: 'number', missingValues: [0] }, /fields\[0\]\.missingValues of field "rate" must be a list of text values/],
    ];
    for (const [field, message] of cases) assert.throws(() => parseTableSchema(JSON.stringify({ fields: [field] }), 'schema.json'), message);
  });

  it('rejects invalid constraints', () => {
    const cases: Array<[object, RegExp]> = [
      [{ pattern: '[a-' }, /fields\[0\]\.constraints\.pattern of field "ref" must be a valid regular expression \(Invalid regular expression/],
      [{ pattern: 5 }, /fields\[0\]\.constraints\.pattern of field "ref" must be a regular expression as text/],
      [{ enum: 'open' }, /fields\[0\]\.constraints\.enum of field "ref" must be a list of at least one text or number value/],
      [{ enum: [] }, /fields\[0\]\.constraints\.enum of field "ref" must be a list of at least one text or number value/],
      [{ unique: 'yes' }, /fields\[0\]\.constraints\.unique of field "ref" must be true or false/],
      [{ minLength: 'x' }, /fields\[0\]\.constraints\.minLength of field "ref" must be a whole number of 0 or more/],
      [{ minimum: [1] }, /fields\[0\]\.constraints\.minimum of field "ref" must be a number or text/],
    ];
    for (const [constraints, message] of cases) {
      assert.throws(() => parseTableSchema(JSON.stringify({ fields: [{ name: 'ref', type: 'string', constraints }] }), 'schema.json'), message);
    }

    const valid = { required: true, unique: false, minLength: 1, maxLength: 8, pattern: '[A-Z]+', enum: ['AB', 12] };
    const schema = parseTableSchema(JSON.stringify({ fields: [{ name: 'ref', type: 'string', constraints: valid }] }), 'schema.json');
    assert.deepEqual(schema.fields[0]!.constraints, valid);
  });

  it('checks a primary key', async () => {
    const single = parseTableSchema(JSON.stringify({ fields: [{ name: 'ref', type: 'string' }], primaryKey: 'ref' }), 'schema.json');
    assert.deepEqual(single.fields[0]!.constraints, { required: true, unique: true });
    const error = await analyseFile(source, { schema: single }).then(
      () => assert.fail('the file was accepted'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof IngestError);
    assert.equal(error.code, 'schema_violation');
    assert.match(error.message, /column "Ref" on line 4 is missing but the field is required/);

    const duplicate = await analyseFile(fixture('ingest', 'duplicate-keys.csv'), { schema: single }).then(
      () => assert.fail('the file was accepted'),
      (caught: unknown) => caught,
    );
    assert.ok(duplicate instanceof IngestError);
    assert.match(duplicate.message, /column "Ref" on line 4 \(value "A1"\) repeats a value that must be unique/);

    const composite = { fields: [{ name: 'ref', type: 'string' }, { name: 'status', type: 'string' }], primaryKey: ['ref', 'status'] };
    const parsed = parseTableSchema(JSON.stringify(composite), 'schema.json');
    assert.deepEqual(parsed.fields.map((field) => field.constraints), [{ required: true }, { required: true }]);
  });

  it('checks a primary key of two fields', async () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'civic-key-'));
    try {
      const file = path.join(folder, 'cases.csv');
      const schema = parseTableSchema(JSON.stringify({ fields: [{ name: 'ref', type: 'string' }, { name: 'year', type: 'integer' }], primaryKey: ['ref', 'year'] }), 'schema.json');
      fs.writeFileSync(file, 'Ref,Year,Amount\nA1,2024,1\nA1,2025,2\nA2,2024,3\n');
      const accepted = await analyseFile({ path: file, filename: 'cases.csv' }, { schema });
      assert.equal(accepted.rows, 3);

      // "2,024" converts to the same integer, so the pair repeats line 2.
      fs.writeFileSync(file, 'Ref,Year,Amount\nA1,2024,1\nA1,2025,2\nA1,"2,024",3\n');
      const error = await analyseFile({ path: file, filename: 'cases.csv' }, { schema }).then(
        () => assert.fail('the file was accepted'),
        (caught: unknown) => caught,
      );
      assert.ok(error instanceof IngestError);
      assert.equal(error.location.line, 4);
      assert.match(error.message, /^A value in cases\.csv does not fit the Table Schema: column "Ref" on line 4 repeats the primary key \(ref, year\) of line 2: "A1", "2024"\./);
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });

  it('rejects date formats it cannot read', () => {
    const cases: Array<[object, RegExp]> = [
      [{ name: 'paid', type: 'date', format: 'DD/MM/YYYY' }, /fields\[0\]\.format "DD\/MM\/YYYY" of field "paid" is not a date format that can be read\. Use default/],
      [{ name: 'paid', type: 'date', format: '%d/%m/%Q' }, /fields\[0\]\.format "%d\/%m\/%Q" of field "paid" is not a date format/],
      [{ name: 'paid', type: 'datetime', format: '%Y-%m-%d %H:%M' }, /fields\[0\]\.format "%Y-%m-%d %H:%M" of field "paid" is not a datetime format that can be read/],
    ];
    for (const [field, message] of cases) assert.throws(() => parseTableSchema(JSON.stringify({ fields: [field] }), 'schema.json'), message);

    for (const [type, format] of [['date', '%d %B %Y'], ['date', 'any'], ['datetime', '%d/%m/%Y %H:%M'], ['datetime', 'default']]) {
      const schema = parseTableSchema(JSON.stringify({ fields: [{ name: 'paid', type, format }] }), 'schema.json');
      assert.equal(schema.fields[0]!.format, format);
    }
  });

  it('matches a field by its title', async () => {
    const schema: TableSchema = { fields: [{ name: 'paid', title: 'Date', type: 'date', format: '%d/%m/%Y' }] };
    const loaded = await load(fixture('ingest', 'preamble.csv'), { schema });
    assert.deepEqual(column(loaded, 'paid'), ['2025-04-05', '2025-04-06']);
  });

  it('reports every value that breaks it by line and column', async () => {
    const schema: TableSchema = {
      fields: [
        { name: 'ref', title: 'Ref', type: 'string', constraints: { required: true } },
        { name: 'paid_on', title: 'Paid on', type: 'date', format: '%d/%m/%Y' },
        { name: 'amount', title: 'Amount', type: 'number', constraints: { minimum: 0 } },
        { name: 'status', title: 'Status', type: 'string', constraints: { enum: ['open', 'closed'] } },
      ],
    };
    const error = await analyseFile(source, { schema }).then(
      () => assert.fail('the file was accepted'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof IngestError);
    assert.equal(error.code, 'schema_violation');
    assert.equal(error.location.line, 3);
    assert.equal(error.location.column, 'Paid on');
    const message = error.message;
    assert.match(message, /^5 values in schema-check\.csv do not fit/);
    assert.match(message, /column "Paid on" on line 3 "not a date" is not a valid date in the form %d\/%m\/%Y/);
    assert.match(message, /column "Ref" on line 4 is missing but the field is required/);
    assert.match(message, /column "Amount" on line 4 "abc" is not a valid number/);
    assert.match(message, /column "Amount" on line 5 \(value "-5"\) is below the minimum 0/);
    assert.match(message, /column "Status" on line 5 \(value "maybe"\) is not one of the allowed values/);
  });

  it('rejects a field the file does not have', async () => {
    const schema: TableSchema = { fields: [{ name: 'postcode', title: 'Postcode', type: 'string' }] };
    await assert.rejects(analyseFile(source, { schema }), { code: 'schema_mismatch' });
  });

  it('rejects an invalid field name', async () => {
    const schema: TableSchema = { fields: [{ name: 'Paid On', title: 'Paid on', type: 'date' }] };
    await assert.rejects(analyseFile(source, { schema }), { code: 'schema_invalid' });
  });

  it('rejects names not starting with letters', async () => {
    // A `__proto__` field would set the prototype of the objects that carry each row, and `_id` is the row id.
    for (const name of ['__proto__', '_id', '_paid_on', '1st_paid']) {
      const schema: TableSchema = { fields: [{ name, title: 'Paid on', type: 'date' }] };
      await assert.rejects(analyseFile(source, { schema }), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'schema_invalid');
        assert.match(error.message, new RegExp(`"${name}", which is not a valid column id\\. Use lower case letters, digits and underscores, starting with a letter`));
        return true;
      });
    }
  });
});

describe('analysis hooks', () => {
  it('shows every loaded value to onValue', async () => {
    const seen: Array<[string, ValuePosition]> = [];
    await analyseFile(fixture('ingest', 'totals.csv'), { onValue: (value, position) => seen.push([value, position]) });
    assert.equal(seen.length, 6);
    assert.deepEqual(seen[5], ['250.50', { rowId: 2, line: 3, fieldIndex: 2, column: 'amount' }]);
  });

  it('reports progress up to the file size', async () => {
    const progress: Array<[number, number]> = [];
    const analysis = await analyseFile(fixture('ingest', 'utf8-late.csv'), { onProgress: (read, total) => progress.push([read, total]) });
    assert.ok(progress.length > 0);
    assert.deepEqual(progress.at(-1), [analysis.byte_size, analysis.byte_size]);
  });
});
