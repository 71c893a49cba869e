import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { organisationScope, type DatasetDetail, type LoadReport, type Visibility } from '../catalogue/catalogue.types.ts';
import { receiveUpload, registerUploadParser, uploadLimitBytes, type ReceivedFile } from '../catalogue/upload-body.ts';
import { forbidden, notFound, type FieldError } from '../errors.ts';
import { requireApplication, requireMember } from '../http/auth.ts';
import { formPageContext } from '../http/forms.ts';
import type { Services } from '../services.ts';
import { loadReportView } from './load-report-view.ts';
import { uploadFieldErrors } from './upload-errors.ts';

/** The roles that may load a file, as on the upload API; administrators hold every role. */
const UPLOADER_ROLES = ['data_steward'] as const;

/** The choices of the upload form, kept when the form comes back with errors; the file has to be chosen again. */
export type UploadForm = {
  sheet: string;
  visibility: string;
};

const FORM_FIELDS: ReadonlySet<keyof UploadForm> = new Set<keyof UploadForm>(['sheet', 'visibility']);

/** Fields in the order the form shows them, so the error summary follows the page. */
const FORM_ORDER = ['file', 'sheet', 'visibility'];

/** The extensions the importer reads, offered to the browser's file picker. */
const ACCEPTED_EXTENSIONS = '.csv,.tsv,.txt,.tab,.psv,.xlsx,.xlsm,.ods';

function readVisibility(value: string): Visibility | null {
  return value === 'private' || value === 'open' ? value : null;
}

/** Removes a temporary upload folder; a failure is logged, because the file must not stay behind unnoticed. */
async function removeFolder(request: FastifyRequest, folder: string): Promise<void> {
  await fs.promises.rm(folder, { recursive: true, force: true }).catch((error: unknown) => request.log.error({ err: error, folder }, 'upload folder not removed'));
}

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
  // A token needs the write scope here, as on the upload API; a browser session is checked by its roles only.
  const guards = [requireMember({ roles: [...UPLOADER_ROLES], scope: 'write' }), requireApplication('data_workspace')];

  const loadOwnDataset = async (request: FastifyRequest<{ Params: { slug: string } }>): Promise<DatasetDetail> => {
    const auth = request.auth!;
    const dataset = await services.catalogue.showDataset(organisationScope(auth.organisationId!), request.params.slug);
    if (dataset.organisation.id !== auth.organisationId) {
      throw forbidden('dataset_of_another_organisation', `${dataset.title} belongs to ${dataset.organisation.name}. Only its data stewards and administrators can upload new versions of it.`);
    }
    return dataset;
  };

  const showForm = (request: FastifyRequest, reply: FastifyReply, dataset: DatasetDetail, form: UploadForm, errors: FieldError[], status = 400) => {
    const sorted = [...errors].sort((a, b) => FORM_ORDER.indexOf(a.field) - FORM_ORDER.indexOf(b.field));
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
    if (!request.isMultipart()) {
      return showForm(request, reply, dataset, form(), [{ field: 'file', message: 'Select a CSV, XLSX or ODS file to upload' }]);
    }

    const folder = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'civic-upload-'));
    let report: LoadReport;
    try {
      let stored: ReceivedFile | null;
      try {
        stored = await receiveUpload(request, folder, FORM_FIELDS, fields, maxBytes);
      } catch (error) {
        const errors = await uploadFieldErrors(error, null, maxBytes);
        if (errors === null) throw error;
        request.log.info({ dataset: dataset.slug, code: (error as { code?: string }).code }, 'upload form rejected');
        return await showForm(request, reply, dataset, form(), errors, (error as { code?: string }).code === 'file_too_large' ? 413 : 400);
      }

      const errors: FieldError[] = [];
      // A browser sends a file part with no name and no bytes when the user chose no file.
      if (stored === null || (stored.sentName === '' && stored.byteSize === 0)) errors.push({ field: 'file', message: 'Select a CSV, XLSX or ODS file to upload' });
      const visibility = readVisibility(form().visibility);
      if (visibility === null) errors.push({ field: 'visibility', message: 'Select who can see the data' });
      if (errors.length > 0 || stored === null || visibility === null) return await showForm(request, reply, dataset, form(), errors);

      const auth = request.auth!;
      try {
        report = await services.imports.importFile(stored, {
          organisation: dataset.organisation.slug,
          dataset: dataset.slug,
          sheet: form().sheet.trim() || undefined,
          visibility,
          actor: { kind: 'organisation', organisationId: dataset.organisation.id, userId: auth.userId, tokenId: auth.tokenId ?? undefined },
          requestId: request.id,
        });
      } catch (error) {
        const fieldErrors = await uploadFieldErrors(error, stored, maxBytes);
        if (fieldErrors === null) throw error;
        request.log.info({ dataset: dataset.slug, code: (error as { code?: string }).code }, 'upload rejected by the importer');
        return await showForm(request, reply, dataset, form(), fieldErrors, (error as { kind?: string }).kind === 'conflict' ? 409 : 400);
      }
    } finally {
      await removeFolder(request, folder);
    }
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
