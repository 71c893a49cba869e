import type { FieldError } from '../errors.ts';

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 256;

/**
 * Passwords of 12 or more characters seen often in breach corpora. The NCSC advises a length minimum and a deny-list
 * instead of composition rules; this short list catches the most common choices, not every breached password.
 */
const COMMON_PASSWORDS = new Set([
  '123456789012', '1234567890123', '12345678901234', '123123123123', '111111111111', '000000000000', '123456123456',
  'password1234', 'password12345', 'password123456', 'passwordpassword', 'password1!password', 'p@ssword1234',
  'qwertyuiop12', 'qwertyuiop123', 'qwerty123456', 'qwertyqwerty', '1q2w3e4r5t6y', '1qaz2wsx3edc', 'zaq12wsxcde3',
  'iloveyou1234', 'iloveyouiloveyou', 'letmein12345', 'welcome12345', 'welcome123456', 'changeme1234', 'administrator',
  'administrator1', 'abcdefghijkl', 'abcdef123456', 'abc123abc123', 'football1234', 'liverpool123', 'arsenal12345',
  'chelsea12345', 'manchester123', 'sunshine1234', 'princess1234', 'monkey123456', 'dragon123456', 'baseball1234',
  'superman1234', 'trustno1trustno1', 'correcthorsebatterystaple', 'thurrock1234', 'thurrockcouncil', 'council12345',
  'summer2024!!', 'winter2024!!', 'spring2025!!', 'autumn2025!!', 'january12345', 'password2024', 'password2025',
  'password2026', 'qwertyuiopasdfgh', 'asdfghjkl123', 'zxcvbnm12345', 'passw0rd1234', 'letmeinplease',
]);

/** Checks a new password: length 12 to 256 and not a common password. No composition rules. */
export function checkNewPassword(password: string, field = 'password', email?: string): FieldError[] {
  if (password.length === 0) return [{ field, message: 'Enter a password' }];
  if (password.length < MIN_PASSWORD_LENGTH) return [{ field, message: `Password must be ${MIN_PASSWORD_LENGTH} characters or more` }];
  if (password.length > MAX_PASSWORD_LENGTH) return [{ field, message: `Password must be ${MAX_PASSWORD_LENGTH} characters or fewer` }];
  const folded = password.toLowerCase().replace(/\s+/g, '');
  if (COMMON_PASSWORDS.has(folded) || /^(.)\1+$/.test(folded)) {
    return [{ field, message: 'Password is too common. Choose a different password, such as three random words' }];
  }
  if (email !== undefined && folded === email.toLowerCase()) {
    return [{ field, message: 'Password must not be your email address' }];
  }
  return [];
}
