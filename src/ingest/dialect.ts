/**
 * Delimiter sniffing: the candidate that splits the most records into the same number of fields wins, with quotes
 * respected so that commas inside quoted cells do not count.
 */
import { CsvTokenizer, type SourceRecord } from './csv-tokenizer.ts';

export const DELIMITERS = [',', ';', '\t', '|'] as const;

function isBlankRecord(cells: string[]): boolean {
  return cells.every((cell) => cell.trim().length === 0);
}

interface DelimiterScore {
  delimiter: string;
  /** Records that share the most common field count, when that count is above 1. */
  consistent: number;
  fields: number;
}

function scoreDelimiter(sample: string, delimiter: string, final: boolean): DelimiterScore {
  const tokenizer = new CsvTokenizer(delimiter, 'sample');
  const records: SourceRecord[] = [];
  try {
    tokenizer.push(sample, records);
    if (final) tokenizer.end(records);
  } catch {
    return { delimiter, consistent: 0, fields: 0 };
  }
  const counts = new Map<number, number>();
  for (const record of records) {
    if (isBlankRecord(record.cells)) continue;
    const fields = record.cells.length;
    counts.set(fields, (counts.get(fields) ?? 0) + 1);
  }
  let best: DelimiterScore = { delimiter, consistent: 0, fields: 0 };
  for (const [fields, count] of counts) {
    if (fields < 2) continue;
    if (count > best.consistent || (count === best.consistent && fields > best.fields)) {
      best = { delimiter, consistent: count, fields };
    }
  }
  return best;
}

/**
 * Picks the delimiter of a text sample (the start of the file). `final` says the sample is the whole file, so its last
 * record is complete. Comma wins ties, and a file with no candidate in it is read as one comma-separated column.
 */
export function sniffDelimiter(sample: string, final: boolean): string {
  let best: DelimiterScore = { delimiter: ',', consistent: 0, fields: 0 };
  for (const delimiter of DELIMITERS) {
    const score = scoreDelimiter(sample, delimiter, final);
    if (score.consistent > best.consistent) best = score;
  }
  return best.delimiter;
}
