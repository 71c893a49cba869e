import type { FieldType } from '../ingest/table-schema.ts';
import type { ApproverCandidate, PartyOrganisation } from './agreement-approvers.ts';
import type { AgreementFormValues } from './agreement-form.ts';
import { NORMALISATIONS, PURPOSES, SUBJECT_KINDS } from './agreement.terms.ts';
import { ARTICLE_6_BASES, ARTICLE_9_CONDITIONS, SCHEDULE_1_CONDITIONS, schedule1Part } from './lawful-basis.ts';

/** The choices of the drafting form, as the GOV.UK macros take them, with the current values selected. */

interface Item {
  value: string;
  text: string;
  selected?: boolean;
  checked?: boolean;
}

interface Group {
  label: string;
  options: Item[];
}

const CONTROLLER_ROLES = { controller: 'Controller', joint_controller: 'Joint controller', processor: 'Processor' };
const NORMALISATION_NAMES: Record<(typeof NORMALISATIONS)[number], string> = { nhs_number: 'NHS number (digits only)', email: 'Email address (lower case)', text: 'Other text (trimmed, spaces collapsed)' };
const SUBJECT_KIND_NAMES: Record<(typeof SUBJECT_KINDS)[number], string> = { nhs_number: 'NHS number', person_id: 'Person identifier', email: 'Email address' };
const OPERATOR_NAMES: Record<string, string> = {
  eq: 'is equal to',
  ne: 'is not equal to',
  lt: 'is less than',
  le: 'is at most',
  gt: 'is more than',
  ge: 'is at least',
  in: 'is one of (separate values with commas)',
  between: 'is between (two values separated by a comma)',
  is_null: 'is empty',
  not_null: 'is not empty',
};

function select(entries: Array<[string, string]>, selected: string, placeholder: string): Item[] {
  return [{ value: '', text: placeholder, selected: selected === '' }, ...entries.map(([value, text]) => ({ value, text, selected: value === selected }))];
}

function rowCount(filled: number, minimum: number): number {
  return Math.max(filled + 1, minimum);
}

/** Groups approver candidates by organisation, for a select with one option group per organisation. */
function approverGroups(candidates: ApproverCandidate[]): Group[] {
  const groups = new Map<string, Group>();
  for (const candidate of candidates) {
    const group = groups.get(candidate.organisationId) ?? { label: candidate.organisationName, options: [] };
    group.options.push({ value: candidate.userId, text: `${candidate.name} (${candidate.role === 'administrator' ? 'administrator' : 'data protection officer'})` });
    groups.set(candidate.organisationId, group);
  }
  return [...groups.values()];
}

export function formOptions(input: {
  organisationId: string;
  values: AgreementFormValues;
  datasetFields: Array<{ name: string; type: FieldType }>;
  organisations: PartyOrganisation[];
  candidates: ApproverCandidate[];
}) {
  const { values, organisationId } = input;
  const own = input.candidates.filter((candidate) => candidate.organisationId === organisationId);
  const others = input.candidates.filter((candidate) => candidate.organisationId !== organisationId);
  const fieldEntries: Array<[string, string]> = input.datasetFields.map((field) => [field.name, field.name]);
  const controllerEntries = Object.entries(CONTROLLER_ROLES);
  const ownApprovers = own.map((candidate): [string, string] => [candidate.userId, `${candidate.name} (${candidate.role === 'administrator' ? 'administrator' : 'data protection officer'})`]);

  const recipientRows = Array.from({ length: rowCount(values.recipients.length, 2) }, (_unused, index) => {
    const row = values.recipients[index] ?? { organisation: '', controller: 'controller', dpo: '', siro: '' };
    return {
      index,
      organisationItems: select(input.organisations.filter((organisation) => organisation.id !== organisationId).map((organisation) => [organisation.id, organisation.name]), row.organisation, 'Choose an organisation'),
      controllerItems: select(controllerEntries, row.controller, 'Choose a role'),
      dpo: row.dpo,
      siro: row.siro,
    };
  });

  return {
    purposeItems: Object.entries(PURPOSES).map(([value, text]) => ({ value, text, checked: values.purposes.includes(value) })),
    providerControllerItems: controllerEntries.map(([value, text]) => ({ value, text, checked: values.providerController === value })),
    providerDpoItems: select(ownApprovers, values.providerDpo, 'Choose a person'),
    providerSiroItems: select(ownApprovers, values.providerSiro, 'None'),
    recipientRows,
    recipientApproverGroups: approverGroups(others),
    article6Items: Object.entries(ARTICLE_6_BASES).map(([value, text]) => ({ value, text: `Article 6(1)(${value}): ${text}`, checked: values.article6 === value })),
    article9Items: select(Object.entries(ARTICLE_9_CONDITIONS).map(([value, text]) => [value, `Article 9(2)(${value}): ${text}`]), values.article9, 'None'),
    schedule1Items: select(
      Object.entries(SCHEDULE_1_CONDITIONS).map(([paragraph, text]) => [paragraph, `Part ${schedule1Part(Number(paragraph))}, paragraph ${paragraph}: ${text}`]),
      values.schedule1,
      'None',
    ),
    fieldItems: input.datasetFields.map((field) => ({ value: field.name, text: field.name, hint: { text: field.type }, checked: values.fields.includes(field.name) })),
    pseudonymRows: Array.from({ length: rowCount(values.pseudonymise.length, 2) }, (_unused, index) => {
      const row = values.pseudonymise[index] ?? { field: '', normalise: 'text' };
      return { index, fieldItems: select(fieldEntries, row.field, 'No field'), normaliseItems: select(Object.entries(NORMALISATION_NAMES), row.normalise, 'Choose how') };
    }),
    subjectFieldItems: select(fieldEntries, values.subjectField, 'No field'),
    subjectKindItems: select(Object.entries(SUBJECT_KIND_NAMES), values.subjectKind, 'Choose a kind'),
    filterRows: Array.from({ length: rowCount(values.filters.length, 2) }, (_unused, index) => {
      const row = values.filters[index] ?? { field: '', op: '', value: '' };
      return { index, fieldItems: select(fieldEntries, row.field, 'No field'), opItems: select(Object.entries(OPERATOR_NAMES), row.op, 'Choose'), value: row.value };
    }),
    linkingItems: [
      { value: 'yes', text: 'Yes', checked: values.linkingAllowed === 'yes' },
      { value: 'no', text: 'No', checked: values.linkingAllowed === 'no' },
    ],
  };
}
