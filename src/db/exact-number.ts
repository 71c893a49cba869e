/**
 * Numbers that a JavaScript number would change. PostgreSQL's bigint stores integers beyond 2^53 and numeric stores
 * any number of digits, but a JavaScript number keeps about 17 significant digits. Such a value is read as an
 * ExactNumber, which keeps the database's text: JSON shows it as a string of that text, so no digit is lost, and
 * String() gives the same text for CSV.
 */
export class ExactNumber {
  constructor(readonly text: string) {}

  toJSON(): string {
    return this.text;
  }

  toString(): string {
    return this.text;
  }

  /** Returns the nearest JavaScript number, for arithmetic that accepts rounding. */
  valueOf(): number {
    return Number(this.text);
  }
}

/** Returns [digits without leading or trailing zeros, power of ten of the last digit] of plain or exponent text. */
function decimalParts(text: string): [string, number] {
  let body = text.startsWith('-') ? text.slice(1) : text;
  let exponent = 0;
  const e = body.search(/e/i);
  if (e >= 0) {
    exponent = Number(body.slice(e + 1));
    body = body.slice(0, e);
  }
  const point = body.indexOf('.');
  if (point >= 0) {
    exponent -= body.length - point - 1;
    body = body.slice(0, point) + body.slice(point + 1);
  }
  body = body.replace(/^0+/, '');
  const trimmed = body.replace(/0+$/, '');
  exponent += body.length - trimmed.length;
  return [trimmed, trimmed === '' ? 0 : exponent];
}

/**
 * Reads PostgreSQL's text of a bigint or numeric value: a JavaScript number when the number's shortest form has the
 * same digits and sign, so JSON shows the same value, and an ExactNumber otherwise.
 */
export function parseDatabaseNumber(text: string): number | ExactNumber {
  // Any decimal of at most 15 significant digits survives the trip through a double, so short text needs no check.
  if (text.length <= 15) return Number(text);
  const value = Number(text);
  if (!Number.isFinite(value)) return text === 'NaN' ? Number.NaN : new ExactNumber(text);
  const [digits, exponent] = decimalParts(text);
  const [shortest, shortestExponent] = decimalParts(String(value));
  const sameSign = text.startsWith('-') === (value < 0) || digits === '';
  return digits === shortest && exponent === shortestExponent && sameSign ? value : new ExactNumber(text);
}
