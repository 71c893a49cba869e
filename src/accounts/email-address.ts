/**
 * The maximum length of an email address. RFC 5321 (section 4.5.3.1.3) limits a path to 256 octets including its
 * angle brackets, so a longer address cannot be delivered. This counts characters, so a non-ASCII address may still
 * exceed the limit in octets.
 */
export const EMAIL_MAX_LENGTH = 254;

/** A loose check for name@domain.tld. Only delivery proves that an address works. */
export const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export const EMAIL_FORMAT_MESSAGE = 'Enter an email address in the correct format, like name@example.org';
export const EMAIL_LENGTH_MESSAGE = `Email address must be ${EMAIL_MAX_LENGTH} characters or fewer`;

/** Returns the GOV.UK error message for a trimmed, non-empty email address that is too long or malformed, or null. */
export function emailAddressProblem(email: string): string | null {
  if (email.length > EMAIL_MAX_LENGTH) return EMAIL_LENGTH_MESSAGE;
  if (!EMAIL_PATTERN.test(email)) return EMAIL_FORMAT_MESSAGE;
  return null;
}
