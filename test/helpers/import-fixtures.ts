import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import type { Database } from '../../src/db/database.ts';

export const SPENDING_FIXTURES = path.resolve(import.meta.dirname, '../fixtures/spending');

export function spendingFixture(name: string): string {
  return path.join(SPENDING_FIXTURES, name);
}

/**
 * Expected facts about each real spending file, read off the files themselves: the data rows (without header, title,
 * blank and totals rows) and the typed values of chosen rows, keyed by `_id` (the row's position among data rows).
 */
export interface SpendingCase {
  file: string;
  rows: number;
  headerRow: number;
  encoding: RegExp;
  titleMetadata: string | null;
  /** Column id → expected Table Schema type. */
  types: Record<string, string>;
  /** `_id` → column id → value as the database returns it (numeric and bigint as numbers, dates as ISO text). */
  values: Record<number, Record<string, unknown>>;
  warnings: string[];
}

export const SPENDING_CASES: SpendingCase[] = [
  {
    file: 'DCCSpendingOver500_201210.csv',
    rows: 6827,
    headerRow: 1,
    encoding: /^UTF-8$/,
    titleMetadata: null,
    types: { body: 'integer', date: 'date', amount: 'number', transaction_number: 'string', expense_code: 'string', supplier_id: 'integer' },
    values: {
      1: { body: 18, date: '2012-10-03', transaction_number: 'CFADRES30069157', amount: 1424, supplier_name: '18 MARINE PARADE', expense_code: '5701', creditor_type: 'B' },
      6827: { date: '2012-10-23', amount: 1000, supplier_name: 'YOUNG DEVON', supplier_id: 251745, creditor_type: 'YTH' },
    },
    warnings: [],
  },
  {
    file: 'DCCSpendingOver500_201706.csv',
    rows: 7990,
    headerRow: 1,
    encoding: /^UTF-8$/,
    titleMetadata: null,
    types: { amount: 'number', expense_code: 'string', vat_reg_no: 'string' },
    values: {
      1: { transaction_number: 'BSS33400890', amount: 502.53, supplier_name: 'ENTERPRISE RENT-A-CAR (UK) LTD', expense_code: '3501' },
      2: { amount: 3242.98, expense_code: 'C424' },
      7990: { amount: 840, supplier_name: 'MAMHEAD VILLAGE HALL', invoice_number: 'IID-1349', vat_reg_no: null },
    },
    warnings: [],
  },
  {
    file: 'DCCSpendingOver500_202504.csv',
    rows: 237,
    headerRow: 1,
    encoding: /^UTF-8$/,
    titleMetadata: null,
    types: { date: 'date', amount: 'number', expense_code: 'string' },
    values: {
      1: { date: '2025-04-29', transaction_number: 22002769, amount: 697, expense_code: 'A11005' },
      2: { amount: 1496 },
      3: { amount: 5414.5 },
      237: { amount: 335279, supplier_name: 'NETWORK RAIL INFRASTRUCTURE LIMITED' },
    },
    warnings: [],
  },
  {
    file: 'DCCSpendingOver500_202508.csv',
    rows: 1770,
    headerRow: 1,
    encoding: /^UTF-8$/,
    titleMetadata: null,
    types: { date: 'date', amount: 'number', expense_code: 'string' },
    values: {
      1: { date: '2025-08-01', amount: 500.54, supplier_name: 'NORSE SOUTH WEST LIMITED', expense_code: 'A44038' },
      1770: { date: '2025-08-29', amount: 683423.96, supplier_name: 'WILLS BROS CIVIL ENGINEERING LIMITED', creditor_type: 'DCC CIS Suppliers' },
    },
    warnings: [],
  },
  {
    file: 'DCCSpendingOver500_202603.csv',
    rows: 3545,
    headerRow: 1,
    encoding: /^UTF-8$/,
    titleMetadata: null,
    types: { date: 'date', amount: 'number', costcuk: 'string' },
    values: {
      1: { date: '2026-03-02', amount: 519.89, costcuk: 'P0391002' },
      3545: { date: '2026-03-31', amount: 222441.16, supplier_id: 396590 },
    },
    warnings: ['summary_row_excluded'],
  },
  {
    file: 'ESCC-payment-data-Q2281011.csv',
    rows: 5767,
    headerRow: 2,
    encoding: /^(windows-1252|ISO-8859-1)$/,
    titleMetadata: 'Transparency Q2 - 01.07.11 to 30.09.11 as at 28.10.11',
    types: { name: 'string', post_code: 'string' },
    values: {
      1: { name: 'BT PLC', payment_category: 'Other Adult Services', amount: 512, document_no: 3000269947, post_code: 'NE82' },
      5766: { name: 'SEAP', amount: 12500 },
      5767: { name: 'THE OYSTER PROJECT', amount: 4920, department: "Children's Services" },
    },
    warnings: [],
  },
  {
    file: 'mth-10-january-2014.csv',
    rows: 89,
    headerRow: 3,
    encoding: /^(windows-1252|ISO-8859-1)$/,
    titleMetadata: 'Expenditure over £25,000- Payment made in January 2014',
    types: { date: 'date', amount_in_sterling: 'number', transaction_number: 'string' },
    values: {
      1: { date: '2014-01-31', supplier: 'STRYKER UK LTD', transaction_number: '0001337928', amount_in_sterling: 31896.06 },
      89: { date: '2014-01-10', supplier: 'WTON CITY COUNCIL', transaction_number: '0001341942', amount_in_sterling: 145524 },
    },
    warnings: [],
  },
];

/** A temporary folder removed by the returned function. */
export function temporaryFolder(prefix: string): { path: string; remove(): void } {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { path: folder, remove: () => fs.rmSync(folder, { recursive: true, force: true }) };
}

/** A small CSV whose line `badLine` (1-based, header is line 1) has one data cell more than the header. */
export function csvWithSurplusCell(folder: string, badLine: number, rows = 10): string {
  const lines = ['code,amount,paid_on'];
  for (let i = 1; i <= rows; i++) lines.push(`0${i},${i * 10}.50,0${(i % 9) + 1}/03/2026`);
  lines[badLine - 1] += ',surplus';
  const file = path.join(folder, `surplus-line-${badLine}.csv`);
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** Reads one row of a datastore table as the owner, so a test sees the stored values whatever the row-level scope. */
export async function readStoredRow(db: Database, tableName: string, id: number): Promise<Record<string, unknown> | undefined> {
  const { rows } = await sql<Record<string, unknown>>`select * from ${sql.table(`datastore.${tableName}`)} where _id = ${id}`.execute(db.owner);
  return rows[0];
}

export async function countStoredRows(db: Database, tableName: string): Promise<number> {
  const { rows } = await sql<{ count: number }>`select count(*)::int as count from ${sql.table(`datastore.${tableName}`)}`.execute(db.owner);
  return rows[0]!.count;
}

/** Tables in the datastore schema, as the owner sees them. */
export async function datastoreTables(db: Database): Promise<string[]> {
  const { rows } = await sql<{ tablename: string }>`select tablename from pg_tables where schemaname = 'datastore' order by tablename`.execute(db.owner);
  return rows.map((row) => row.tablename);
}

/** Counts of catalogue rows across every organisation, read as the owner (a superuser on the test engines, so row-level security does not apply). */
export async function catalogueCounts(db: Database): Promise<{ organisations: number; datasets: number; resources: number; files: number; uploads: number }> {
  const { rows } = await sql<{ organisations: number; datasets: number; resources: number; files: number; uploads: number }>`
    select (select count(*)::int from organisations) as organisations, (select count(*)::int from datasets) as datasets,
           (select count(*)::int from resources) as resources, (select count(*)::int from resource_files) as files,
           (select count(*)::int from file_uploads) as uploads`.execute(db.owner);
  return rows[0]!;
}
