// Writes redacted copies of the Devon County Council spending files for the sample catalogue.
//
// The published files name sole traders and fee-paid professionals. This script scans each file with the product's
// personal-data scanner, replaces every flagged cell with the redaction text, checks that a second scan finds nothing,
// and writes samples/spending/<name>-redacted.csv. The originals stay in test/fixtures/spending only.
//
// Run: node --import tsx scripts/prepare-samples.ts
import fs from 'node:fs';
import path from 'node:path';
import { formatCsv, parseCsv } from '../src/publication/csv.ts';
import { RowFixer, type PersonalDataFix } from '../src/privacy/redaction.ts';
import { scanRows } from '../src/privacy/scanner.ts';

const SOURCE_FOLDER = 'test/fixtures/spending';
const TARGET_FOLDER = 'samples/spending';
const FILES = ['DCCSpendingOver500_201706.csv', 'DCCSpendingOver500_202504.csv', 'DCCSpendingOver500_202603.csv'];

function prepare(file: string): void {
  const records = parseCsv(fs.readFileSync(path.join(SOURCE_FOLDER, file), 'utf8'));
  const [headers, ...rows] = records;
  if (!headers) throw new Error(`${file} is empty.`);

  const findings = scanRows(headers, rows);
  const fixes: PersonalDataFix[] = findings.map((finding) => ({ type: 'redact', column: finding.column, kind: finding.kind }));
  const fixer = fixes.length > 0 ? new RowFixer(headers, fixes) : null;
  const redacted = fixer ? rows.map((row) => fixer.fix(row)) : rows;

  const remaining = scanRows(headers, redacted);
  if (remaining.length > 0) {
    throw new Error(`${file} still has personal data after redaction: ${remaining.map((finding) => `${finding.column} (${finding.kind})`).join(', ')}.`);
  }
  const target = path.join(TARGET_FOLDER, file.replace(/\.csv$/, '-redacted.csv'));
  fs.writeFileSync(target, formatCsv([headers, ...redacted]));
  const cells = findings.reduce((total, finding) => total + finding.count, 0);
  process.stdout.write(`${target}: ${rows.length} rows, ${cells} cells redacted (${findings.map((finding) => `${finding.column}: ${finding.kind}`).join(', ') || 'none'})\n`);
}

fs.mkdirSync(TARGET_FOLDER, { recursive: true });
for (const file of FILES) prepare(file);
