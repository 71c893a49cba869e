/**
 * Measures rows per second of analyseFile and copyRows on a generated spending-shaped CSV (13 columns, UK dates,
 * quoted money with thousands separators). The file is written to a temporary folder and deleted afterwards.
 *
 *   node --import tsx bench/ingest-throughput.ts [rows]     (default 1,000,000 rows)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { analyseFile, copyRows } from '../src/ingest/index.ts';

const rowCount = Number(process.argv[2] ?? 1_000_000);
const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'civic-ingest-bench-'));
const file = path.join(folder, 'spending.csv');

async function writeFile(): Promise<void> {
  const out = fs.createWriteStream(file);
  out.write('Body,Name of Body,Date,Transaction Number,Invoice Number,Amount,Supplier Name,Supplier ID,VAT Reg no,Expense Area,Expense Type,Expense Code,Creditor Type\r\n');
  let lines: string[] = [];
  for (let i = 1; i <= rowCount; i++) {
    const day = String((i % 28) + 1).padStart(2, '0');
    const pounds = 500 + ((i * 7919) % 250_000);
    const amount = pounds >= 1000 ? `"${Math.floor(pounds / 1000)},${String(pounds % 1000).padStart(3, '0')}.${String(i % 100).padStart(2, '0')}"` : `${pounds}.${String(i % 100).padStart(2, '0')}`;
    lines.push(`18,Thurrock Council,${day}/04/2025,TRN${i},INV-${i % 9973},${amount},Supplier ${i % 4999} Ltd,${100000 + (i % 4999)},GB${123456789 + (i % 1000)},Adults Housing and Health,Agency staff,A${11000 + (i % 90)},"Business Entities (Sole Trade, Partnership, Ltd)"`);
    if (lines.length === 10_000) {
      if (!out.write(lines.join('\r\n') + '\r\n')) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      lines = [];
    }
  }
  if (lines.length > 0) out.write(lines.join('\r\n') + '\r\n');
  await new Promise<void>((resolve) => out.end(() => resolve()));
}

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MB`;
}

try {
  await writeFile();
  const source = { path: file, filename: 'spending.csv' };
  const size = fs.statSync(file).size;
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 100);

  let started = performance.now();
  const analysis = await analyseFile(source);
  const analyseSeconds = (performance.now() - started) / 1000;

  started = performance.now();
  let bytes = 0;
  for await (const chunk of copyRows(source, analysis)) bytes += chunk.length;
  const copySeconds = (performance.now() - started) / 1000;
  clearInterval(sampler);

  console.log(`file: ${analysis.rows.toLocaleString('en-GB')} rows, ${megabytes(size)}, types ${analysis.schema.fields.map((f) => f.type).join(' ')}`);
  console.log(`analyseFile: ${analyseSeconds.toFixed(1)} s, ${Math.round(analysis.rows / analyseSeconds).toLocaleString('en-GB')} rows/s`);
  console.log(`copyRows:    ${copySeconds.toFixed(1)} s, ${Math.round(analysis.rows / copySeconds).toLocaleString('en-GB')} rows/s, ${megabytes(bytes)} of COPY text`);
  console.log(`peak resident memory: ${megabytes(peakRss)}`);
} finally {
  fs.rmSync(folder, { recursive: true, force: true });
}
