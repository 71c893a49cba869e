import type { FieldError } from '../errors.ts';

/** Form fields that show the errors of each top-level part of the terms. */
const STATIC_KEYS: Record<string, string> = {
  reference: 'reference',
  title: 'title',
  summary: 'summary',
  // The form always names the drafter's organisation as the one provider, so the parties' errors are about recipients.
  parties: 'recipient-0-organisation',
  'parties[0]': 'providerController',
  purposes: 'purposes',
  purpose_description: 'purposeDescription',
  lawful_basis: 'article6',
  'lawful_basis.article6': 'article6',
  'lawful_basis.article9': 'article9',
  'lawful_basis.schedule1': 'schedule1',
  'lawful_basis.statutory_powers': 'statutoryPowers',
  datasets: 'dataset',
  'datasets[0].dataset_id': 'dataset',
  'datasets[0].fields': 'fields',
  'datasets[0].pseudonymise': 'pseudonymise-0-field',
  'datasets[0].subject': 'subjectField',
  'datasets[0].subject.kind': 'subjectKind',
  'datasets[0].row_filter': 'filter-0-field',
  retention_months: 'retentionMonths',
  retention_note: 'retentionNote',
  security_requirements: 'securityRequirements',
  start_date: 'startDate',
  end_date: 'endDate',
  review_date: 'reviewDate',
};

/** Ids of the first input of form fields whose id differs from their name, for the error summary links. */
export const FORM_FIELD_IDS: Record<string, string> = {
  dataset: 'choose-dataset',
  startDate: 'startDate-day',
  endDate: 'endDate-day',
  reviewDate: 'reviewDate-day',
};

/**
 * Names the form field that shows an error at `path` in the terms: the longest path in `keys` (this form's rows)
 * or in the fixed table that `path` starts with. Errors the form cannot place stay on their path.
 */
export function formKeyFor(path: string, keys: Record<string, string>): string {
  const table = { ...STATIC_KEYS, ...keys };
  let best = '';
  for (const candidate of Object.keys(table)) {
    const matches = path === candidate || path.startsWith(`${candidate}.`) || path.startsWith(`${candidate}[`);
    if (matches && candidate.length > best.length) best = candidate;
  }
  return best === '' ? path : table[best]!;
}

/**
 * The form's fields in page order. Rows that repeat (recipients, pseudonymised fields, filter conditions) are matched
 * by prefix and sorted by their number, so the error summary lists problems in the order the page shows them.
 */
const PAGE_ORDER = [
  'dataset', 'reference', 'title', 'summary', 'providerController', 'providerDpo', 'providerSiro', 'recipient-',
  'purposes', 'purposeDescription', 'article6', 'article9', 'schedule1', 'specialCategory', 'statutoryPowers', 'fields',
  'pseudonymise-', 'subjectField', 'subjectKind', 'filter-', 'linkingAllowed', 'retentionMonths', 'retentionNote',
  'securityRequirements', 'startDate', 'endDate', 'reviewDate',
];

/** Returns the position of a form field on the page, for sorting errors; fields the form does not know go last. */
function pagePosition(field: string): [number, number] {
  const index = PAGE_ORDER.findIndex((entry) => (entry.endsWith('-') ? field.startsWith(entry) : field === entry));
  const row = Number(/^[a-z]+-(\d+)-/.exec(field)?.[1] ?? 0);
  return [index < 0 ? PAGE_ORDER.length : index, row];
}

/** Sorts form errors into page order, keeping the order of errors at the same place. */
export function inPageOrder(errors: FieldError[]): FieldError[] {
  return errors
    .map((error, index) => ({ error, index, position: pagePosition(error.field) }))
    .sort((a, b) => a.position[0] - b.position[0] || a.position[1] - b.position[1] || a.index - b.index)
    .map((entry) => entry.error);
}

/** Moves terms errors onto the form fields, keeping the first error of each field, in page order. */
export function formFieldErrors(errors: FieldError[], keys: Record<string, string>): FieldError[] {
  const placed: FieldError[] = [];
  for (const error of errors) {
    const field = formKeyFor(error.field, keys);
    if (!placed.some((seen) => seen.field === field)) placed.push({ field, message: error.message });
  }
  return inPageOrder(placed);
}
