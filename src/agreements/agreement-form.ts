import type { FieldError } from '../errors.ts';
import type { FieldType, TableSchema } from '../ingest/table-schema.ts';
import { formKeyFor } from './agreement-form-errors.ts';
import type { ApproverCandidate } from './agreement-approvers.ts';
import type { AgreementTerms } from './agreement.terms.ts';
import { checkRowFilter, COMPARISON_OPERATORS, type ComparisonOperator, type FilterValue, type RowFilter } from './row-filter.ts';

/**
 * The drafting form of an agreement: its posted fields read into form values, and form values turned into the terms
 * JSON that parseTerms checks. Repeating groups (recipients, pseudonymised fields, row filter conditions) are rows
 * named `recipient-0-organisation`, `filter-1-op` and so on, so the form works without JavaScript.
 */

export interface DateValue {
  day: string;
  month: string;
  year: string;
}

export interface RecipientRow {
  organisation: string;
  controller: string;
  dpo: string;
  siro: string;
}

export interface PseudonymRow {
  field: string;
  normalise: string;
}

export interface FilterRow {
  field: string;
  op: string;
  value: string;
}

export interface AgreementFormValues {
  reference: string;
  title: string;
  summary: string;
  providerController: string;
  providerDpo: string;
  providerSiro: string;
  recipients: RecipientRow[];
  purposes: string[];
  purposeDescription: string;
  specialCategory: boolean;
  article6: string;
  article9: string;
  schedule1: string;
  /** One statutory power per line. */
  statutoryPowers: string;
  dataset: string;
  fields: string[];
  pseudonymise: PseudonymRow[];
  subjectField: string;
  subjectKind: string;
  filters: FilterRow[];
  linkingAllowed: string;
  retentionMonths: string;
  retentionNote: string;
  /** One security requirement per line. */
  securityRequirements: string;
  startDate: DateValue;
  endDate: DateValue;
  reviewDate: DateValue;
}

/** Parts of the stored draft that the form does not show, kept as they are when the form is saved. */
export interface KeptTerms {
  /** A row filter using "or" or "not", which the form's rows cannot show. */
  rowFilter: RowFilter | null;
  /** Datasets after the first, which only the API edits. */
  extraDatasets: Array<Record<string, unknown>>;
}

/** Inputs of termsFromForm besides the form values. */
export interface FormContext {
  organisationId: string;
  candidates: ApproverCandidate[];
  /** The Table Schema of the chosen dataset's current version; null before its first file. */
  schema: TableSchema | null;
  kept: KeptTerms;
}

const MAX_ROWS = 20;

type FormBody = Record<string, string | string[] | undefined>;

function text(body: FormBody, name: string): string {
  const value = body[name];
  return typeof value === 'string' ? value : '';
}

function list(body: FormBody, name: string): string[] {
  const value = body[name];
  if (Array.isArray(value)) return value;
  return typeof value === 'string' ? [value] : [];
}

function rows<T>(read: (index: number) => T, isBlank: (row: T) => boolean): T[] {
  const result: T[] = [];
  for (let index = 0; index < MAX_ROWS; index += 1) {
    const row = read(index);
    if (!isBlank(row)) result.push(row);
  }
  return result;
}

/** Reads a posted drafting form; blank rows are dropped. */
export function readForm(raw: unknown): AgreementFormValues {
  const body = (typeof raw === 'object' && raw !== null ? raw : {}) as FormBody;
  const date = (prefix: string): DateValue => ({ day: text(body, `${prefix}-day`).trim(), month: text(body, `${prefix}-month`).trim(), year: text(body, `${prefix}-year`).trim() });
  return {
    reference: text(body, 'reference').trim(),
    title: text(body, 'title'),
    summary: text(body, 'summary'),
    providerController: text(body, 'providerController'),
    providerDpo: text(body, 'providerDpo'),
    providerSiro: text(body, 'providerSiro'),
    recipients: rows(
      (index) => ({
        organisation: text(body, `recipient-${index}-organisation`),
        controller: text(body, `recipient-${index}-controller`),
        dpo: text(body, `recipient-${index}-dpo`),
        siro: text(body, `recipient-${index}-siro`),
      }),
      (row) => row.organisation === '' && row.dpo === '' && row.siro === '',
    ),
    purposes: list(body, 'purposes'),
    purposeDescription: text(body, 'purposeDescription'),
    specialCategory: list(body, 'specialCategory').includes('yes'),
    article6: text(body, 'article6'),
    article9: text(body, 'article9'),
    schedule1: text(body, 'schedule1'),
    statutoryPowers: text(body, 'statutoryPowers'),
    dataset: text(body, 'dataset'),
    fields: list(body, 'fields'),
    pseudonymise: rows((index) => ({ field: text(body, `pseudonymise-${index}-field`), normalise: text(body, `pseudonymise-${index}-normalise`) }), (row) => row.field === ''),
    subjectField: text(body, 'subjectField'),
    subjectKind: text(body, 'subjectKind'),
    filters: rows(
      (index) => ({ field: text(body, `filter-${index}-field`), op: text(body, `filter-${index}-op`), value: text(body, `filter-${index}-value`) }),
      (row) => row.field === '' && row.op === '' && row.value.trim() === '',
    ),
    linkingAllowed: text(body, 'linkingAllowed'),
    retentionMonths: text(body, 'retentionMonths').trim(),
    retentionNote: text(body, 'retentionNote'),
    securityRequirements: text(body, 'securityRequirements'),
    startDate: date('startDate'),
    endDate: date('endDate'),
    reviewDate: date('reviewDate'),
  };
}

function lines(value: string): string[] {
  return value.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '');
}

/** Reads a GOV.UK date input as an ISO date, or '' when blank so that the terms check reports the missing date. */
function isoDate(value: DateValue, key: string, label: string, errors: FieldError[]): string {
  if (value.day === '' && value.month === '' && value.year === '') return '';
  const [day, month, year] = [Number(value.day), Number(value.month), Number(value.year)];
  const date = new Date(Date.UTC(year, month - 1, day));
  const real = /^\d{4}$/.test(value.year) && Number.isInteger(day) && Number.isInteger(month) && date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
  if (!real) {
    errors.push({ field: key, message: `${label} must be a real date, such as 31 3 2027` });
    return '';
  }
  return `${value.year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** Converts a row filter value to the type the field holds, so the terms check reports a wrong type with the field's name. */
function typedValue(raw: string, type: FieldType | undefined): FilterValue {
  const value = raw.trim();
  if ((type === 'integer' || type === 'number') && value !== '' && Number.isFinite(Number(value))) return Number(value);
  if (type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

/**
 * Turns form values into the terms JSON that parseTerms reads, with the provider as the drafter's organisation.
 * Returns the problems the form itself finds (dates that are not real, incomplete filter rows) and, for each path
 * in the terms, the form field that shows its errors.
 */
export function termsFromForm(values: AgreementFormValues, context: FormContext): { input: Record<string, unknown>; errors: FieldError[]; keys: Record<string, string> } {
  const errors: FieldError[] = [];
  const keys: Record<string, string> = {};
  const nameOf = (userId: string) => context.candidates.find((candidate) => candidate.userId === userId)?.name ?? 'Unknown approver';
  const approvers = (partyPath: string, dpo: string, siro: string, dpoKey: string, siroKey: string) => {
    const named: Array<{ role: string; user_id: string; name: string }> = [];
    keys[`${partyPath}.approvers`] = dpoKey;
    if (dpo !== '') {
      keys[`${partyPath}.approvers[${named.length}]`] = dpoKey;
      named.push({ role: 'data_protection_officer', user_id: dpo, name: nameOf(dpo) });
    }
    if (siro !== '') {
      keys[`${partyPath}.approvers[${named.length}]`] = siroKey;
      named.push({ role: 'senior_information_risk_owner', user_id: siro, name: nameOf(siro) });
    }
    return named;
  };

  keys['parties[0].controller_role'] = 'providerController';
  const parties: Array<Record<string, unknown>> = [
    {
      organisation_id: context.organisationId,
      sharing_role: 'provider',
      controller_role: values.providerController,
      approvers: approvers('parties[0]', values.providerDpo, values.providerSiro, 'providerDpo', 'providerSiro'),
    },
  ];
  values.recipients.forEach((row, index) => {
    const path = `parties[${parties.length}]`;
    const key = `recipient-${index}`;
    keys[path] = `${key}-organisation`;
    keys[`${path}.organisation_id`] = `${key}-organisation`;
    keys[`${path}.controller_role`] = `${key}-controller`;
    parties.push({ organisation_id: row.organisation, sharing_role: 'recipient', controller_role: row.controller, approvers: approvers(path, row.dpo, row.siro, `${key}-dpo`, `${key}-siro`) });
  });

  const types = new Map((context.schema?.fields ?? []).map((field) => [field.name, field.type]));
  const conditions: RowFilter[] = [];
  values.filters.forEach((row, index) => {
    const key = `filter-${index}`;
    if (row.field === '') {
      errors.push({ field: `${key}-field`, message: `Select the field that row filter condition ${index + 1} tests` });
      return;
    }
    if (!(COMPARISON_OPERATORS as readonly string[]).includes(row.op)) {
      errors.push({ field: `${key}-op`, message: `Select the operator of row filter condition ${index + 1}` });
      return;
    }
    const op = row.op as ComparisonOperator;
    const path = `datasets[0].row_filter.and[${conditions.length}]`;
    keys[path] = `${key}-field`;
    keys[`${path}.op`] = `${key}-op`;
    keys[`${path}.value`] = `${key}-value`;
    const type = types.get(row.field);
    if (op === 'is_null' || op === 'not_null') {
      conditions.push({ field: row.field, op });
    } else if (op === 'in' || op === 'between') {
      const parts = row.value.split(',').filter((part) => part.trim() !== '');
      conditions.push({ field: row.field, op, value: parts.map((part) => typedValue(part, type)) });
    } else if (row.value.trim() === '') {
      errors.push({ field: `${key}-value`, message: `Enter the value that row filter condition ${index + 1} compares with` });
    } else {
      conditions.push({ field: row.field, op, value: typedValue(row.value, type) });
    }
  });
  const rowFilter = conditions.length > 0 ? { and: conditions } : context.kept.rowFilter;
  // The service checks values against the schema only once the rest of the terms are valid, so the form checks its
  // own rows here to list those problems with all the others.
  if (context.schema && conditions.length > 0) {
    for (const error of checkRowFilter({ and: conditions }, context.schema, 'datasets[0].row_filter')) errors.push({ field: formKeyFor(error.field, keys), message: error.message });
  }

  const pseudonymise = values.pseudonymise.map((row, index) => {
    keys[`datasets[0].pseudonymise[${index}]`] = `pseudonymise-${index}-field`;
    keys[`datasets[0].pseudonymise[${index}].normalise`] = `pseudonymise-${index}-normalise`;
    return { field: row.field, normalise: row.normalise };
  });

  const input: Record<string, unknown> = {
    title: values.title,
    summary: values.summary,
    parties,
    purposes: values.purposes,
    purpose_description: values.purposeDescription,
    special_category: values.specialCategory,
    lawful_basis: {
      article6: values.article6,
      article9: values.article9 === '' ? null : values.article9,
      schedule1: values.schedule1 === '' ? null : values.schedule1,
      statutory_powers: lines(values.statutoryPowers),
    },
    datasets: [
      {
        dataset_id: values.dataset,
        fields: values.fields,
        row_filter: rowFilter,
        pseudonymise,
        subject: values.subjectField === '' && values.subjectKind === '' ? null : { field: values.subjectField, kind: values.subjectKind },
      },
      ...context.kept.extraDatasets,
    ],
    linking_allowed: values.linkingAllowed === 'yes',
    retention_months: values.retentionMonths,
    retention_note: values.retentionNote,
    security_requirements: lines(values.securityRequirements),
    start_date: isoDate(values.startDate, 'startDate', 'The start date', errors),
    end_date: isoDate(values.endDate, 'endDate', 'The end date', errors),
    review_date: isoDate(values.reviewDate, 'reviewDate', 'The review date', errors),
  };
  if (values.linkingAllowed === '') errors.push({ field: 'linkingAllowed', message: 'Select whether recipients may link the data with other data' });
  return { input, errors, keys };
}

/** Form values showing stored terms, for editing a draft. */
export function formValuesFromTerms(terms: AgreementTerms, reference: string): AgreementFormValues {
  const provider = terms.parties.find((party) => party.sharingRole === 'provider')!;
  const approver = (party: AgreementTerms['parties'][number], role: string) => party.approvers.find((entry) => entry.role === role)?.userId ?? '';
  const dataset = terms.datasets[0]!;
  const date = (iso: string): DateValue => {
    const [year = '', month = '', day = ''] = iso.split('-');
    return { day: String(Number(day)), month: String(Number(month)), year };
  };
  const filter = dataset.rowFilter;
  let comparisons: RowFilter[] = [];
  if (filter !== null) comparisons = 'and' in filter ? filter.and : [filter];
  const simple = comparisons.every((node) => 'field' in node);
  return {
    reference,
    title: terms.title,
    summary: terms.summary,
    providerController: provider.controllerRole,
    providerDpo: approver(provider, 'data_protection_officer'),
    providerSiro: approver(provider, 'senior_information_risk_owner'),
    recipients: terms.parties
      .filter((party) => party.sharingRole === 'recipient')
      .map((party) => ({ organisation: party.organisationId, controller: party.controllerRole, dpo: approver(party, 'data_protection_officer'), siro: approver(party, 'senior_information_risk_owner') })),
    purposes: terms.purposes,
    purposeDescription: terms.purposeDescription,
    specialCategory: terms.specialCategory,
    article6: terms.lawfulBasis.article6,
    article9: terms.lawfulBasis.article9 ?? '',
    schedule1: terms.lawfulBasis.schedule1 === null ? '' : String(terms.lawfulBasis.schedule1),
    statutoryPowers: terms.lawfulBasis.statutoryPowers.join('\n'),
    dataset: dataset.datasetId,
    fields: dataset.fields,
    pseudonymise: dataset.pseudonymise.map((entry) => ({ field: entry.field, normalise: entry.normalise })),
    subjectField: dataset.subject?.field ?? '',
    subjectKind: dataset.subject?.kind ?? '',
    filters: simple
      ? comparisons.map((node) => {
          const condition = node as { field: string; op: string; value?: FilterValue | FilterValue[] };
          const value = condition.value === undefined ? '' : Array.isArray(condition.value) ? condition.value.join(',') : String(condition.value);
          return { field: condition.field, op: condition.op, value };
        })
      : [],
    linkingAllowed: terms.linkingAllowed ? 'yes' : 'no',
    retentionMonths: String(terms.retentionMonths),
    retentionNote: terms.retentionNote,
    securityRequirements: terms.securityRequirements.join('\n'),
    startDate: date(terms.startDate),
    endDate: date(terms.endDate),
    reviewDate: date(terms.reviewDate),
  };
}

/** Collects the parts of stored terms the form cannot show, to keep when the form is saved. */
export function keptTerms(terms: AgreementTerms | null, datasetId: string, extraDatasets: Array<Record<string, unknown>>): KeptTerms {
  const first = terms?.datasets[0];
  const filter = first && first.datasetId === datasetId ? first.rowFilter : null;
  const simple = filter === null || ('and' in filter ? filter.and.every((node) => 'field' in node) : 'field' in filter);
  return { rowFilter: simple ? null : filter, extraDatasets };
}

