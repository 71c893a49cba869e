/**
 * Checks an NHS number: ten digits (spaces and hyphens allowed between them) whose last digit is the modulus 11 check
 * digit of the first nine. The weights run from 10 down to 2. The check digit is 11 minus the remainder of the weighted
 * sum divided by 11, with 11 read as 0. A result of 10 means no valid number has those first nine digits.
 * Returns the ten digits, or null when the value is not a valid NHS number.
 */
export function parseNhsNumber(value: string): string | null {
  const trimmed = value.trim();
  if (!/^[\d\s-]+$/.test(trimmed)) return null;
  const digits = trimmed.replace(/[\s-]/g, '');
  if (!/^\d{10}$/.test(digits)) return null;
  let sum = 0;
  for (let index = 0; index < 9; index += 1) sum += Number(digits[index]) * (10 - index);
  let check = 11 - (sum % 11);
  if (check === 11) check = 0;
  if (check === 10) return null;
  return check === Number(digits[9]) ? digits : null;
}

/**
 * Describes why a value is not a valid NHS number, as a GOV.UK error message, or returns null when it is valid. The
 * message never repeats the value, because it is personal data and error messages can reach logs.
 */
export function nhsNumberProblem(value: string): string | null {
  const trimmed = value.trim();
  if (!/^[\d\s-]+$/.test(trimmed)) return 'NHS number must contain only numbers, spaces and hyphens, like 943 476 5919';
  const digitCount = trimmed.replace(/[\s-]/g, '').length;
  if (digitCount !== 10) return `NHS number must be 10 numbers. You entered ${digitCount}`;
  if (parseNhsNumber(trimmed) === null) {
    return 'Enter a valid NHS number. Its last number is a check digit that does not match the first 9, so check it against the person’s records';
  }
  return null;
}
