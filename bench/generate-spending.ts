/**
 * Writes a spending-shaped CSV in the Devon County Council "spending over £500" layout: 13 columns, day-first dates,
 * amounts written as quoted `£1,234.50`, expense codes with leading zeros and a quoted creditor type with commas.
 * Values come from a fixed-seed generator, so every run writes the same file.
 *
 *   node --import tsx bench/generate-spending.ts [rows] [path]     (default 1,000,000 rows to a temporary file)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SPENDING_HEADER =
  'Body,Name of Body,Date,Transaction Number,Invoice Number,Amount,Supplier Name,Supplier ID,VAT Reg no,Expense Area,Expense Type,Expense Code,Creditor Type';

const AREAS = ['People Services', 'Corporate Services', 'Capital Spending', "Children's Services", 'Place', 'Public Health'];
const TYPES = ['Care Spot - Private (3rd)', 'Hire of Vehicles (Non TCS)', 'Grants Paid', 'Agency Supply Staff', 'Works', 'External Professional Fees'];
const CREDITORS = ['"DCC Business Entities (Sole Trade, Partnership, Ltd)"', 'DCC CIS Suppliers', 'LTD', 'BUSN'];

/** A 32-bit linear congruential generator (Numerical Recipes constants); quality is irrelevant here, repeatability is not. */
function makeRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state;
  };
}

function money(pence: number): string {
  const pounds = Math.floor(pence / 100).toLocaleString('en-GB');
  return `"£${pounds}.${String(pence % 100).padStart(2, '0')}"`;
}

/** Writes `rows` data rows after the header to `filePath` (CRLF line ends) and returns the file's size in bytes. */
export async function generateSpendingCsv(filePath: string, rows: number): Promise<number> {
  const random = makeRandom(20121003);
  const out = fs.createWriteStream(filePath);
  const write = async (text: string) => {
    if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  };
  await write(`${SPENDING_HEADER}\r\n`);
  let lines: string[] = [];
  for (let i = 1; i <= rows; i++) {
    const r = random();
    const day = String((r % 28) + 1).padStart(2, '0');
    const month = String(((r >>> 5) % 12) + 1).padStart(2, '0');
    const supplier = (r >>> 9) % 20_000;
    const pence = 50_000 + (random() % 25_000_000);
    lines.push(
      [
        '18',
        'Devon County Council',
        `${day}/${month}/2025`,
        `CFADRES${30_000_000 + i}`,
        `INV-${(r >>> 3) % 99_991}`,
        money(pence),
        `SUPPLIER ${supplier} LTD`,
        String(100_000 + supplier),
        supplier % 3 === 0 ? '' : String(100_000_000 + supplier * 37),
        AREAS[r % AREAS.length],
        TYPES[(r >>> 4) % TYPES.length],
        `0${String(4000 + ((r >>> 7) % 900))}`,
        CREDITORS[(r >>> 11) % CREDITORS.length],
      ].join(','),
    );
    if (lines.length === 10_000) {
      await write(`${lines.join('\r\n')}\r\n`);
      lines = [];
    }
  }
  if (lines.length > 0) await write(`${lines.join('\r\n')}\r\n`);
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  return fs.statSync(filePath).size;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const rows = Number(process.argv[2] ?? 1_000_000);
  if (!Number.isSafeInteger(rows) || rows < 1) {
    console.error(`Invalid row count "${process.argv[2]}": give a whole number of rows, such as 1000000.`);
    process.exit(2);
  }
  const target = process.argv[3] ?? path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'civic-spending-')), 'spending.csv');
  const bytes = await generateSpendingCsv(target, rows);
  console.log(`${target}: ${rows.toLocaleString('en-GB')} rows, ${(bytes / 1_048_576).toFixed(1)} MB`);
}
