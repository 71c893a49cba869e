import type { FieldError } from '../errors.ts';

/** Form fields that show the errors of each top-level part of the terms. */
const STATIC_KEYS: Record<string, string> = {
  reference: 'reference',
  title: 'title',
  summary: 'summary',
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

/** Moves terms errors onto the form fields, keeping the first error of each field. */
export function formFieldErrors(errors: FieldError[], keys: Record<string, string>): FieldError[] {
  const placed: FieldError[] = [];
  for (const error of errors) {
    const field = formKeyFor(error.field, keys);
    if (!placed.some((seen) => seen.field === field)) placed.push({ field, message: error.message });
  }
  return placed;
}
