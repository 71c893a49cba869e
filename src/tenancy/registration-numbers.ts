import type { FieldError } from '../errors.ts';
import type { OrganisationType } from './tenancy.tables.ts';

/** The registration numbers an organisation may give, as stored on its row. */
export interface RegistrationNumbers {
  charity_number: string | null;
  scottish_charity_number: string | null;
  company_number: string | null;
  ods_code: string | null;
  school_urn: string | null;
}

export type RegistrationField = keyof RegistrationNumbers;

/** Labels used in the form and in messages. */
export const REGISTRATION_LABELS: Record<RegistrationField, string> = {
  charity_number: 'Registered charity number (England and Wales)',
  scottish_charity_number: 'Scottish charity number',
  company_number: 'Companies House number',
  ods_code: 'NHS ODS code',
  school_urn: 'School unique reference number (URN)',
};

/** Each number as it reads inside a sentence, keeping the capitals of proper nouns and acronyms. */
const NAMES_IN_TEXT: Record<RegistrationField, string> = {
  charity_number: 'registered charity number',
  scottish_charity_number: 'Scottish charity number',
  company_number: 'Companies House number',
  ods_code: 'NHS ODS code',
  school_urn: 'school unique reference number',
};

interface FormatRule {
  pattern: RegExp;
  message: string;
}

/**
 * Formats of each register:
 * - Charity Commission for England and Wales: 6 or 7 digits, with `-NN` for a linked charity (1234567-01).
 * - OSCR (Scotland): SC and 6 digits.
 * - Companies House: 8 characters, either 8 digits or a 2-letter prefix (SC, NI, OC, …) and 6 digits.
 * - NHS Organisation Data Service: 3 characters for trusts, ICBs and sub-ICB locations (RWK, QH8), 5 for their sites
 *   (RWK01), or a letter and 5 digits for GP practices (A81001).
 * - Get Information about Schools: a 6-digit URN.
 */
const FORMATS: Record<RegistrationField, FormatRule> = {
  charity_number: { pattern: /^\d{6,7}(-\d{2})?$/, message: 'Enter a registered charity number of 6 or 7 digits, like 1123456 or 1123456-01' },
  scottish_charity_number: { pattern: /^SC\d{6}$/, message: 'Enter a Scottish charity number as SC and 6 digits, like SC012345' },
  company_number: { pattern: /^(\d{8}|[A-Z]{2}\d{6})$/, message: 'Enter a Companies House number of 8 characters, like 01234567 or SC123456' },
  ods_code: { pattern: /^([A-Z0-9]{3}|[A-Z0-9]{5}|[A-Z]\d{5})$/, message: 'Enter an NHS ODS code of 3 or 5 letters and numbers, like RWK or RWK01, or a GP practice code like A81001' },
  school_urn: { pattern: /^\d{6}$/, message: 'Enter a school URN of 6 digits, like 100001' },
};

/** Which number an organisation of each type must give; the others are optional. */
const REQUIRED_BY_TYPE: Partial<Record<OrganisationType, RegistrationField[]>> = {
  charity: ['charity_number', 'scottish_charity_number'],
  nhs_body: ['ods_code'],
  icb: ['ods_code'],
  school: ['school_urn'],
  business: ['company_number'],
};

/** Upper-cases and removes spaces, which people often type inside these numbers. */
function normalise(value: string): string {
  return value.replace(/\s+/g, '').toUpperCase();
}

/**
 * Checks and normalises the registration numbers given for an organisation of `type`. Returns the stored values and a
 * field error for each number in the wrong format; a charity needs one of its two numbers, and NHS bodies, integrated
 * care boards, schools and businesses need theirs.
 */
export function checkRegistrationNumbers(type: OrganisationType, input: Partial<Record<RegistrationField, string>>): { numbers: RegistrationNumbers; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const numbers: RegistrationNumbers = { charity_number: null, scottish_charity_number: null, company_number: null, ods_code: null, school_urn: null };
  for (const field of Object.keys(FORMATS) as RegistrationField[]) {
    const value = normalise(input[field] ?? '');
    if (value === '') continue;
    if (!FORMATS[field].pattern.test(value)) errors.push({ field, message: FORMATS[field].message });
    else numbers[field] = value;
  }
  const required = REQUIRED_BY_TYPE[type] ?? [];
  const given = required.some((field) => normalise(input[field] ?? '') !== '');
  if (required.length > 0 && !given) {
    const names = required.map((field) => NAMES_IN_TEXT[field]);
    errors.push({ field: required[0]!, message: `Enter the ${names.join(' or the ')} of the organisation` });
  }
  return { numbers, errors };
}
