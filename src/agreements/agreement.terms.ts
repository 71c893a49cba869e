import type { FieldError } from '../errors.ts';
import { ARTICLE_6_BASES, ARTICLE_9_CONDITIONS, checkLawfulBasis, SCHEDULE_1_CONDITIONS, type LawfulBasis } from './lawful-basis.ts';
import { parseRowFilter, type RowFilter } from './row-filter.ts';
import type { ApproverRole } from './agreements.tables.ts';

/**
 * The terms of one agreement version, following the ICO data sharing code of practice: who shares with whom, why, on
 * what lawful basis, which data, on what conditions and for how long. Stored as JSON on the version; every release is
 * checked against the version in force.
 */
export const PURPOSES = {
  direct_care: 'Direct care',
  safeguarding: 'Safeguarding',
  service_planning: 'Service planning',
  research: 'Research',
  fraud_prevention: 'Fraud prevention',
  crime_prevention: 'Crime and disorder reduction',
  public_health: 'Public health',
  statutory_reporting: 'Statutory reporting',
} as const;
export type Purpose = keyof typeof PURPOSES;

export const SUBJECT_KINDS = ['nhs_number', 'person_id', 'email'] as const;
export type SubjectKind = (typeof SUBJECT_KINDS)[number];

/** Normalisation applied to a value before it is pseudonymised, so that the same person always gets the same pseudonym. */
export const NORMALISATIONS = ['nhs_number', 'email', 'text'] as const;
export type Normalisation = (typeof NORMALISATIONS)[number];

export const APPROVER_ROLES: Record<ApproverRole, string> = {
  data_protection_officer: 'Data protection officer',
  senior_information_risk_owner: 'Senior information risk owner',
};

export interface Approver {
  role: ApproverRole;
  userId: string;
  name: string;
}

export interface Party {
  organisationId: string;
  sharingRole: 'provider' | 'recipient';
  controllerRole: 'controller' | 'joint_controller' | 'processor';
  approvers: Approver[];
}

export interface DatasetTerms {
  datasetId: string;
  /** Fields released, in release order. */
  fields: string[];
  rowFilter: RowFilter | null;
  /** Released fields replaced by keyed pseudonyms. */
  pseudonymise: Array<{ field: string; normalise: Normalisation }>;
  /** The field identifying the data subject, for the disclosure log; it need not be released. */
  subject: { field: string; kind: SubjectKind } | null;
}

export interface AgreementTerms {
  title: string;
  summary: string;
  parties: Party[];
  purposes: Purpose[];
  purposeDescription: string;
  specialCategory: boolean;
  lawfulBasis: LawfulBasis;
  datasets: DatasetTerms[];
  linkingAllowed: boolean;
  retentionMonths: number;
  retentionNote: string;
  securityRequirements: string[];
  /** ISO dates (YYYY-MM-DD). The agreement is in force from the start of startDate to the end of endDate. */
  startDate: string;
  endDate: string;
  reviewDate: string;
}

/** Reads a value as the JSON API and forms send it, collecting every problem with the path of the field at fault. */
class Reader {
  readonly errors: FieldError[] = [];

  fail(field: string, message: string): void {
    this.errors.push({ field, message });
  }

  text(source: Record<string, unknown>, key: string, path: string, label: string, { required = true, max = 2000 } = {}): string {
    const value = source[key];
    if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
      if (required) this.fail(path, `Enter ${label}`);
      return '';
    }
    if (typeof value !== 'string') {
      this.fail(path, `${capitalise(label)} must be text`);
      return '';
    }
    if (value.trim().length > max) this.fail(path, `${capitalise(label)} must be ${max} characters or fewer`);
    return value.trim();
  }

  date(source: Record<string, unknown>, key: string, path: string, label: string): string {
    const value = this.text(source, key, path, label);
    if (value === '') return '';
    if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || formatIsoDate(new Date(`${value}T00:00:00Z`)) !== value) {
      this.fail(path, `${capitalise(label)} must be a real date, such as 2027-03-31`);
      return '';
    }
    return value;
  }

  list(source: Record<string, unknown>, key: string, path: string, label: string): unknown[] {
    const value = source[key];
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) {
      this.fail(path, `${capitalise(label)} must be a list`);
      return [];
    }
    return value;
  }

  choice<T extends string>(source: Record<string, unknown>, key: string, path: string, allowed: readonly T[], label: string): T | null {
    const value = source[key];
    if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
    if (value === undefined || value === null || value === '') this.fail(path, `Select ${label}`);
    else this.fail(path, `"${String(value)}" is not a valid ${label}. Use one of: ${allowed.join(', ')}`);
    return null;
  }
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function formatIsoDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

function readParty(reader: Reader, raw: unknown, path: string): Party | null {
  if (!isRecord(raw)) {
    reader.fail(path, 'Each party must be an object with organisation_id, sharing_role and controller_role');
    return null;
  }
  const organisationId = reader.text(raw, 'organisation_id', `${path}.organisation_id`, 'the party organisation');
  if (organisationId !== '' && !UUID.test(organisationId)) reader.fail(`${path}.organisation_id`, `"${organisationId}" is not an organisation id`);
  const sharingRole = reader.choice(raw, 'sharing_role', `${path}.sharing_role`, ['provider', 'recipient'] as const, 'sharing role');
  const controllerRole = reader.choice(raw, 'controller_role', `${path}.controller_role`, ['controller', 'joint_controller', 'processor'] as const, 'controller role');
  const approvers: Approver[] = [];
  reader.list(raw, 'approvers', `${path}.approvers`, 'approvers').forEach((entry, index) => {
    const at = `${path}.approvers[${index}]`;
    if (!isRecord(entry)) {
      reader.fail(at, 'Each approver must be an object with role, user_id and name');
      return;
    }
    const role = reader.choice(entry, 'role', `${at}.role`, Object.keys(APPROVER_ROLES) as ApproverRole[], 'approver role');
    const userId = reader.text(entry, 'user_id', `${at}.user_id`, 'the approver');
    if (userId !== '' && !UUID.test(userId)) reader.fail(`${at}.user_id`, `"${userId}" is not a user id`);
    const name = reader.text(entry, 'name', `${at}.name`, "the approver's name", { max: 200 });
    if (role) approvers.push({ role, userId, name });
  });
  if (approvers.length === 0) reader.fail(`${path}.approvers`, 'Name at least one approver for each party, such as its data protection officer');
  const roles = approvers.map((approver) => approver.role);
  if (new Set(roles).size !== roles.length) reader.fail(`${path}.approvers`, 'Name each approver role once per party');
  if (!sharingRole || !controllerRole) return null;
  return { organisationId, sharingRole, controllerRole, approvers };
}

function readDataset(reader: Reader, raw: unknown, path: string): DatasetTerms | null {
  if (!isRecord(raw)) {
    reader.fail(path, 'Each dataset must be an object with dataset_id and fields');
    return null;
  }
  const datasetId = reader.text(raw, 'dataset_id', `${path}.dataset_id`, 'the dataset');
  if (datasetId !== '' && !UUID.test(datasetId)) reader.fail(`${path}.dataset_id`, `"${datasetId}" is not a dataset id`);
  const fields: string[] = [];
  reader.list(raw, 'fields', `${path}.fields`, 'fields').forEach((field, index) => {
    if (typeof field !== 'string' || !FIELD_NAME.test(field)) reader.fail(`${path}.fields[${index}]`, `"${String(field)}" is not a field name`);
    else if (fields.includes(field)) reader.fail(`${path}.fields[${index}]`, `The field "${field}" is listed twice`);
    else fields.push(field);
  });
  if (fields.length === 0) reader.fail(`${path}.fields`, 'Select at least one field to release');
  const pseudonymise: DatasetTerms['pseudonymise'] = [];
  reader.list(raw, 'pseudonymise', `${path}.pseudonymise`, 'pseudonymised fields').forEach((entry, index) => {
    const at = `${path}.pseudonymise[${index}]`;
    const item = typeof entry === 'string' ? { field: entry, normalise: 'text' } : entry;
    if (!isRecord(item)) {
      reader.fail(at, 'Each pseudonymised field must be a field name or {field, normalise}');
      return;
    }
    const field = reader.text(item, 'field', `${at}.field`, 'the field to pseudonymise');
    const normalise = reader.choice(item, 'normalise', `${at}.normalise`, NORMALISATIONS, 'normalisation');
    if (field !== '' && !fields.includes(field)) {
      reader.fail(`${at}.field`, `The pseudonymised field "${field}" is not among the released fields. Release it or remove it from the list`);
    }
    if (field !== '' && normalise) pseudonymise.push({ field, normalise });
  });
  let subject: DatasetTerms['subject'] = null;
  if (raw.subject !== undefined && raw.subject !== null) {
    if (!isRecord(raw.subject)) reader.fail(`${path}.subject`, 'The subject must be {field, kind}');
    else {
      const field = reader.text(raw.subject, 'field', `${path}.subject.field`, 'the field identifying the data subject');
      const kind = reader.choice(raw.subject, 'kind', `${path}.subject.kind`, SUBJECT_KINDS, 'identifier kind');
      if (field !== '' && kind) subject = { field, kind };
    }
  }
  const { filter, errors } = parseRowFilter(raw.row_filter, `${path}.row_filter`);
  reader.errors.push(...errors);
  return { datasetId, fields, rowFilter: filter, pseudonymise, subject };
}

/**
 * Reads and checks the terms of a version from JSON (snake_case keys, as the API takes them). Returns every problem
 * at once; dataset fields are checked against Table Schemas separately, because that needs the database.
 */
export function parseTerms(input: unknown): { terms: AgreementTerms | null; errors: FieldError[] } {
  const reader = new Reader();
  if (!isRecord(input)) return { terms: null, errors: [{ field: 'terms', message: 'The agreement terms must be a JSON object' }] };
  const title = reader.text(input, 'title', 'title', 'a title', { max: 300 });
  const summary = reader.text(input, 'summary', 'summary', 'a summary of what is shared and why', { max: 5000 });

  const rawParties = reader.list(input, 'parties', 'parties', 'parties');
  const parties = rawParties.map((raw, index) => readParty(reader, raw, `parties[${index}]`));
  const validParties = parties.filter((party): party is Party => party !== null);
  // The roles are counted as declared, so a provider whose other fields have errors is not also reported as missing.
  const declared = (role: string) => rawParties.filter((raw) => isRecord(raw) && raw.sharing_role === role).length;
  if (declared('provider') !== 1) reader.fail('parties', 'Name exactly one provider organisation');
  if (declared('recipient') === 0) reader.fail('parties', 'Name at least one recipient organisation');
  const organisationIds = validParties.map((party) => party.organisationId);
  if (new Set(organisationIds).size !== organisationIds.length) reader.fail('parties', 'Name each organisation once');

  const purposes: Purpose[] = [];
  reader.list(input, 'purposes', 'purposes', 'purposes').forEach((purpose, index) => {
    if (typeof purpose === 'string' && purpose in PURPOSES) {
      if (!purposes.includes(purpose as Purpose)) purposes.push(purpose as Purpose);
    } else reader.fail(`purposes[${index}]`, `"${String(purpose)}" is not a purpose. Use one of: ${Object.keys(PURPOSES).join(', ')}`);
  });
  if (purposes.length === 0) reader.fail('purposes', 'Select at least one purpose');
  const purposeDescription = reader.text(input, 'purpose_description', 'purpose_description', 'a description of the purpose', { max: 5000 });

  const specialCategory = input.special_category === true;
  const basisInput = isRecord(input.lawful_basis) ? input.lawful_basis : {};
  if (!isRecord(input.lawful_basis)) reader.fail('lawful_basis', 'Enter the lawful basis');
  const article6 = reader.choice(basisInput, 'article6', 'lawful_basis.article6', Object.keys(ARTICLE_6_BASES) as Array<keyof typeof ARTICLE_6_BASES>, 'Article 6 lawful basis');
  const article9Raw = basisInput.article9;
  let article9: LawfulBasis['article9'] = null;
  if (article9Raw !== undefined && article9Raw !== null && article9Raw !== '') {
    article9 = reader.choice(basisInput, 'article9', 'lawful_basis.article9', Object.keys(ARTICLE_9_CONDITIONS) as Array<keyof typeof ARTICLE_9_CONDITIONS>, 'Article 9 condition');
  }
  let schedule1: number | null = null;
  const schedule1Raw = basisInput.schedule1;
  if (schedule1Raw !== undefined && schedule1Raw !== null && schedule1Raw !== '') {
    const paragraph = Number(schedule1Raw);
    if (Number.isInteger(paragraph) && SCHEDULE_1_CONDITIONS[paragraph] !== undefined) schedule1 = paragraph;
    else reader.fail('lawful_basis.schedule1', `"${String(schedule1Raw)}" is not a DPA 2018 Schedule 1 condition. Use a paragraph number from 1 to 4 or 6 to 28`);
  }
  const statutoryPowers: string[] = [];
  reader.list(basisInput, 'statutory_powers', 'lawful_basis.statutory_powers', 'statutory powers').forEach((power, index) => {
    if (typeof power !== 'string' || power.trim() === '' || power.length > 300) reader.fail(`lawful_basis.statutory_powers[${index}]`, 'Each statutory power must be text of 1 to 300 characters');
    else statutoryPowers.push(power.trim());
  });
  const lawfulBasis: LawfulBasis | null = article6 ? { article6, article9, schedule1, statutoryPowers } : null;
  if (lawfulBasis) reader.errors.push(...checkLawfulBasis(lawfulBasis, specialCategory));

  const datasets = reader.list(input, 'datasets', 'datasets', 'datasets').map((raw, index) => readDataset(reader, raw, `datasets[${index}]`));
  if (datasets.length === 0) reader.fail('datasets', 'Add at least one dataset');
  const datasetIds = datasets.filter((dataset) => dataset !== null).map((dataset) => dataset!.datasetId);
  if (new Set(datasetIds).size !== datasetIds.length) reader.fail('datasets', 'List each dataset once');

  const retentionMonths = Number(input.retention_months);
  if (!Number.isInteger(retentionMonths) || retentionMonths < 1 || retentionMonths > 1200) {
    reader.fail('retention_months', 'Enter the retention period for recipients as a whole number of months from 1 to 1200');
  }
  const retentionNote = reader.text(input, 'retention_note', 'retention_note', 'how recipients dispose of the data', { required: false, max: 2000 });
  const securityRequirements: string[] = [];
  reader.list(input, 'security_requirements', 'security_requirements', 'security requirements').forEach((requirement, index) => {
    if (typeof requirement !== 'string' || requirement.trim() === '' || requirement.length > 500) reader.fail(`security_requirements[${index}]`, 'Each security requirement must be text of 1 to 500 characters');
    else securityRequirements.push(requirement.trim());
  });
  if (securityRequirements.length === 0) reader.fail('security_requirements', 'Enter at least one security requirement, such as "Data Security and Protection Toolkit standards met"');

  const startDate = reader.date(input, 'start_date', 'start_date', 'the start date');
  const endDate = reader.date(input, 'end_date', 'end_date', 'the end date');
  const reviewDate = reader.date(input, 'review_date', 'review_date', 'the review date');
  if (startDate && endDate && endDate < startDate) reader.fail('end_date', 'The end date must be the same as or after the start date');
  if (startDate && reviewDate && reviewDate < startDate) reader.fail('review_date', 'The review date must be after the start date');
  if (endDate && reviewDate && reviewDate > endDate) reader.fail('review_date', 'The review date must be on or before the end date');

  if (reader.errors.length > 0 || !lawfulBasis) return { terms: null, errors: reader.errors };
  return {
    terms: {
      title,
      summary,
      parties: validParties,
      purposes,
      purposeDescription,
      specialCategory,
      lawfulBasis,
      datasets: datasets as DatasetTerms[],
      linkingAllowed: input.linking_allowed === true,
      retentionMonths,
      retentionNote,
      securityRequirements,
      startDate,
      endDate,
      reviewDate,
    },
    errors: [],
  };
}

/** Writes terms back to the snake_case JSON that parseTerms reads, so stored terms round-trip. */
export function termsToJson(terms: AgreementTerms): Record<string, unknown> {
  return {
    title: terms.title,
    summary: terms.summary,
    parties: terms.parties.map((party) => ({
      organisation_id: party.organisationId,
      sharing_role: party.sharingRole,
      controller_role: party.controllerRole,
      approvers: party.approvers.map((approver) => ({ role: approver.role, user_id: approver.userId, name: approver.name })),
    })),
    purposes: terms.purposes,
    purpose_description: terms.purposeDescription,
    special_category: terms.specialCategory,
    lawful_basis: {
      article6: terms.lawfulBasis.article6,
      article9: terms.lawfulBasis.article9,
      schedule1: terms.lawfulBasis.schedule1,
      statutory_powers: terms.lawfulBasis.statutoryPowers,
    },
    datasets: terms.datasets.map((dataset) => ({
      dataset_id: dataset.datasetId,
      fields: dataset.fields,
      row_filter: dataset.rowFilter,
      pseudonymise: dataset.pseudonymise,
      subject: dataset.subject,
    })),
    linking_allowed: terms.linkingAllowed,
    retention_months: terms.retentionMonths,
    retention_note: terms.retentionNote,
    security_requirements: terms.securityRequirements,
    start_date: terms.startDate,
    end_date: terms.endDate,
    review_date: terms.reviewDate,
  };
}

/** Reads terms stored by termsToJson; stored terms were checked when saved, so a failure here is a defect. */
export function storedTerms(json: unknown): AgreementTerms {
  const { terms, errors } = parseTerms(json);
  if (!terms) throw new Error(`Stored agreement terms are invalid: ${errors.map((error) => `${error.field}: ${error.message}`).join('; ')}`);
  return terms;
}
