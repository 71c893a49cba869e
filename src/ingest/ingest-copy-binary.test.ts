import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testEngines } from '../../test/helpers/engines.ts';
import { columnSqlType } from './column-names.ts';
import { BINARY_COPY_HEADER, BINARY_COPY_TRAILER, CopyBinaryWriter, daysFromCivil, supportsBinaryCopy } from './copy-binary-writer.ts';
import { CopyTextWriter } from './copy-text.ts';
import type { TableSchema } from './table-schema.ts';

const SCHEMA: TableSchema = {
  fields: [
    { name: 'label', title: 'Label', type: 'string' },
    { name: 'count', title: 'Count', type: 'integer' },
    { name: 'amount', title: 'Amount', type: 'number' },
    { name: 'paid', title: 'Paid', type: 'boolean' },
    { name: 'on', title: 'On', type: 'date', format: '%d/%m/%Y' },
    { name: 'code', title: 'Code', type: 'string', missingValues: ['n/a'] },
  ],
};

async function* chunks(...parts: Array<string | Buffer>): AsyncGenerator<string | Buffer> {
  yield* parts;
}

/** Cells as a file contains them, covering the edges of every encoder. */
const ROWS: string[][] = [
  ['plain', '0', '0', 'true', '01/01/2000', 'A1'],
  ['tab\there', '-1', '-0.00', 'no', '31/12/1999', ' 007 '],
  ['new\nline and back\\slash', '9007199254740991', '£1,234.50', 'Y', '29/02/2024', 'n/a'],
  ['unicode é – 😀', '-9007199254740993', '(300.00)', 'n', '01/01/0001', ''],
  ['', '123456789012345678', '1.5e3', 'FALSE', '31/12/9999', 'x'],
  ['  padded  ', '-123456789012345678', '1e-5', 'yes', '28/02/1900', '\\N'],
  ['carriage\rreturn', '42', '123456789012345678901234.000100', 'true', '15/10/1582', 'code'],
  ['zeros', '10000', '10000', 'false', '01/03/2000', 'z'],
  ['small', '7', '0.0001', 'true', '05/04/2025', 'y'],
  ['exp', '8', '-2.5E+2', 'true', '06/04/2025', 'e'],
  ['', '', '', '', '', ''],
];

describe('binary COPY writer', () => {
  test('days from civil dates', () => {
    assert.equal(daysFromCivil(1970, 1, 1), 0);
    assert.equal(daysFromCivil(2000, 1, 1), 10_957);
    assert.equal(daysFromCivil(1969, 12, 31), -1);
    assert.equal(daysFromCivil(2024, 2, 29) * 86_400_000, Date.UTC(2024, 1, 29));
    assert.equal(daysFromCivil(9999, 12, 31) * 86_400_000, Date.UTC(9999, 11, 31));
  });

  test('datetime schemas stay text', () => {
    assert.equal(supportsBinaryCopy(SCHEMA), true);
    assert.equal(supportsBinaryCopy({ fields: [{ name: 'at', title: 'At', type: 'datetime' }] }), false);
    assert.throws(() => new CopyBinaryWriter({ fields: [{ name: 'at', title: 'At', type: 'datetime' }] }, '.'), /load it as COPY text/);
  });

  test('value that does not fit writes nothing', () => {
    const writer = new CopyBinaryWriter(SCHEMA, '.');
    assert.equal(writer.write(ROWS[0]!), true);
    const before = writer.take().length;
    assert.equal(writer.write(['bad', 'twelve', '1', 'true', '01/01/2000', 'c']), false);
    assert.equal(writer.rows, 1);
    assert.equal(writer.pendingRows, 0);
    assert.equal(writer.take().length, 0);
    assert.ok(before > 0);
  });
});

for (const engine of testEngines()) {
  describe(`binary COPY against COPY text on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    before(async () => {
      handle = await engine.create();
    });
    after(() => handle.drop());

    test('stores the same values', async () => {
      const text = new CopyTextWriter(SCHEMA, '.');
      const binary = new CopyBinaryWriter(SCHEMA, '.');
      for (const row of ROWS) {
        assert.equal(text.write(row), true, `text writes ${JSON.stringify(row)}`);
        assert.equal(binary.write(row), true, `binary writes ${JSON.stringify(row)}`);
      }
      const columns = SCHEMA.fields.map((field) => `"${field.name}" ${columnSqlType(field)}`).join(', ');
      const stored = await handle.db.withConnection('owner', async (raw) => {
        await raw.query(`create table from_text (_id bigint, ${columns})`);
        await raw.query(`create table from_binary (_id bigint, ${columns})`);
        await raw.copyFrom('copy from_text from stdin (format text)', chunks(text.take()));
        await raw.copyFrom('copy from_binary from stdin (format binary)', chunks(Buffer.concat([BINARY_COPY_HEADER, binary.take(), BINARY_COPY_TRAILER])));
        const read = async (table: string) => (await raw.query<{ row: string }>(`select t::text as row from ${table} t order by _id`)).rows.map((row) => row.row);
        return { text: await read('from_text'), binary: await read('from_binary') };
      });
      assert.equal(stored.binary.length, ROWS.length);
      assert.deepEqual(stored.binary, stored.text);
      assert.match(stored.binary[2]!, /,1234\.50,/);
      assert.match(stored.binary[4]!, /,1500,/, '1.5e3 keeps the scale PostgreSQL gives it');
      assert.match(stored.binary[1]!, /,0\.00,/, 'negative zero is zero');
    });
  });
}
