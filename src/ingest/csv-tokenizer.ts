/**
 * A streaming RFC 4180 tokenizer that also accepts what spreadsheets write: CR, LF or CRLF record ends (mixed within
 * one file), quoted cells holding delimiters, line breaks and doubled quotes, and stray text after a closing quote.
 */
import { IngestError } from './ingest.types.ts';

export interface SourceRecord {
  /** Cell texts as written, quotes removed. */
  cells: string[];
  /** 1-based physical line (CSV) or sheet row (workbook) where the record starts. */
  line: number;
}

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/** A record still open at this size means an unmatched quote has swallowed the rest of the file. */
const MAX_PENDING_CHARS = 32 * 1024 * 1024;

/** Counts line breaks, so that CRLF counts once and lone CR and lone LF count once each. */
export function countLineBreaks(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === LF) count++;
    else if (code === CR) {
      count++;
      if (text.charCodeAt(i + 1) === LF) i++;
    }
  }
  return count;
}

/** Returns the position of `search` in `text` at or after `from`, or the length of `text` when there is none. */
function indexOrEnd(text: string, search: string, from: number): number {
  const found = text.indexOf(search, from);
  return found === -1 ? text.length : found;
}

export class CsvTokenizer {
  private pending = '';
  private line = 1;
  private readonly delimiter: number;
  /** The delimiter's first UTF-16 code unit as a string for `indexOf`, or empty when no character delimits cells. */
  private readonly delimiterText: string;

  constructor(
    delimiter: string,
    private readonly filename: string,
  ) {
    this.delimiter = delimiter.charCodeAt(0);
    this.delimiterText = delimiter.charAt(0);
  }

  /** Tokenizes `text` after what earlier calls left open, appending each complete record to `out`. */
  push(text: string, out: SourceRecord[]): void {
    this.parse(this.pending.length > 0 ? this.pending + text : text, false, out);
  }

  /** The text of the record still open after the last push. */
  get openRecord(): string {
    return this.pending;
  }

  /**
   * Returns the text of the record still open after the last push and clears it, so that another reader can take
   * the input from that record's start. The line count stays at that record's first line.
   */
  takeOpenRecord(): string {
    const open = this.pending;
    this.pending = '';
    return open;
  }

  /** Counts `count` line breaks read by another reader since takeOpenRecord. */
  skipLines(count: number): void {
    this.line += count;
  }

  /** Finishes the last record at the end of the file. */
  end(out: SourceRecord[]): void {
    if (this.pending.length > 0) this.parse(this.pending, true, out);
    this.pending = '';
  }

  private parse(s: string, final: boolean, out: SourceRecord[]): void {
    const n = s.length;
    const delimiter = this.delimiter;
    const delimiterText = this.delimiterText;
    let i = 0;
    let line = this.line;
    // The first delimiter, LF and CR at or after some earlier position, or the text's length when there is none. The
    // parse searches again only after passing one, so each search covers new text and the call stays linear.
    let nextDelimiter = -1;
    let nextLf = -1;
    let nextCr = -1;

    records: while (i < n) {
      const recordStart = i;
      const recordLine = line;
      const cells: string[] = [];

      for (;;) {
        let value: string;
        if (i < n && s.charCodeAt(i) === QUOTE) {
          const contentStart = i + 1;
          let segmentStart = contentStart;
          let j = segmentStart;
          value = '';
          for (;;) {
            const quote = s.indexOf('"', j);
            if (quote === -1 || (quote + 1 >= n && !final)) {
              if (!final) return this.keepOpen(s, recordStart, recordLine);
              throw new IngestError(
                'unterminated_quote',
                `${this.filename} has a quoted cell starting on line ${recordLine} that never closes. Add the missing closing quote (") and upload the file again.`,
                { file: this.filename, line: recordLine },
              );
            }
            if (s.charCodeAt(quote + 1) === QUOTE) {
              value += s.slice(segmentStart, quote + 1);
              j = quote + 2;
              segmentStart = j;
              continue;
            }
            value += s.slice(segmentStart, quote);
            i = quote + 1;
            break;
          }
          // Most quoted cells contain no line break, which the next LF and CR positions show without scanning the value.
          if (nextLf < contentStart) nextLf = indexOrEnd(s, '\n', contentStart);
          if (nextCr < contentStart) nextCr = indexOrEnd(s, '\r', contentStart);
          if (nextLf < i || nextCr < i) line += countLineBreaks(value);
          // Text between the closing quote and the next delimiter is kept, as spreadsheets do.
          let j2 = i;
          while (j2 < n) {
            const code = s.charCodeAt(j2);
            if (code === delimiter || code === LF || code === CR) break;
            j2++;
          }
          if (j2 > i) value += s.slice(i, j2);
          i = j2;
        } else {
          // A quote inside an unquoted cell is ordinary text, so only the delimiter and line breaks end the cell.
          if (nextDelimiter < i) nextDelimiter = delimiterText === '' ? n : indexOrEnd(s, delimiterText, i);
          if (nextLf < i) nextLf = indexOrEnd(s, '\n', i);
          if (nextCr < i) nextCr = indexOrEnd(s, '\r', i);
          let end = nextDelimiter < nextLf ? nextDelimiter : nextLf;
          if (nextCr < end) end = nextCr;
          value = s.slice(i, end);
          i = end;
        }
        cells.push(value);

        if (i >= n) {
          if (!final) return this.keepOpen(s, recordStart, recordLine);
          out.push({ cells, line: recordLine });
          break records;
        }
        const code = s.charCodeAt(i);
        if (code === delimiter) {
          i++;
          if (i >= n && final) {
            cells.push('');
            out.push({ cells, line: recordLine });
            break records;
          }
          continue;
        }
        if (code === CR) {
          if (i + 1 >= n && !final) return this.keepOpen(s, recordStart, recordLine);
          i += s.charCodeAt(i + 1) === LF ? 2 : 1;
        } else {
          i++;
        }
        line++;
        out.push({ cells, line: recordLine });
        continue records;
      }
    }
    this.pending = '';
    this.line = line;
  }

  private keepOpen(s: string, recordStart: number, recordLine: number): void {
    this.pending = s.slice(recordStart);
    this.line = recordLine;
    if (this.pending.length > MAX_PENDING_CHARS) {
      throw new IngestError(
        'unterminated_quote',
        `${this.filename} has a quoted cell starting on line ${recordLine} that runs on for more than 32 million characters. Check for a missing closing quote (") on that line.`,
        { file: this.filename, line: recordLine },
      );
    }
  }
}
