import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { withOrganisation } from '../db/tenant.ts';
import { AppError, type FieldError } from '../errors.ts';
import { requireApplication, requireRole } from '../http/auth.ts';
import { formErrors } from '../http/forms.ts';
import type { FieldType, TableSchema } from '../ingest/table-schema.ts';
import type { Services } from '../services.ts';
import { actorFrom, loadPartyView, requireProvider } from './agreement-access.ts';
import { listApproverCandidates } from './agreement-approvers.ts';
import { draftInputErrors } from './agreement-drafting.ts';
import { FORM_FIELD_IDS, formFieldErrors } from './agreement-form-errors.ts';
import { formOptions } from './agreement-form-options.ts';
import { formValuesFromTerms, keptTerms, readForm, termsFromForm, type AgreementFormValues, type KeptTerms } from './agreement-form.ts';
import { termsToJson, type AgreementTerms } from './agreement.terms.ts';

interface DatasetChoice {
  id: string;
  slug: string;
  title: string;
  fields: Array<{ name: string; type: FieldType }>;
  schema: TableSchema | null;
}

/** The form's state besides the values: a new agreement or the draft of `reference`, and its stored terms when editing. */
interface FormMode {
  reference: string | null;
  stored: AgreementTerms | null;
}

function emptyValues(datasetId: string): AgreementFormValues {
  const blankDate = { day: '', month: '', year: '' };
  return {
    reference: '', title: '', summary: '', providerController: 'controller', providerDpo: '', providerSiro: '', recipients: [], purposes: [], purposeDescription: '',
    specialCategory: false, article6: '', article9: '', schedule1: '', statutoryPowers: '', dataset: datasetId, fields: [], pseudonymise: [], subjectField: '', subjectKind: '',
    filters: [], linkingAllowed: '', retentionMonths: '', retentionNote: '', securityRequirements: '', startDate: blankDate, endDate: blankDate, reviewDate: blankDate,
  };
}

/**
 * The drafting form, for a new agreement (`/agreements/manage/new`) and for the draft version of an existing one
 * (`/agreements/{reference}/edit`). The dataset is chosen first with a GET form, so the field checkboxes come from its
 * Table Schema without JavaScript.
 */
export async function agreementFormRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const { agreements } = services.exchange;
  const drafter = [requireRole('data_steward', 'data_protection_officer'), requireApplication('exchange')];

  const ownDatasets = (organisationId: string): Promise<DatasetChoice[]> =>
    withOrganisation(services.db.app, organisationId, async (trx) => {
      const rows = await trx
        .selectFrom('datasets as d')
        .leftJoin('resources as r', 'r.id', 'd.current_resource_id')
        .select(['d.id', 'd.slug', 'd.title', 'r.table_schema'])
        .where('d.organisation_id', '=', organisationId)
        .orderBy('d.title')
        .execute();
      return rows.map((row) => {
        const schema = row.table_schema ? (row.table_schema as TableSchema) : null;
        return { id: row.id, slug: row.slug, title: row.title, schema, fields: (schema?.fields ?? []).map((field) => ({ name: field.name, type: field.type })) };
      });
    });

  const render = async (request: FastifyRequest, reply: FastifyReply, mode: FormMode, values: AgreementFormValues | null, errors: FieldError[], datasetId: string) => {
    const organisationId = request.auth!.organisationId!;
    const datasets = await ownDatasets(organisationId);
    const dataset = datasets.find((candidate) => candidate.id === datasetId) ?? null;
    const shown = values ?? emptyValues(datasetId);
    const kept = keptFor(mode, datasetId);
    const { organisations, candidates } = await listApproverCandidates(services.db);
    const context = {
      ...formErrors(errors, FORM_FIELD_IDS),
      csrfToken: services.accounts.csrf.tokenFor(request, reply),
      reference: mode.reference,
      action: mode.reference === null ? '/agreements/manage/new' : `/agreements/${mode.reference}/edit`,
      chooseAction: mode.reference === null ? '/agreements/manage/new' : `/agreements/${mode.reference}/edit`,
      datasets,
      dataset,
      values: shown,
      keptFilter: kept.rowFilter === null ? null : JSON.stringify(kept.rowFilter),
      extraDatasets: kept.extraDatasets.length,
      ...formOptions({ organisationId, values: shown, datasetFields: dataset?.fields ?? [], organisations, candidates }),
    };
    return reply.page('agreements/form.njk', context, errors.length > 0 ? 400 : 200);
  };

  const keptFor = (mode: FormMode, datasetId: string): KeptTerms => {
    const extra = mode.stored ? (termsToJson(mode.stored).datasets as Array<Record<string, unknown>>).slice(1) : [];
    return keptTerms(mode.stored, datasetId, extra);
  };

  /** Checks the posted form and saves it through `save`; on any problem shows the form again with status 400. */
  const submitForm = async (request: FastifyRequest, reply: FastifyReply, mode: FormMode, save: (input: Record<string, unknown>, values: AgreementFormValues) => Promise<string>) => {
    const actor = actorFrom(request);
    const values = readForm(request.body);
    if (mode.reference !== null) values.reference = mode.reference;
    const datasets = await ownDatasets(actor.organisationId);
    const dataset = datasets.find((candidate) => candidate.id === values.dataset);
    if (!dataset) return render(request, reply, mode, values, [{ field: 'dataset', message: 'Select one of your organisation’s datasets' }], values.dataset);
    const { candidates } = await listApproverCandidates(services.db);
    const built = termsFromForm(values, { organisationId: actor.organisationId, candidates, schema: dataset.schema, kept: keptFor(mode, dataset.id) });
    const problems = [...built.errors, ...(await draftInputErrors(services.db, actor, mode.reference === null ? values.reference : null, built.input))];
    if (problems.length > 0) return render(request, reply, mode, values, formFieldErrors(problems, built.keys), dataset.id);
    try {
      const reference = await save(built.input, values);
      return reply.redirect(`/agreements/${reference}/manage?done=saved`, 303);
    } catch (error) {
      // The service checks the datasets and the reference again in its transaction; those errors name form fields too.
      if (error instanceof AppError && error.fields.length > 0) return render(request, reply, mode, values, formFieldErrors(error.fields, built.keys), dataset.id);
      throw error;
    }
  };

  app.get<{ Querystring: { dataset?: string } }>('/agreements/manage/new', { preHandler: drafter }, async (request, reply) => {
    const chosen = typeof request.query.dataset === 'string' ? request.query.dataset : undefined;
    const mode = { reference: null, stored: null };
    // The dataset chooser sends ?dataset=; an empty or unknown choice is an error to show, not a silent restart.
    if (chosen !== undefined && !(await ownDatasets(request.auth!.organisationId!)).some((dataset) => dataset.id === chosen)) {
      return render(request, reply, mode, null, [{ field: 'dataset', message: 'Select one of your organisation’s datasets' }], '');
    }
    return render(request, reply, mode, null, [], chosen ?? '');
  });

  app.post('/agreements/manage/new', { preHandler: drafter }, async (request, reply) =>
    submitForm(request, reply, { reference: null, stored: null }, async (input, values) => {
      await agreements.createDraft(actorFrom(request), values.reference, input);
      return values.reference;
    }),
  );

  /** The draft being edited; only the provider edits, and only a draft version. */
  const draftOf = async (request: FastifyRequest<{ Params: { reference: string } }>): Promise<FormMode> => {
    const view = await loadPartyView(agreements, request.auth!.organisationId!, request.params.reference);
    requireProvider(view, 'update');
    if (view.detail.latest.status !== 'draft') {
      throw new AppError('conflict', 'agreement_not_draft', `Version ${view.detail.latest.version} of ${view.detail.reference} is not a draft, so it cannot be edited. Start an amendment from the agreement page.`);
    }
    return { reference: view.detail.reference, stored: view.detail.latest.terms };
  };

  app.get<{ Params: { reference: string }; Querystring: { dataset?: string } }>('/agreements/:reference/edit', { preHandler: drafter }, async (request, reply) => {
    const mode = await draftOf(request);
    const values = formValuesFromTerms(mode.stored!, mode.reference!);
    const chosen = typeof request.query.dataset === 'string' && request.query.dataset !== '' ? request.query.dataset : values.dataset;
    if (chosen !== values.dataset) Object.assign(values, { dataset: chosen, fields: [], pseudonymise: [], subjectField: '', subjectKind: '', filters: [] });
    return render(request, reply, mode, values, [], chosen);
  });

  app.post<{ Params: { reference: string } }>('/agreements/:reference/edit', { preHandler: drafter }, async (request, reply) => {
    const mode = await draftOf(request);
    return submitForm(request, reply, mode, async (input) => {
      await agreements.updateDraft(actorFrom(request), mode.reference!, input);
      return mode.reference!;
    });
  });
}
