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
