import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { organisationScope, type DatasetDetail } from '../catalogue/catalogue.types.ts';
import { registerUploadParser, uploadLimitBytes } from '../catalogue/upload-body.ts';
import { forbidden, notFound, type FieldError } from '../errors.ts';
import { formPageContext } from '../http/forms.ts';
import type { Services } from '../services.ts';
import { loadReportView } from './load-report-view.ts';
import { ACCEPTED_EXTENSIONS, inFormOrder, readVisibility, receiveUploadForm, uploaderGuards } from './upload-form.ts';

/** The choices of the upload form, kept when the form comes back with errors; the file has to be chosen again. */
export type UploadForm = {
  sheet: string;
  visibility: string;
};

const FORM_FIELDS: ReadonlySet<keyof UploadForm> = new Set<keyof UploadForm>(['sheet', 'visibility']);

/** Fields in the order the form shows them, so the error summary follows the page. */
const FORM_ORDER = ['file', 'sheet', 'visibility'];

/**
 * Registers the "Upload a new version" page at /dataset/{slug}/upload and the load report page it leads to. The page
 * is a plain multipart form, without JavaScript, for a data steward or administrator of the dataset's organisation
 * signed in to the portal. It loads the file with the import service, as the upload API does, in one transaction, so
 * a rejected file leaves the current version serving. Bad input shows the form again with an error summary and the
 * choices made.
 */
export async function datasetUploadRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const maxBytes = uploadLimitBytes();
  await registerUploadParser(app, maxBytes);
  const guards = uploaderGuards();

  const loadOwnDataset = async (request: FastifyRequest<{ Params: { slug: string } }>): Promise<DatasetDetail> => {
    const auth = request.auth!;
    const dataset = await services.catalogue.showDataset(organisationScope(auth.organisationId!), request.params.slug);
    if (dataset.organisation.id !== auth.organisationId) {
      throw forbidden('dataset_of_another_organisation', `${dataset.title} belongs to ${dataset.organisation.name}. Only its data stewards and administrators can upload new versions of it.`);
    }
    return dataset;
  };

  const showForm = (request: FastifyRequest, reply: FastifyReply, dataset: DatasetDetail, form: UploadForm, errors: FieldError[], status = 400) => {
    const sorted = inFormOrder(errors, FORM_ORDER);
    return reply.page(
      'dataset-upload.njk',
      {
        ...formPageContext(form, sorted),
        csrfToken: services.accounts.csrf.tokenFor(request, reply),
        dataset,
        nextVersion: (dataset.versions[0]?.version ?? 0) + 1,
        maxMegabytes: Math.round(maxBytes / 1_048_576),
        acceptedExtensions: ACCEPTED_EXTENSIONS,
        visibilityItems: [
          { value: 'private', text: 'Private', hint: { text: `Only members of ${dataset.organisation.name} can see the data.` }, checked: form.visibility === 'private' },
          { value: 'open', text: 'Open', hint: { text: 'Anyone can see and download the data, under the dataset’s licence.' }, checked: form.visibility === 'open' },
        ],
        breadcrumbs: [
          { text: 'Home', href: '/' },
          { text: 'Datasets', href: '/datasets' },
          { text: dataset.title, href: `/dataset/${dataset.slug}` },
        ],
      },
      sorted.length > 0 ? status : 200,
    );
  };

  app.get<{ Params: { slug: string } }>('/dataset/:slug/upload', { preHandler: guards }, async (request, reply) => {
    const dataset = await loadOwnDataset(request);
    return showForm(request, reply, dataset, { sheet: '', visibility: dataset.visibility }, []);
  });

  app.post<{ Params: { slug: string } }>('/dataset/:slug/upload', { preHandler: guards }, async (request, reply) => {
    const dataset = await loadOwnDataset(request);
    const fields: Partial<UploadForm> = {};
    const form = (): UploadForm => ({ sheet: fields.sheet ?? '', visibility: fields.visibility ?? dataset.visibility });
    const auth = request.auth!;
    const result = await receiveUploadForm(request, {
      allowed: FORM_FIELDS,
      fields,
      maxBytes,
      logContext: { dataset: dataset.slug },
      check: () => (readVisibility(form().visibility) === null ? [{ field: 'visibility', message: 'Select who can see the data' }] : []),
      load: (file) =>
        services.imports.importFile(file, {
          organisation: dataset.organisation.slug,
          dataset: dataset.slug,
          sheet: form().sheet.trim() || undefined,
          visibility: readVisibility(form().visibility)!,
          actor: { kind: 'organisation', organisationId: dataset.organisation.id, userId: auth.userId, tokenId: auth.tokenId ?? undefined },
          requestId: request.id,
        }),
    });
    if ('errors' in result) return showForm(request, reply, dataset, form(), result.errors, result.status);

    const report = result.report;
    request.log.info({ dataset: report.dataset, resource_id: report.resource_id, version: report.version, rows: report.rows }, 'upload loaded');
    return reply.redirect(`/dataset/${encodeURIComponent(dataset.slug)}/resource/${report.resource_id}/report`, 303);
  });

  app.get<{ Params: { slug: string; id: string } }>('/dataset/:slug/resource/:id/report', { preHandler: guards }, async (request, reply) => {
    const dataset = await loadOwnDataset(request);
    const version = dataset.versions.find((candidate) => candidate.id === request.params.id);
    if (!version) throw notFound('resource_not_found', `${dataset.title} has no version with the id ${request.params.id}.`);
    return reply.page('load-report.njk', {
      dataset,
      version,
      isCurrent: dataset.currentResource?.id === version.id,
      report: loadReportView(dataset, version),
      breadcrumbs: [
        { text: 'Home', href: '/' },
        { text: 'Datasets', href: '/datasets' },
        { text: dataset.title, href: `/dataset/${dataset.slug}` },
      ],
    });
  });
}
