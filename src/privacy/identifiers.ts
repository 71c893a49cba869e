/**
 * Checks for UK personal identifiers in one cell. Each function is pure and returns only whether the value holds the
 * identifier (or the matching substrings), never logs or stores it.
 */

/** NHS number check digit: modulus 11 over the first nine digits with weights 10 down to 2 (NHS Data Dictionary). */
export function isValidNhsNumber(digits: string): boolean {
  if (!/^\d{10}$/.test(digits)) return false;
  let total = 0;
  for (let index = 0; index < 9; index += 1) total += Number(digits[index]) * (10 - index);
  const remainder = total % 11;
  const check = remainder === 0 ? 0 : 11 - remainder;
  // A computed check digit of 10 means the number was never issued.
  if (check === 10) return false;
  return check === Number(digits[9]);
}

const SEPARATED_NHS = /(?<![\d-])(\d{3})([ -])(\d{3})\2(\d{4})(?![\d-])/g;
const PLAIN_TEN_DIGITS = /(?<![\d.,-])\d{10}(?![\d.,-])/g;

/** NHS numbers written 3-3-4 with spaces or dashes that pass the check digit. */
export function findSeparatedNhsNumbers(value: string): number {
  let found = 0;
  for (const match of value.matchAll(SEPARATED_NHS)) {
    if (isValidNhsNumber(`${match[1]}${match[3]}${match[4]}`)) found += 1;
  }
  return found;
}

/** Counts of bare ten-digit runs in a value and how many of them pass the NHS check digit. */
export function countPlainTenDigitRuns(value: string): { runs: number; valid: number } {
  let runs = 0;
  let valid = 0;
  for (const match of value.matchAll(PLAIN_TEN_DIGITS)) {
    runs += 1;
    if (isValidNhsNumber(match[0])) valid += 1;
  }
  return { runs, valid };
}

// National Insurance number format (HMRC National Insurance Manual NIM39110): neither prefix letter is D, F, I, Q, U
// or V, the second is not O, some pairs are never allocated, then six digits and a suffix A to D.
const NI_NUMBER = /(?<![A-Za-z0-9])([A-CEGHJ-PR-TW-Z])([A-CEGHJ-NPR-TW-Z]) ?(\d{2}) ?(\d{2}) ?(\d{2}) ?([A-D])(?![A-Za-z0-9])/g;
const UNALLOCATED_NI_PREFIXES = new Set(['BG', 'GB', 'NK', 'KN', 'TN', 'NT', 'ZZ']);

export function containsNationalInsuranceNumber(value: string): boolean {
  for (const match of value.toUpperCase().matchAll(NI_NUMBER)) {
    if (!UNALLOCATED_NI_PREFIXES.has(`${match[1]}${match[2]}`)) return true;
  }
  return false;
}

const EMAIL = /(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}(?![A-Za-z0-9-])/;

export function containsEmailAddress(value: string): boolean {
  return value.includes('@') && EMAIL.test(value);
}

// A run that starts with +44, (0…) or 0 and continues with digits, spaces, dashes and brackets. It must not continue a
// word or a decimal ("CMC07919000059A", "212566.02000000002").
const PHONE_CANDIDATE = /(?<![\dA-Za-z+.,])(?:\+44\s?(?:\(0\)\s?)?|\(?0)[\d\s()-]{8,16}\d(?!\d)/g;

/**
 * UK landline and mobile numbers: +44 or 0 followed by a national number starting 1, 2, 3 or 7 (Ofcom National
 * Telephone Numbering Plan). Freephone, premium-rate and personal numbers (08, 09, 070) are not treated as personal.
 */
export function containsUkPhoneNumber(value: string): boolean {
  for (const match of value.matchAll(PHONE_CANDIDATE)) {
    let digits = match[0].replace(/\D/g, '');
    if (match[0].startsWith('+44')) digits = `0${digits.slice(2).replace(/^0/, '')}`;
    if (!digits.startsWith('0')) continue;
    const national = digits.slice(1);
    if (/^7[1-57-9]\d{8}$/.test(national)) return true;
    if (/^[23]\d{9}$/.test(national)) return true;
    if (/^1\d{8,9}$/.test(national)) return true;
  }
  return false;
}

// Full UK postcode: outward code (area, district, optional sub-district letter) and inward code (sector digit and
// two unit letters, which never use C, I, K, M, O or V). Outward-only values such as "RM17" do not match.
const FULL_POSTCODE = /(?<![A-Za-z0-9])(GIR ?0AA|(?:[A-PR-UWYZ][0-9][0-9A-HJKPS-UW]?|[A-PR-UWYZ][A-HK-Y][0-9][0-9ABEHMNPRV-Y]?) ?([0-9])[ABD-HJLNP-UW-Z]{2})(?![A-Za-z0-9])/gi;

export function containsFullPostcode(value: string): boolean {
  FULL_POSTCODE.lastIndex = 0;
  return FULL_POSTCODE.test(value);
}

/** Replaces every full postcode in the value with its sector: "RM17 6SL" becomes "RM17 6". */
export function generalisePostcodes(value: string): string {
  return value.replace(FULL_POSTCODE, (whole: string) => {
    const compact = whole.replace(/\s+/g, '').toUpperCase();
    return `${compact.slice(0, -3)} ${compact.slice(-3, -2)}`;
  });
}

/** Luhn (modulus 10) check used by every payment card scheme. */
export function passesLuhn(digits: string): boolean {
  let total = 0;
  let double = false;
  for (let index = digits.length - 1; index >= 0; index -= 1) {
    let digit = Number(digits[index]);
    if (double) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    total += digit;
    double = !double;
  }
  return total % 10 === 0;
}

/** Issuer identification number ranges and lengths of the major card schemes. */
export function matchesCardScheme(digits: string): boolean {
  const length = digits.length;
  const prefix2 = Number(digits.slice(0, 2));
  const prefix3 = Number(digits.slice(0, 3));
  const prefix4 = Number(digits.slice(0, 4));
  const prefix6 = Number(digits.slice(0, 6));
  if (digits.startsWith('4')) return length === 13 || length === 16 || length === 19; // Visa
  if ((prefix2 >= 51 && prefix2 <= 55) || (prefix6 >= 222100 && prefix6 <= 272099)) return length === 16; // Mastercard
  if (prefix2 === 34 || prefix2 === 37) return length === 15; // American Express
  if (prefix4 === 6011 || (prefix3 >= 644 && prefix3 <= 649) || prefix2 === 65) return length >= 16 && length <= 19; // Discover
  if (prefix4 >= 3528 && prefix4 <= 3589) return length >= 16 && length <= 19; // JCB
  if ((prefix3 >= 300 && prefix3 <= 305) || prefix2 === 36 || prefix2 === 38 || prefix2 === 39) return length >= 14 && length <= 19; // Diners Club
  if ([5018, 5020, 5038, 5893, 6304, 6759, 6761, 6762, 6763].includes(prefix4)) return length >= 13 && length <= 19; // Maestro
  if (prefix2 === 62) return length >= 16 && length <= 19; // UnionPay
  return false;
}

// 13 to 19 digits, either in one run or in groups separated by single spaces or dashes.
const CARD_CANDIDATE = /(?<![\d.-])\d(?:[ -]?\d){12,18}(?![\d.-])/g;

export function containsPaymentCardNumber(value: string): boolean {
  for (const match of value.matchAll(CARD_CANDIDATE)) {
    const digits = match[0].replace(/\D/g, '');
    if (digits.length >= 13 && digits.length <= 19 && matchesCardScheme(digits) && passesLuhn(digits)) return true;
  }
  return false;
}

const SORT_CODE = /(?<![\d-])\d{2}-\d{2}-\d{2}(?![\d-])/;
const SORT_CODE_WHOLE = /^\d{2}-\d{2}-\d{2}$/;
const ACCOUNT_NUMBER = /(?<![\d-])\d{8}(?![\d-])/;
const ACCOUNT_NUMBER_WHOLE = /^\d{8}$/;

/** A sort code `NN-NN-NN` and an eight-digit account number in the same cell. */
export function containsSortCodeAndAccount(value: string): boolean {
  return SORT_CODE.test(value) && ACCOUNT_NUMBER.test(value.replace(SORT_CODE, ' '));
}

export function isSortCode(value: string): boolean {
  return SORT_CODE_WHOLE.test(value.trim());
}

export function isAccountNumber(value: string): boolean {
  return ACCOUNT_NUMBER_WHOLE.test(value.trim());
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
const UK_DATE = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?: \d{2}:\d{2}(?::\d{2})?)?$/;

/** The year of a full calendar date written ISO style or day first (UK style), or null when it is not a full date. */
export function yearOfDate(value: string): number | null {
  const trimmed = value.trim();
  const iso = ISO_DATE.exec(trimmed);
  const uk = iso ? null : UK_DATE.exec(trimmed);
  const parts = iso ? [iso[1], iso[2], iso[3]] : uk ? [uk[3], uk[2], uk[1]] : null;
  if (!parts) return null;
  const [year, month, day] = parts.map(Number) as [number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  const valid = date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
  return valid ? year : null;
}
