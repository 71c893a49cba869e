/** Spending-shaped CSV files for the tests of the native lane, written with a deterministic generator. */
import fs from 'node:fs';
import path from 'node:path';

/** A small deterministic generator, so that every run checks the same files. */
function generator(start: number): () => number {
  let state = start;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

const SUPPLIERS = ['Acme Care Ltd', 'Café Noir', 'Łukasz Builders', '"Quoted" Services', 'Smith, Jones & Co', 'Thurrock Foodbank 🍞', 'Llŷr Consulting'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function quote(cell: string): string {
  return /[",\r\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;
}

export interface SpendingOptions {
  rows: number;
  lineEnd?: string;
  bom?: boolean;
  /** Replaces the cells of some rows, by 1-based row number among the data rows. */
  change?: (row: number, cells: string[]) => string[] | null | undefined;
  tail?: string[];
}

/** Writes a spending-shaped file: text, money, integers, codes with leading zeros and two date forms. */
export function spendingFile(folder: string, name: string, options: SpendingOptions): string {
  const random = generator(options.rows);
  const end = options.lineEnd ?? '\n';
  const lines = ['Supplier,Amount,Count,Cost centre,Paid,Period,Notes'];
  for (let row = 1; row <= options.rows; row++) {
    const pounds = Math.floor(random() * 200_000) / 100;
    const amount = random() < 0.5 ? `£${pounds.toLocaleString('en-GB', { minimumFractionDigits: 2 })}` : random() < 0.5 ? pounds.toFixed(2) : `-${pounds.toFixed(1)}`;
    const day = 1 + Math.floor(random() * 28);
    const month = 1 + Math.floor(random() * 12);
    let cells = [
      SUPPLIERS[Math.floor(random() * SUPPLIERS.length)]!,
      amount,
      String(Math.floor(random() * 2000) - 1000),
      `0${Math.floor(random() * 9000 + 1000)}`,
      `${String(day).padStart(2, '0')}/${String(month).padStart(2, '0')}/20${20 + Math.floor(random() * 6)}`,
      `${String(day).padStart(2, '0')}-${MONTHS[month - 1]}-2025`,
      random() < 0.1 ? 'Line one\nline two' : random() < 0.5 ? '' : `Note ${row}`,
    ];
    const changed = options.change?.(row, cells);
    if (changed === null) {
      lines.push('');
      continue;
    }
    if (changed) cells = changed;
    lines.push(cells.map(quote).join(','));
  }
  lines.push(...(options.tail ?? []));
  const file = path.join(folder, name);
  fs.writeFileSync(file, (options.bom ? '\ufeff' : '') + lines.join(end) + end);
  return file;
}

