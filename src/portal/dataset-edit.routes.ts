import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthContext } from '../accounts/auth-context.ts';
import { checkDatasetMetadata, LICENCES, MAX_RETENTION_MONTHS, UPDATE_FREQUENCIES } from '../catalogue/catalogue.metadata.ts';
import { organisationScope, type Dataset, type DatasetMetadata } from '../catalogue/catalogue.types.ts';
import { splitTags } from '../catalogue/metadata-fields.ts';
import { AppError, forbidden, type FieldError } from '../errors.ts';
import { hasRole, requireApplication, requireMember } from '../http/auth.ts';
import { formPageContext } from '../http/forms.ts';
import type { Services } from '../services.ts';
import { frequencyName } from './dataset-view.ts';

/** The roles that may change a dataset's details; administrators hold every role. */
const EDITOR_ROLES = ['data_steward'] as const;

/** The form's values as the user typed them, kept when the form comes back with errors. */
export type DetailsForm = {
  title: string;
  description: string;
  licence: string;
  tags: string;
  updateFrequency: string;
  temporalStart: DateParts;
  temporalEnd: DateParts;
  spatial: string;
  retentionMonths: string;
};

interface DateParts {
  day: string;
  month: string;
  year: string;
}

/** Returns whether the signed-in user may edit the dataset: a data steward or administrator of its organisation. */
export function canEditDataset(auth: AuthContext | null, dataset: Pick<Dataset, 'organisation'>): boolean {
  return auth !== null && auth.via === 'session' && auth.organisationId === dataset.organisation.id && hasRole(auth, EDITOR_ROLES);
}

/** Element ids the error summary links to, per field; a date input's errors link to its day box. */
const FIELD_IDS: Record<string, string> = {
  update_frequency: 'updateFrequency',
  temporal_start: 'temporalStart-day',
  temporal_end: 'temporalEnd-day',
  retention_months: 'retentionMonths',
};

function text(body: unknown, name: string): string {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : '';
}

function dateParts(body: unknown, name: string): DateParts {
  return { day: text(body, `${name}-day`).trim(), month: text(body, `${name}-month`).trim(), year: text(body, `${name}-year`).trim() };
}

/** Splits an ISO date into the three boxes of a GOV.UK date input. */
function partsOf(date: string | null): DateParts {
  if (date === null) return { day: '', month: '', year: '' };
  const [year, month, day] = date.split('-');
  return { day: String(Number(day)), month: String(Number(month)), year: year! };
}

/** Builds the day, month and year boxes of a GOV.UK date input, marked when in error. The macro prefixes their names. */
function dateItems(prefix: string, parts: DateParts, hasError: boolean) {
  const error = hasError ? ' govuk-input--error' : '';
  return [
    { id: `${prefix}-day`, name: 'day', label: 'Day', classes: `govuk-input--width-2${error}`, value: parts.day },
    { id: `${prefix}-month`, name: 'month', label: 'Month', classes: `govuk-input--width-2${error}`, value: parts.month },
    { id: `${prefix}-year`, name: 'year', label: 'Year', classes: `govuk-input--width-4${error}`, value: parts.year },
  ];
}

function formOf(dataset: Dataset): DetailsForm {
  return {
    title: dataset.title,
    description: dataset.description,
    licence: dataset.licenceId,
    tags: dataset.tags.join(', '),
    updateFrequency: dataset.updateFrequency ?? '',
    temporalStart: partsOf(dataset.temporalStart),
    temporalEnd: partsOf(dataset.temporalEnd),
    spatial: dataset.spatial ?? '',
    retentionMonths: dataset.retentionMonths === null ? '' : String(dataset.retentionMonths),
  };
}

/**
 * Reads a GOV.UK date input: all boxes empty is no date (null), anything else must be a real date. Errors follow
 * the GOV.UK date input messages and are keyed by `field`.
 */
export function readDate(parts: DateParts, label: string, field: string): { value: string | null } | { error: FieldError } {
  const { day, month, year } = parts;
  if (day === '' && month === '' && year === '') return { value: null };
  const missing = (['day', 'month', 'year'] as const).filter((part) => parts[part] === '');
  if (missing.length > 0) return { error: { field, message: `${label} must include a ${missing.join(' and ')}` } };
  if (!/^\d{1,2}$/.test(day) || !/^\d{1,2}$/.test(month) || !/^\d{4}$/.test(year)) {
    return { error: { field, message: `${label} must be a real date, with the year in 4 digits, like 1 4 2025` } };
  }
  const iso = `${year}-${month.padStart(2, '0')}-${day.padStart(2, '0')}`;
  const date = new Date(`${iso}T00:00:00Z`);
  if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== iso) return { error: { field, message: `${label} must be a real date` } };
  return { value: iso };
}

/** Turns the posted form into metadata, with the errors of the date inputs, which the catalogue cannot name. */
export function metadataFromForm(form: DetailsForm): { metadata: DatasetMetadata; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const start = readDate(form.temporalStart, 'Start date', 'temporal_start');
  const end = readDate(form.temporalEnd, 'End date', 'temporal_end');
  const metadata: DatasetMetadata = {
    title: form.title.trim(),
    description: form.description.trim(),
    licenceId: form.licence,
    tags: splitTags(form.tags),
    updateFrequency: form.updateFrequency === '' ? null : form.updateFrequency,
    spatial: form.spatial.trim() === '' ? null : form.spatial.trim(),
  };
  if ('error' in start) errors.push(start.error);
  else metadata.temporalStart = start.value;
  if ('error' in end) errors.push(end.error);
  else metadata.temporalEnd = end.value;
  const retention = readRetention(form.retentionMonths);
  if ('error' in retention) errors.push(retention.error);
  else metadata.retentionMonths = retention.value;
  return { metadata, errors };
}

/** Reads the retention box: empty keeps every version (null), anything else must be a whole number of months in range. */
function readRetention(text: string): { value: number | null } | { error: FieldError } {
  const trimmed = text.trim();
  if (trimmed === '') return { value: null };
  const months = /^\d{1,4}$/.test(trimmed) ? Number(trimmed) : NaN;
  if (Number.isInteger(months) && months >= 1 && months <= MAX_RETENTION_MONTHS) return { value: months };
  return { error: { field: 'retention_months', message: `Enter the retention period as a whole number of months from 1 to ${MAX_RETENTION_MONTHS}, or leave it empty to keep every version` } };
}

/** Returns the form's own errors and the catalogue's checks of every other field, in the order of the page. */
function allErrors(metadata: DatasetMetadata, formErrors: FieldError[]): FieldError[] {
  const errors = [...formErrors];
  if (metadata.title === '') errors.push({ field: 'title', message: 'Enter a title' });
  if (metadata.licenceId === '') errors.push({ field: 'licence', message: 'Select a licence' });
  const rest: DatasetMetadata = { ...metadata };
  if (rest.title === '') delete rest.title;
  if (rest.licenceId === '') delete rest.licenceId;
  try {
    checkDatasetMetadata(rest);
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    for (const field of error.fields) if (!errors.some((known) => known.field === field.field)) errors.push(field);
  }
  return errors.sort((a, b) => FORM_ORDER.indexOf(a.field) - FORM_ORDER.indexOf(b.field));
}

/** Fields in the order the form shows them, so the error summary follows the page. */
const FORM_ORDER = ['title', 'description', 'licence', 'tags', 'update_frequency', 'temporal_start', 'temporal_end', 'spatial', 'retention_months'];

/**
 * The "Edit dataset details" page at /dataset/{slug}/edit: a plain form, without JavaScript, for a data steward or
 * administrator of the dataset's organisation signed in to the portal. Bad input shows the form again with a 400, an
 * error summary and the values typed. The catalogue audits a saved change, and the user returns to the dataset page.
 */
export async function datasetEditRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const guards = [requireMember({ roles: [...EDITOR_ROLES] }), requireApplication('data_workspace')];

  const loadOwnDataset = async (request: FastifyRequest<{ Params: { slug: string } }>): Promise<Dataset> => {
    const auth = request.auth!;
    const dataset = await services.catalogue.showDataset(organisationScope(auth.organisationId!), request.params.slug);
    if (dataset.organisation.id !== auth.organisationId) {
      throw forbidden('dataset_of_another_organisation', `${dataset.title} belongs to ${dataset.organisation.name}. Only its data stewards and administrators can change its details.`);
    }
    return dataset;
  };

  const showForm = (request: FastifyRequest, reply: FastifyReply, dataset: Dataset, form: DetailsForm, errors: FieldError[]) =>
    reply.page(
      'dataset-edit.njk',
      {
        ...formPageContext(form, errors, FIELD_IDS),
        csrfToken: services.accounts.csrf.tokenFor(request, reply),
        dataset,
        startDateItems: dateItems('temporalStart', form.temporalStart, errors.some((error) => error.field === 'temporal_start')),
        endDateItems: dateItems('temporalEnd', form.temporalEnd, errors.some((error) => error.field === 'temporal_end')),
        licenceItems: LICENCES.map((licence) => ({ value: licence.id, text: licence.title, checked: licence.id === form.licence })),
        frequencyItems: [
          ...UPDATE_FREQUENCIES.map((value) => ({ value, text: frequencyName(value), checked: value === form.updateFrequency })),
          { divider: 'or' },
          { value: '', text: 'Not stated', checked: form.updateFrequency === '' },
        ],
        breadcrumbs: [
          { text: 'Home', href: '/' },
          { text: 'Datasets', href: '/datasets' },
          { text: dataset.title, href: `/dataset/${dataset.slug}` },
        ],
      },
      errors.length > 0 ? 400 : 200,
    );

  app.get<{ Params: { slug: string } }>('/dataset/:slug/edit', { preHandler: guards }, async (request, reply) => {
    const dataset = await loadOwnDataset(request);
    return showForm(request, reply, dataset, formOf(dataset), []);
  });

  app.post<{ Params: { slug: string } }>('/dataset/:slug/edit', { preHandler: guards }, async (request, reply) => {
    const dataset = await loadOwnDataset(request);
    const body = request.body;
    const form: DetailsForm = {
      title: text(body, 'title'),
      description: text(body, 'description'),
      licence: text(body, 'licence'),
      tags: text(body, 'tags'),
      updateFrequency: text(body, 'updateFrequency'),
      temporalStart: dateParts(body, 'temporalStart'),
      temporalEnd: dateParts(body, 'temporalEnd'),
      spatial: text(body, 'spatial'),
      retentionMonths: text(body, 'retentionMonths'),
    };
    const { metadata, errors } = metadataFromForm(form);
    if (errors.length > 0 || metadata.title === '' || metadata.licenceId === '') {
      return showForm(request, reply, dataset, form, allErrors(metadata, errors));
    }

    const auth = request.auth!;
    try {
      await services.catalogue.updateDatasetMetadata(organisationScope(auth.organisationId!), dataset.slug, metadata, { userId: auth.userId, kind: 'user', requestId: request.id });
    } catch (error) {
      if (!(error instanceof AppError) || error.kind !== 'validation' || error.fields.length === 0) throw error;
      request.log.info({ dataset: dataset.slug, fields: error.fields.map((field) => field.field) }, 'dataset details rejected');
      return showForm(request, reply, dataset, form, error.fields);
    }
    request.log.info({ dataset: dataset.slug }, 'dataset details saved');
    return reply.redirect(`/dataset/${encodeURIComponent(dataset.slug)}?saved=details`, 303);
  });
}
