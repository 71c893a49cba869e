/**
 * Recognising individuals among payees, and the column roles the scanner needs (payee, creditor type, date of birth,
 * bank details) from the headers that councils use.
 */

import { COMMON_FORENAMES } from './forenames.ts';

const TITLES = new Set(['MR', 'MRS', 'MS', 'MISS', 'MX', 'DR', 'REV', 'REVD', 'PROF', 'SIR', 'DAME']);

// Legal forms and partnership phrases: a payee carrying one is an organisation even when its creditor type says SOLE.
const LEGAL_FORMS = new Set(['LTD', 'LIMITED', 'LLP', 'PLC', 'CIC', 'INC', 'LLC', 'CORP', 'CORPORATION', 'COMPANY']);
const PARTNERSHIP_PHRASES = /(?:&|\bAND)\s+(?:SONS?|CO|DAUGHTERS?|PARTNERS)\b|\bCO\.?\s*$/;

// Institutions often named after a person ("SIR JOHN HUNT COMMUNITY SPORTS" college, "DR SMITH SURGERY").
const INSTITUTION_WORDS = new Set([
  'GROUP', 'HOLDINGS', 'TRUST', 'CHARITY', 'FOUNDATION', 'SOCIETY', 'ASSOCIATION', 'COUNCIL', 'PARTNERSHIP',
  'PARTNERS', 'SURGERY', 'PRACTICE', 'SCHOOL', 'ACADEMY', 'COLLEGE', 'UNIVERSITY', 'NHS', 'HOSPITAL', 'CLINIC',
  'CHURCH', 'CLUB', 'SOLICITORS', 'CHAMBERS', 'COMMUNITY', 'SPORTS', 'CENTRE', 'CENTER', 'MEMORIAL', 'HALL',
]);

/** Words of a value in upper case, with full stops after titles and initials removed. */
function words(value: string): string[] {
  return value
    .toUpperCase()
    .replace(/[.,()]/g, ' ')
    .split(/\s+/)
    .filter((word) => word.length > 0);
}

export function hasLegalForm(value: string): boolean {
  return PARTNERSHIP_PHRASES.test(value.toUpperCase()) || words(value).some((word) => LEGAL_FORMS.has(word));
}

export function hasOrganisationMarker(value: string): boolean {
  return hasLegalForm(value) || words(value).some((word) => INSTITUTION_WORDS.has(word));
}

/** A payee written with a personal title first or last ("DR SARAH SAUNDERS", "CAMERON ROBERT MR"). */
export function looksLikeTitledIndividual(value: string): boolean {
  const parts = words(value);
  if (parts.length < 2) return false;
  const titled = TITLES.has(parts[0]!) || TITLES.has(parts[parts.length - 1]!);
  // A possessive ("MR C'S") is a trading name such as a café, not a person.
  const possessive = parts.some((word) => /['’]S$/.test(word));
  return titled && !possessive && !hasOrganisationMarker(value);
}

// Words of places, facilities and trades that a "Name" column may contain ("CHARLOTTE STREET ENTRANCE", "G S
// TRAVEL", "JOHN PACKER ASSOCIATES"). Words that are also common surnames (Green, Hill, Wood, Baker) are left out, so
// "JOHN GREEN" stays a person.
const NOT_A_PERSON_WORDS = new Set([
  'STREET', 'ROAD', 'LANE', 'AVENUE', 'CLOSE', 'DRIVE', 'SQUARE', 'GARDENS', 'PLACE', 'PARK', 'ENTRANCE', 'TOILETS',
  'TOILET', 'LIBRARY', 'CAR', 'STATION', 'MARKET', 'POOL', 'TERRACE', 'CRESCENT', 'MEWS', 'QUAY', 'WHARF', 'DOCK',
  'BUILDING', 'BUILDINGS', 'OFFICES', 'OFFICE', 'DEPOT', 'YARD', 'PAVILION', 'RECREATION', 'GROUND', 'CEMETERY',
  'ESTATE', 'PLAYGROUND', 'ALLOTMENTS', 'FARMS', 'HOTEL', 'MOTEL', 'STORES', 'SHOP', 'PHARMACY', 'NURSERY', 'STUDIO',
  'SERVICES', 'SERVICE', 'ASSOCIATES', 'CONSULTANCY', 'CONSULTING', 'CONSULTANTS', 'TRAVEL', 'TRANSPORT', 'TAXIS',
  'CARS', 'COACHES', 'MOTORS', 'COMMERCIALS', 'GARAGE', 'HIRE', 'ENERGY', 'WATER', 'AGENCY', 'SIGNALS', 'TRAFFIC',
  'BUILDERS', 'ELECTRICAL', 'PLUMBING', 'ROOFING', 'SCAFFOLDING', 'DECORATING', 'LANDSCAPES', 'LANDSCAPING',
  'GARDENING', 'CLEANING', 'CATERING', 'SUPPLIES', 'SOLUTIONS', 'SYSTEMS', 'ENGINEERING', 'MANAGEMENT', 'TRAINING',
  'DESIGN', 'MEDIA', 'PRODUCTIONS', 'ARCHITECTS', 'SURVEYORS', 'ACCOUNTANTS', 'SECURITY', 'MAINTENANCE', 'CARE',
  'HOMES', 'LEISURE', 'INTERNATIONAL', 'UK', 'AND',
]);
const COUNCILLOR_TITLES = new Set(['CLLR', 'COUNCILLOR']);
const NAME_WORD = /^[A-Z][A-Z'’-]*$/;

/**
 * Checks whether a value has the shape of a person's name. That is two to four words of letters with a common given
 * name or an initial first ("SARAH SAUNDERS", "J SMITH"), or written surname first ("SAUNDERS, SARAH", "SMITH JOHN").
 * No word may be a business's, trade's, institution's or place's, and a leading personal or councillor title is
 * allowed. Some businesses and places carry a given name, so this is weak evidence: the scanner counts it only in a
 * bare "Name" column where enough values have this shape.
 */
export function looksLikePersonalName(value: string): boolean {
  if (/[\d&]/.test(value) || hasOrganisationMarker(value)) return false;
  let parts = words(value);
  if (parts.length > 0 && (TITLES.has(parts[0]!) || COUNCILLOR_TITLES.has(parts[0]!))) parts = parts.slice(1);
  if (parts.length < 2 || parts.length > 4) return false;
  if (!parts.every((word) => NAME_WORD.test(word)) || parts.some((word) => NOT_A_PERSON_WORDS.has(word))) return false;
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  const surnameFirst = value.includes(',');
  if (surnameFirst) return isGivenName(parts[1]!) || parts[1]!.length === 1;
  // An initial needs a surname of more than one letter after it, so "A B" is not a name.
  if (first.length === 1) return parts.some((word) => word.length > 1);
  return isGivenName(first) || isGivenName(last);
}

/** Checks whether a word is a common given name, or a double name with a common part ("MARY-JANE"). */
function isGivenName(word: string): boolean {
  return COMMON_FORENAMES.has(word) || (word.includes('-') && word.split('-').some((part) => COMMON_FORENAMES.has(part)));
}

// Creditor-type codes that mean the payee is a person: Devon uses SOLE and INDV, other ledgers spell them out.
const INDIVIDUAL_CREDITOR_TYPES = new Set([
  'SOLE', 'SOLE TRADER', 'SOLETRADER', 'SOLE-TRADER', 'INDV', 'IND', 'INDIVIDUAL', 'PRIVATE INDIVIDUAL', 'PERSON',
]);

/** Whether a creditor-type value says the payee is a sole trader or a private individual (exact codes only). */
export function isIndividualCreditorType(value: string): boolean {
  return INDIVIDUAL_CREDITOR_TYPES.has(value.trim().toUpperCase().replace(/\s+/g, ' '));
}

// Values that already stand for a removed name.
const REDACTION_MARKERS = /^(?:REDACTED\b.*|WITHHELD\b.*|\[?REDACTED\]?|PERSONAL DATA.*|N\/A|-)$/i;

export function isRedactionMarker(value: string): boolean {
  return REDACTION_MARKERS.test(value.trim());
}

/** Header words in lower case, splitting camelCase ("BeneficiaryName" → beneficiary, name) and punctuation. */
export function headerWords(header: string): string[] {
  return header
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word.length > 0);
}

const PAYEE_WORDS = new Set(['supplier', 'payee', 'beneficiary', 'vendor', 'creditor', 'recipient', 'merchant', 'contractor', 'claimant']);
const NOT_A_NAME_WORDS = new Set([
  'id', 'code', 'type', 'number', 'no', 'num', 'ref', 'reference', 'category', 'vat', 'uri', 'url', 'registration',
  'postcode', 'address', 'date', 'amount', 'status', 'class', 'classification',
]);

export function isPayeeHeader(header: string): boolean {
  const parts = headerWords(header);
  if (parts.length === 1 && (parts[0] === 'name' || PAYEE_WORDS.has(parts[0]!))) return true;
  return parts.some((word) => PAYEE_WORDS.has(word)) && !parts.some((word) => NOT_A_NAME_WORDS.has(word));
}

// Header words that mean a person's name on their own ("Surname", "Forename"), or together with "name" ("First name").
const PERSON_NAME_WORDS = new Set(['forename', 'forenames', 'surname', 'firstname', 'lastname', 'fullname', 'givenname', 'familyname', 'maidenname']);
const NAME_PART_WORDS = new Set(['first', 'last', 'full', 'given', 'family', 'middle', 'maiden', 'christian', 'preferred']);
// People whom service records name, as in "Patient name", "Client name" or "Name of resident".
const NAMED_PERSON_WORDS = new Set([
  'patient', 'client', 'resident', 'tenant', 'applicant', 'pupil', 'student', 'child', 'carer', 'parent', 'guardian',
  'employee', 'staff', 'person', 'individual', 'customer', 'contact', 'member', 'claimant', 'user',
]);

/**
 * Returns whether a header says its column contains people's names ("Surname", "First name", "Patient name"). A payee
 * column also contains organisations, and a bare "Name" may be a place's, so neither counts here.
 * A bare "Name" column counts only when enough of its values look like people's names (see looksLikePersonalName).
 */
export function isPersonNameHeader(header: string): boolean {
  const parts = headerWords(header);
  if (parts.some((word) => NOT_A_NAME_WORDS.has(word))) return false;
  if (parts.some((word) => PERSON_NAME_WORDS.has(word))) return true;
  if (!parts.includes('name') && !parts.includes('names')) return false;
  return parts.some((word) => NAME_PART_WORDS.has(word) || NAMED_PERSON_WORDS.has(word));
}

/** Checks whether a header is a bare "Name" or "Names", which may head people's, places' or organisations' names. */
export function isBareNameHeader(header: string): boolean {
  const parts = headerWords(header);
  return parts.length === 1 && (parts[0] === 'name' || parts[0] === 'names');
}

export function isCreditorTypeHeader(header: string): boolean {
  const parts = headerWords(header);
  const aboutPayee = parts.some((word) => PAYEE_WORDS.has(word));
  return aboutPayee && parts.some((word) => word === 'type' || word === 'category' || word === 'status');
}

export function isDateOfBirthHeader(header: string): boolean {
  const lower = header.toLowerCase();
  return /birth|\bdob\b|d\.o\.b/.test(lower) || headerWords(header).includes('dob');
}

export function isBankHeader(header: string): boolean {
  const parts = headerWords(header);
  return parts.includes('sort') || parts.includes('bank') || parts.includes('account') || parts.includes('acct') || /a\/c/i.test(header);
}
