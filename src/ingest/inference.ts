/**
 * Type inference over every value of a column. Each column keeps the set of types and date formats that every value so
 * far fits, and a value that breaks one removes it. At the end the narrowest survivor wins, in the order integer,
 * number, boolean, date, datetime, string.
 */
import { compileDateFormat, compileDatetimeFormat, DATE_FORMATS, DATETIME_FORMATS, type DateParser } from './dates.ts';
import { parseBoolean } from './converters.ts';
import { isIntegerText, parseDecimal, type DecimalMark } from './numbers.ts';
import type { FieldType } from './table-schema.ts';

/** Placeholders that real files put in numeric columns for a missing figure. */
const SENTINELS = new Set(['-', '–', '—', '.', '..', 'n/a', 'na', 'x', ':']);

export function isSentinel(trimmed: string): boolean {
  if (trimmed.length > 3 && trimmed.charCodeAt(0) === 42 && /^\*+$/.test(trimmed)) return true;
  return trimmed.length <= 3 && (SENTINELS.has(trimmed.toLowerCase()) || trimmed === '*');
}

interface FormatCandidate {
  format: string;
  parse: DateParser;
}

const COMPILED_DATES: FormatCandidate[] = DATE_FORMATS.map((format) => ({ format, parse: compileDateFormat(format)! }));
const COMPILED_DATETIMES: FormatCandidate[] = DATETIME_FORMATS.map((format) => ({ format, parse: compileDatetimeFormat(format)! }));

export interface InferredType {
  type: FieldType;
  format?: string;
  /** Placeholders read as null because the rest of the column is numeric. */
  missingValues?: string[];
  /** How many cells held those placeholders. */
  missingCount: number;
}

export class ColumnProfile {
  private integer = true;
  private number = true;
  private boolean = true;
  private dates: FormatCandidate[] = COMPILED_DATES;
  private datetimes: FormatCandidate[] = COMPILED_DATETIMES;
  private onlyString = false;
  private values = 0;
  private readonly sentinels = new Map<string, number>();
  /** Texts already known to fit every surviving date and datetime format; dates repeat heavily. */
  private readonly knownDates = new Set<string>();

  constructor(private readonly decimal: DecimalMark) {}

  /** True once no type but string fits, after which observe ignores further values. */
  get isTextOnly(): boolean {
    return this.onlyString;
  }

  /**
   * The decimal text of the last observed cell while every value so far has been a number, or null: what the
   * integer and number converters would return for that cell (the integer one also checks isIntegerText).
   */
  lastDecimal: string | null = null;

  /** Records one trimmed, non-blank cell. */
  observe(trimmed: string): void {
    this.lastDecimal = null;
    if (this.onlyString) return;
    if (isSentinel(trimmed)) {
      this.sentinels.set(trimmed, (this.sentinels.get(trimmed) ?? 0) + 1);
      this.boolean = false;
      this.dates = [];
      this.datetimes = [];
      this.updateOnlyString();
      return;
    }
    this.values++;

    if (this.number) {
      const decimal = parseDecimal(trimmed, this.decimal);
      this.lastDecimal = decimal;
      if (decimal === null) {
        this.integer = false;
        this.number = false;
      } else if (this.integer && !isIntegerText(decimal)) {
        this.integer = false;
      }
    }
    if (this.boolean && parseBoolean(trimmed) === null) this.boolean = false;

    const first = trimmed.charCodeAt(0);
    if (first < 48 || first > 57) {
      this.dates = [];
      this.datetimes = [];
    } else if (this.dates.length + this.datetimes.length > 0 && !this.knownDates.has(trimmed)) {
      const dates = this.dates.length > 0 ? keepMatching(this.dates, trimmed) : this.dates;
      const datetimes = this.datetimes.length > 0 ? keepMatching(this.datetimes, trimmed) : this.datetimes;
      if (dates !== this.dates || datetimes !== this.datetimes) this.knownDates.clear();
      this.dates = dates;
      this.datetimes = datetimes;
      if (this.dates.length + this.datetimes.length > 0 && this.knownDates.size < 10_000) this.knownDates.add(trimmed);
    }
    this.updateOnlyString();
  }

  private updateOnlyString(): void {
    this.onlyString = !this.number && !this.boolean && this.dates.length === 0 && this.datetimes.length === 0;
  }

  result(): InferredType {
    const missingCount = [...this.sentinels.values()].reduce((sum, count) => sum + count, 0);
    if (this.values === 0) return { type: 'string', missingCount: 0 };
    const missingValues = this.sentinels.size > 0 ? [...this.sentinels.keys()] : undefined;
    if (this.integer) return { type: 'integer', missingValues, missingCount };
    if (this.number) return { type: 'number', missingValues, missingCount };
    if (this.boolean) return { type: 'boolean', missingCount: 0 };
    if (this.dates.length > 0) return { type: 'date', format: this.dates[0]!.format, missingCount: 0 };
    if (this.datetimes.length > 0) return { type: 'datetime', format: this.datetimes[0]!.format, missingCount: 0 };
    return { type: 'string', missingCount: 0 };
  }
}

function keepMatching(candidates: FormatCandidate[], text: string): FormatCandidate[] {
  let allMatch = true;
  for (const candidate of candidates) {
    if (candidate.parse(text) === null) {
      allMatch = false;
      break;
    }
  }
  if (allMatch) return candidates;
  return candidates.filter((candidate) => candidate.parse(text) !== null);
}
