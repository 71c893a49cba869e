/**
 * Numbers as UK spreadsheets write them: thousands separators, a leading £ (or $ or €), a minus sign before or after
 * the symbol, accounting negatives in brackets `(300.00)`, balance marks (`250.00 CR`, `99.99 DR`, `12.00-`), padding
 * spaces, and decimal commas (`1.234,56`) in files whose delimiter is the semicolon. Parsing returns plain decimal text for PostgreSQL, never a float, so no digit of
 * a money amount is lost.
 */

export type DecimalMark = '.' | ',';

const CURRENCY = new Set(['£', '$', '€']);

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/**
 * Parses the digits of an unsigned amount. Returns [integer digits, fraction digits or '', exponent or ''], or null when
 * the text is not a number or is a code with a leading zero such as `01234`.
 */
function parseUnsigned(text: string, decimal: DecimalMark): [string, string, string] | null {
  const group = decimal === '.' ? ',' : '.';
  const n = text.length;
  let i = 0;
  let integer = '';
  let run = 0;
  let groups = 0;
  while (i < n) {
    const code = text.charCodeAt(i);
    if (isDigit(code)) {
      run++;
      i++;
      continue;
    }
    if (text[i] === group && run > 0 && (groups > 0 ? run === 3 : run <= 3)) {
      integer += text.slice(i - run, i);
      groups++;
      run = 0;
      i++;
      continue;
    }
    break;
  }
  if (groups > 0 && run !== 3) return null;
  integer += text.slice(i - run, i);

  let fraction = '';
  if (i < n && text[i] === decimal) {
    const start = ++i;
    while (i < n && isDigit(text.charCodeAt(i))) i++;
    fraction = text.slice(start, i);
    if (fraction.length === 0 && integer.length === 0) return null;
  }
  if (integer.length === 0 && fraction.length === 0) return null;

  let exponent = '';
  if (i < n && (text[i] === 'e' || text[i] === 'E') && groups === 0) {
    const start = i++;
    if (text[i] === '+' || text[i] === '-') i++;
    const digitsStart = i;
    while (i < n && isDigit(text.charCodeAt(i))) i++;
    if (i === digitsStart) return null;
    exponent = 'e' + text.slice(start + 1, i);
  }
  if (i !== n) return null;
  if (integer.length > 1 && integer.charCodeAt(0) === 48) return null;
  return [integer.length > 0 ? integer : '0', fraction, exponent];
}

/** Returns true for text PostgreSQL reads as an integer unchanged: an optional minus, then 0 or digits without a leading 0. */
function isPlainInteger(text: string): boolean {
  const start = text.charCodeAt(0) === 45 ? 1 : 0;
  const n = text.length;
  if (start === n) return false;
  if (text.charCodeAt(start) === 48) return n === start + 1;
  for (let i = start; i < n; i++) if (!isDigit(text.charCodeAt(i))) return false;
  return true;
}

/** Returns true for the UTF-16 codes of the currency symbols in CURRENCY. */
function isCurrencyCode(code: number): boolean {
  return code === 0xa3 || code === 0x24 || code === 0x20ac;
}

/**
 * Parses the forms most cells take, `1234.56`, `-1234.56` and `£1,234.50`, without the general path's intermediate
 * strings: an optional minus, an optional currency symbol, then digits with or without groups of three after the
 * first, and an optional decimal mark followed by digits. Returns undefined for any other text, including a leading
 * zero, so that parseDecimal's general path decides it.
 */
function parseCommonDecimal(text: string, decimal: DecimalMark): string | undefined {
  const n = text.length;
  const groupCode = decimal === '.' ? 0x2c : 0x2e;
  const decimalCode = decimal === '.' ? 0x2e : 0x2c;
  let i = 0;
  const negative = text.charCodeAt(0) === 0x2d;
  if (negative) i++;
  const currency = i < n && isCurrencyCode(text.charCodeAt(i));
  if (currency) i++;

  const integerStart = i;
  while (i < n && isDigit(text.charCodeAt(i))) i++;
  const firstRun = i - integerStart;
  if (firstRun === 0) return undefined;
  let integer: string | null = null;
  if (i < n && text.charCodeAt(i) === groupCode) {
    if (firstRun > 3) return undefined;
    integer = text.slice(integerStart, i);
    while (i < n && text.charCodeAt(i) === groupCode) {
      const group = i + 1;
      if (group + 3 > n) return undefined;
      for (let k = group; k < group + 3; k++) if (!isDigit(text.charCodeAt(k))) return undefined;
      i = group + 3;
      if (i < n && isDigit(text.charCodeAt(i))) return undefined;
      integer += text.slice(group, i);
    }
  }
  const integerEnd = i;
  if (text.charCodeAt(integerStart) === 48 && (integer !== null || firstRun > 1)) return undefined;

  let fractionStart = -1;
  if (i < n && text.charCodeAt(i) === decimalCode) {
    fractionStart = ++i;
    while (i < n && isDigit(text.charCodeAt(i))) i++;
    if (i === fractionStart) return undefined;
  }
  if (i !== n) return undefined;

  // Plain `1234.56` and `-1234.56` are already in PostgreSQL's form.
  if (integer === null && !currency && (decimal === '.' || fractionStart === -1)) return text;
  let magnitude = integer ?? text.slice(integerStart, integerEnd);
  if (fractionStart !== -1) magnitude += '.' + text.slice(fractionStart, n);
  return negative ? '-' + magnitude : magnitude;
}

/** Returns true when the text ends as an amount with a balance mark would: a trailing minus or the R of CR or DR. */
export function mayHaveBalanceMark(text: string): boolean {
  const last = text.charCodeAt(text.length - 1);
  return last === 0x2d || last === 0x52 || last === 0x72;
}

/**
 * Parses an amount followed by a balance mark, as finance systems print ledgers: `250.00 CR` and `1,234.56-` are
 * negative, and `99.99 DR` is positive. Only amounts with a decimal fraction take a mark, so codes such as `12CR` and
 * `2024-` are not numbers, and a mark cannot follow a sign or brackets. Returns undefined when the text has no mark.
 */
function parseMarkedAmount(text: string, decimal: DecimalMark): string | null | undefined {
  if (!mayHaveBalanceMark(text)) return undefined;
  let body: string;
  let negative: boolean;
  if (text.endsWith('-')) {
    body = text.slice(0, -1);
    negative = true;
  } else {
    const mark = text.slice(-2).toUpperCase();
    if (text.length <= 2 || (mark !== 'CR' && mark !== 'DR')) return undefined;
    body = text.slice(0, -2).trimEnd();
    negative = mark === 'CR';
  }
  if (body.length === 0 || !isDigit(body.charCodeAt(body.length - 1))) return null;
  const first = body[0];
  if (first === '-' || first === '+' || first === '\u2212' || first === '(') return null;
  const amount = parseDecimal(body, decimal);
  if (amount === null || !amount.includes('.') || amount.includes('e')) return null;
  return negative ? `-${amount}` : amount;
}

/**
 * Parses a numeric cell to decimal text such as `-1234.50`, or returns null when the cell is not a number.
 * The text must already be trimmed.
 */
export function parseDecimal(text: string, decimal: DecimalMark): string | null {
  if (isPlainInteger(text)) return text;
  const common = parseCommonDecimal(text, decimal);
  if (common !== undefined) return common;
  const marked = parseMarkedAmount(text, decimal);
  if (marked !== undefined) return marked;
  let body = text;
  let negative = false;
  if (body.length > 2 && body.startsWith('(') && body.endsWith(')')) {
    negative = true;
    body = body.slice(1, -1).trim();
  }
  let sign = body[0];
  if (sign === '-' || sign === '+' || sign === '\u2212') {
    if (negative) return null;
    negative = sign !== '+';
    body = body.slice(1).trimStart();
  }
  if (body.length > 0 && CURRENCY.has(body[0]!)) {
    body = body.slice(1).trimStart();
    sign = body[0];
    if (sign === '-' || sign === '+') {
      if (negative) return null;
      negative = sign === '-';
      body = body.slice(1);
    }
  }
  const parts = parseUnsigned(body, decimal);
  if (parts === null) return null;
  const [integer, fraction, exponent] = parts;
  const magnitude = fraction.length > 0 ? `${integer}.${fraction}${exponent}` : `${integer}${exponent}`;
  return negative ? `-${magnitude}` : magnitude;
}

/** PostgreSQL bigint holds 18 digits safely; longer integers are typed number (numeric). */
const MAX_BIGINT_DIGITS = 18;

/** Returns true when decimal text from parseDecimal is a whole number that fits bigint. */
export function isIntegerText(decimalText: string): boolean {
  for (let i = 0; i < decimalText.length; i++) {
    const code = decimalText.charCodeAt(i);
    if (code === 46 || code === 101) return false;
  }
  const digits = decimalText.startsWith('-') ? decimalText.length - 1 : decimalText.length;
  return digits <= MAX_BIGINT_DIGITS;
}
