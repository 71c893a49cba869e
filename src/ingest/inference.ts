/**
 * Type inference over every value of a column. Each column keeps the set of types and date formats that every value so
 * far fits, and a value that breaks one removes it. At the end the narrowest survivor wins, in the order integer,
 * number, number with per cent signs, boolean, date, datetime, string.
 */
import { compileDateFormat, compileDatetimeFormat, DATE_FORMATS, DATETIME_FORMATS, type DateParser } from './dates.ts';
import { parseBoolean, withoutPercentSign } from './converters.ts';
import { isIntegerText, mayHaveBalanceMark, parseDecimal, type DecimalMark } from './numbers.ts';
import type { FieldType } from './table-schema.ts';

/** Placeholders that real files put in numeric columns for a missing figure. */
const SENTINELS = new Set(['-', '–', '—', '.', '..', 'n/a', 'na', 'x', ':']);

/**
 * Codes such as `12E4`, which would read as numbers in exponent notation. Excel and LibreOffice write an exponent with
 * a sign (`1.2E+11`), so digits, an E and digits with no sign are taken as a code, and keep their column as text.
 */
const EXPONENT_CODE = /^\d+[eE]\d+$/;

/** Formula errors as Excel and LibreOffice show them. A spreadsheet saved as CSV keeps them as text. */
const FORMULA_ERRORS = new Set(['#N/A', '#DIV/0!', '#VALUE!', '#REF!', '#NAME?', '#NUM!', '#NULL!', '#SPILL!', '#CALC!']);

export function isSentinel(trimmed: string): boolean {
  const first = trimmed.charCodeAt(0);
  if (first === 35) return FORMULA_ERRORS.has(trimmed);
  // LibreOffice shows other errors as Err: and a three-digit code, such as Err:502.
  if (first === 69 && trimmed.length === 7 && /^Err:\d{3}$/.test(trimmed)) return true;
  if (trimmed.length > 3 && trimmed.charCodeAt(0) === 42 && /^\*+$/.test(trimmed)) return true;
  return trimmed.length <= 3 && (SENTINELS.has(trimmed.toLowerCase()) || trimmed === '*');
}

interface FormatCandidate {
  format: string;
  parse: DateParser;
}

const COMPILED_DATES: FormatCandidate[] = DATE_FORMATS.map((format) => ({ format, parse: compileDateFormat(format)! }));
const COMPILED_DATETIMES: FormatCandidate[] = DATETIME_FORMATS.map((format) => ({ format, parse: compileDatetimeFormat(format)! }));

/** A value that kept a column from a narrower type, with the line (or sheet row) it is on. */
export interface StrayValue {
  value: string;
  line: number;
}

/**
 * The few values that kept an otherwise numeric or date column as text: at most MAX_STRAY_VALUES, or 1% of the
 * column's values when that is more, and never more than a quarter of them.
 */
export interface StrayValues {
  /** The type the column would have without them. */
  wouldBe: 'number' | 'date';
  count: number;
  /** The first few, in file order. */
  examples: StrayValue[];
}

/** Stray values a column may have and still be reported as "numeric but for", when 1% of its values is fewer. */
export const MAX_STRAY_VALUES = 5;
/** Stray values kept as examples for the warning. */
const STRAY_EXAMPLES = 5;

/** Counts the values that do not fit one type, while they are few enough to be slips rather than text. */
class StrayTracker {
  count = 0;
  readonly examples: StrayValue[] = [];
  /** False once there are too many strays for the column to be that type; the tracker then stops. */
  alive = true;

  add(value: string, line: number, observed: number): void {
    this.count++;
    if (this.examples.length < STRAY_EXAMPLES) this.examples.push({ value, line });
    // Gives up once strays pass a quarter of the values so far, so text columns stop costing a parse per cell.
    // NOTE: a column whose few slips all come in its first rows is therefore not reported.
    if (this.count > MAX_STRAY_VALUES && this.count * 4 > observed) this.alive = false;
  }

  /** Returns whether the strays are few enough, out of `observed` values, to report. */
  isFew(observed: number): boolean {
    const allowed = Math.max(MAX_STRAY_VALUES, Math.floor(observed / 100));
    return this.alive && this.count > 0 && this.count <= allowed && this.count * 4 <= observed;
  }
}

export interface InferredType {
  type: FieldType;
  /** Set when the column is text only because of a few values that are not numbers or not dates. */
  strays?: StrayValues;
  format?: string;
  /** False for numbers written with per cent signs, the meaning of Table Schema's `bareNumber` false. */
  bareNumber?: false;
  /** The first amount with a balance mark (`250.00 CR`) in a number column, whose sign the mark decided. */
  balanceMarked?: string;
  /** Placeholders read as null because the rest of the column is numeric. */
  missingValues?: string[];
  /** How many cells held those placeholders. */
  missingCount: number;
}

export class ColumnProfile {
  private integer = true;
  private number = true;
  private boolean = true;
  /** True while every value is a number, some followed by a per cent sign (`12.5%`). */
  private percent = true;
  private percentSigns = 0;
  /** The first value that parsed as a number because of its balance mark, such as `250.00 CR`. */
  private balanceMarked: string | undefined;
  private dates: FormatCandidate[] = COMPILED_DATES;
  private datetimes: FormatCandidate[] = COMPILED_DATETIMES;
  private onlyString = false;
  private values = 0;
  private readonly sentinels = new Map<string, number>();
  /** Non-blank values that are not missing-value markers, including those observed after the column became text. */
  private observed = 0;
  private readonly numberStrays = new StrayTracker();
  private readonly dateStrays = new StrayTracker();
  /** Date formats that every value fits, leaving out the stray values. */
  private nearDates: FormatCandidate[] = COMPILED_DATES;
  /** Texts already known to fit every surviving date and datetime format; dates repeat heavily. */
  private readonly knownDates = new Set<string>();

  constructor(private readonly decimal: DecimalMark) {}

  /** True once no type but string fits and too many values are strays to report, after which observe ignores values. */
  get isTextOnly(): boolean {
    return this.onlyString && !this.numberStrays.alive && !this.dateStrays.alive;
  }

  /**
   * The decimal text of the last observed cell while every value so far has been a number, or null: what the
   * integer and number converters would return for that cell (the integer one also checks isIntegerText).
   */
  lastDecimal: string | null = null;

  /**
   * Returns the type this column has settled on, or null while a value could still change more than the counts. Once
   * settled, a value of that type changes only the counts that addSettledValues raises. A text column settles when
   * observe ignores values, and an integer, number or date column when no other type and no stray tracking remain.
   */
  settledType(): 'text' | 'integer' | 'number' | 'date' | null {
    if (this.isTextOnly) return 'text';
    if (this.onlyString || this.boolean || this.datetimes.length > 0) return null;
    if (this.number) {
      if (this.dates.length > 0 || this.dateStrays.alive) return null;
      return this.integer ? 'integer' : 'number';
    }
    if (this.percent || this.dates.length === 0 || this.numberStrays.alive) return null;
    return 'date';
  }

  /** The date formats every value so far fits, in order of preference. */
  get dateFormats(): string[] {
    return this.dates.map((candidate) => candidate.format);
  }

  /**
   * Counts `count` values of the settled type (see settledType) that were checked elsewhere: what observe would do
   * for each of them.
   */
  addSettledValues(count: number): void {
    this.lastDecimal = null;
    if (this.isTextOnly || count === 0) return;
    this.values += count;
    this.observed += count;
  }

  /** Records one trimmed, non-blank cell found on `line` of the file (or row of the sheet). */
  observe(trimmed: string, line = 0): void {
    this.lastDecimal = null;
    if (this.isTextOnly) return;
    if (isSentinel(trimmed)) {
      if (this.onlyString) return;
      this.sentinels.set(trimmed, (this.sentinels.get(trimmed) ?? 0) + 1);
      this.boolean = false;
      this.dates = [];
      this.datetimes = [];
      this.updateOnlyString();
      return;
    }
    this.observed++;
    if (this.onlyString) {
      this.trackStrays(trimmed, line, undefined);
      return;
    }
    this.values++;
    const numberBefore = this.number;

    if (this.number) {
      let decimal = parseDecimal(trimmed, this.decimal);
      // Only numbers written with an exponent take the code test, which keeps it off the common path.
      if (decimal !== null && decimal.includes('e') && EXPONENT_CODE.test(trimmed)) decimal = null;
      this.lastDecimal = decimal;
      if (decimal === null) {
        this.integer = false;
        this.number = false;
      } else {
        if (this.integer && !isIntegerText(decimal)) this.integer = false;
        if (this.balanceMarked === undefined && mayHaveBalanceMark(trimmed)) this.balanceMarked = trimmed;
      }
    }
    if (this.percent) this.observePercent(trimmed, numberBefore ? this.lastDecimal : undefined);
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
    this.trackStrays(trimmed, line, numberBefore ? this.lastDecimal : undefined, this.dates.length > 0);
  }

  /** Keeps the per cent type while the value is a number with or without a per cent sign. */
  private observePercent(trimmed: string, decimal: string | null | undefined): void {
    const body = withoutPercentSign(trimmed);
    if (body !== trimmed) {
      this.percentSigns++;
      if (parseDecimal(body, this.decimal) === null) this.percent = false;
    } else if ((decimal === undefined ? parseDecimal(trimmed, this.decimal) : decimal) === null) {
      this.percent = false;
    }
  }

  /**
   * Counts the value as a stray for the number and date types it does not fit. `decimal` is the parse the caller made
   * already, or undefined when it made none, and `fitsDates` is true when every value so far fits a date format.
   */
  private trackStrays(trimmed: string, line: number, decimal: string | null | undefined, fitsDates = false): void {
    if (this.numberStrays.alive) {
      const parsed = decimal === undefined ? parseDecimal(trimmed, this.decimal) : decimal;
      if (parsed === null) this.numberStrays.add(trimmed, line, this.observed);
    }
    if (fitsDates) {
      this.nearDates = this.dates;
    } else if (this.dateStrays.alive) {
      const first = trimmed.charCodeAt(0);
      const matching = first < 48 || first > 57 ? [] : keepMatching(this.nearDates, trimmed);
      if (matching.length === 0) this.dateStrays.add(trimmed, line, this.observed);
      else this.nearDates = matching;
    }
  }

  private updateOnlyString(): void {
    this.onlyString = !this.number && !this.percent && !this.boolean && this.dates.length === 0 && this.datetimes.length === 0;
  }

  result(): InferredType {
    const missingCount = [...this.sentinels.values()].reduce((sum, count) => sum + count, 0);
    if (this.values === 0) return { type: 'string', missingCount: 0 };
    const missingValues = this.sentinels.size > 0 ? [...this.sentinels.keys()] : undefined;
    if (this.integer) return { type: 'integer', missingValues, missingCount };
    if (this.number) return { type: 'number', missingValues, missingCount, ...(this.balanceMarked === undefined ? {} : { balanceMarked: this.balanceMarked }) };
    if (this.percent && this.percentSigns > 0) return { type: 'number', bareNumber: false, missingValues, missingCount };
    if (this.boolean) return { type: 'boolean', missingCount: 0 };
    if (this.dates.length > 0) return { type: 'date', format: this.dates[0]!.format, missingCount: 0 };
    if (this.datetimes.length > 0) return { type: 'datetime', format: this.datetimes[0]!.format, missingCount: 0 };
    return { type: 'string', missingCount: 0, ...this.strayResult() };
  }

  private strayResult(): { strays?: StrayValues } {
    if (this.numberStrays.isFew(this.observed)) return { strays: { wouldBe: 'number', count: this.numberStrays.count, examples: this.numberStrays.examples } };
    if (this.dateStrays.isFew(this.observed)) return { strays: { wouldBe: 'date', count: this.dateStrays.count, examples: this.dateStrays.examples } };
    return {};
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
