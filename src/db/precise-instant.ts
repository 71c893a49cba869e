/**
 * PostgreSQL keeps times to the microsecond and a JavaScript Date to the millisecond. A timestamptz with microseconds
 * is read as a PreciseInstant, a Date that also keeps the microseconds below its milliseconds and writes all six
 * digits in toISOString (and so in JSON). Other times stay plain Dates, with the three digits they have always had.
 */
export class PreciseInstant extends Date {
  /** Microseconds after the Date's own millisecond, 1 to 999. */
  readonly extraMicroseconds: number;

  constructor(milliseconds: number, extraMicroseconds: number) {
    super(milliseconds);
    this.extraMicroseconds = extraMicroseconds;
  }

  override toISOString(): string {
    const base = super.toISOString();
    return `${base.slice(0, -1)}${String(this.extraMicroseconds).padStart(3, '0')}Z`;
  }
}

// PostgreSQL's ISO output of a timestamptz with 4 to 6 fractional digits, such as `2025-04-03 13:05:00.123456+01`.
const WITH_MICROSECONDS = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{4,6})([+-])(\d\d)(?::(\d\d))?(?::(\d\d))?$/;

/**
 * Wraps an engine's timestamptz parser so that a value with microseconds becomes a PreciseInstant. Anything else
 * (whole milliseconds, infinity, years BC or beyond 9999) goes to the engine's own parser.
 */
export function keepMicroseconds(engineParser: (text: string) => unknown): (text: string) => unknown {
  return (text) => {
    const match = WITH_MICROSECONDS.exec(text);
    if (match === null) return engineParser(text);
    const micros = Number(match[7]!.padEnd(6, '0'));
    if (micros % 1000 === 0) return engineParser(text);
    const instant = new Date(0);
    instant.setUTCFullYear(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
    instant.setUTCHours(Number(match[4]), Number(match[5]), Number(match[6]), Math.floor(micros / 1000));
    const sign = match[8] === '-' ? -1 : 1;
    const offsetSeconds = sign * (Number(match[9]) * 3600 + Number(match[10] ?? 0) * 60 + Number(match[11] ?? 0));
    return new PreciseInstant(instant.getTime() - offsetSeconds * 1000, micros % 1000);
  };
}
