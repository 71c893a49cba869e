import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthContext } from '../accounts/auth-context.ts';
import { organisationScope, type Organisation } from '../catalogue/catalogue.types.ts';
import { registerUploadParser, uploadLimitBytes, type ReceivedFile } from '../catalogue/upload-body.ts';
import { AppError, forbidden, notFound, type FieldError } from '../errors.ts';
import { hasRole } from '../http/auth.ts';
import { formPageContext } from '../http/forms.ts';
import type { Services } from '../services.ts';
import { chosenSlug, NEW_DATASET_FIELDS, NEW_DATASET_ORDER, newDatasetFormErrors, slugInUseMessage, type NewDatasetForm, type SlugOwner } from './dataset-create-form.ts';
import { ACCEPTED_EXTENSIONS, inFormOrder, readVisibility, receiveUploadForm, UPLOADER_ROLES, uploaderGuards } from './upload-form.ts';

/** The import service's codes for a slug that a dataset already has. */
const SLUG_IN_USE_CODES = new Set(['dataset_slug_taken', 'dataset_exists']);

/**
 * Returns whether the signed-in user may add datasets to the organisation: one of its data stewards or administrators,
 * once the organisation is approved.
 */
export function canAddDataset(auth: AuthContext | null, organisation: { id: string; status: string }): boolean {
  if (organisation.status !== 'active') return false;
  return auth !== null && auth.via === 'session' && auth.organisationId === organisation.id && hasRole(auth, UPLOADER_ROLES);
}

/**
 * Registers the "Add a dataset" page at /organisation/{slug}/datasets/new. A data steward or administrator of the
 * organisation gives a title, a slug (made from the title when left empty), the file, a sheet and the visibility. The
 * post creates the dataset and loads the file as its version 1 in one import transaction, so a file that cannot be
 * loaded leaves no dataset behind, then shows the load report. It is a plain multipart form that works without
 * JavaScript, and bad input shows the form again with an error summary and the entries kept.
 */
export async function datasetCreateRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const maxBytes = uploadLimitBytes();
  await registerUploadParser(app, maxBytes);
  const guards = uploaderGuards();

  const loadOwnOrganisation = async (request: FastifyRequest<{ Params: { slug: string } }>): Promise<Organisation> => {
    const auth = request.auth!;
    const organisation = await services.catalogue.findOrganisation(organisationScope(auth.organisationId!), request.params.slug);
    if (!organisation) throw notFound('organisation_not_found', `No organisation has the slug "${request.params.slug}".`);
    if (organisation.id !== auth.organisationId) {
      throw forbidden('organisation_mismatch', `Only data stewards and administrators of ${organisation.name} can add datasets to it.`);
    }
    return organisation;
  };

  const showForm = (request: FastifyRequest, reply: FastifyReply, organisation: Organisation, form: NewDatasetForm, errors: FieldError[], status = 400) => {
    const sorted = inFormOrder(errors, NEW_DATASET_ORDER);
    return reply.page(
      'dataset-create.njk',
      {
        ...formPageContext(form, sorted),
        csrfToken: services.accounts.csrf.tokenFor(request, reply),
        organisation,
        maxMegabytes: Math.round(maxBytes / 1_048_576),
        acceptedExtensions: ACCEPTED_EXTENSIONS,
        visibilityItems: [
          { value: 'private', text: 'Private', hint: { text: `Only members of ${organisation.name} can see the data.` }, checked: form.visibility === 'private' },
          { value: 'open', text: 'Open', hint: { text: 'Anyone can see and download the data, under the dataset’s licence.' }, checked: form.visibility === 'open' },
        ],
        breadcrumbs: [
          { text: 'Home', href: '/' },
          { text: 'Organisations', href: '/organisations' },
          { text: organisation.name, href: `/organisation/${organisation.slug}` },
        ],
      },
      sorted.length > 0 ? status : 200,
    );
  };

  app.get<{ Params: { slug: string } }>('/organisation/:slug/datasets/new', { preHandler: guards }, async (request, reply) => {
    const organisation = await loadOwnOrganisation(request);
    return showForm(request, reply, organisation, { title: '', dataset: '', sheet: '', visibility: 'private' }, []);
  });

  app.post<{ Params: { slug: string } }>('/organisation/:slug/datasets/new', { preHandler: guards }, async (request, reply) => {
    const organisation = await loadOwnOrganisation(request);
    const auth = request.auth!;
    const fields: Partial<NewDatasetForm> = {};
    const form = (): NewDatasetForm => ({ title: fields.title ?? '', dataset: fields.dataset ?? '', sheet: fields.sheet ?? '', visibility: fields.visibility ?? 'private' });
    const findOwner = async (slug: string): Promise<SlugOwner> => {
      const existing = await services.catalogue.findDataset(organisationScope(organisation.id), slug);
      if (!existing) return null;
      return existing.organisation.id === organisation.id ? 'own' : 'other';
    };

    const load = async (file: ReceivedFile) => {
      const { slug, derived } = chosenSlug(form());
      try {
        return await services.imports.importFile(file, {
          organisation: organisation.slug,
          dataset: slug,
          title: form().title.trim(),
          newDataset: true,
          sheet: form().sheet.trim() || undefined,
          visibility: readVisibility(form().visibility)!,
          actor: { kind: 'organisation', organisationId: organisation.id, userId: auth.userId, tokenId: auth.tokenId ?? undefined },
          requestId: request.id,
        });
      } catch (error) {
        // The check before the load cannot see another organisation's private datasets, so the insert finds those.
        if (!(error instanceof AppError) || !SLUG_IN_USE_CODES.has(error.code)) throw error;
        const message = slugInUseMessage(slug, derived, error.code === 'dataset_exists' ? 'own' : 'other');
        throw new AppError('conflict', error.code, message, { fields: [{ field: 'dataset', message }], cause: error });
      }
    };

    const result = await receiveUploadForm(request, {
      allowed: NEW_DATASET_FIELDS,
      fields,
      maxBytes,
      logContext: { organisation: organisation.slug },
      check: () => newDatasetFormErrors(form(), findOwner),
      load,
    });
    if ('errors' in result) return showForm(request, reply, organisation, form(), result.errors, result.status);

    const report = result.report;
    request.log.info({ organisation: organisation.slug, dataset: report.dataset, resource_id: report.resource_id, rows: report.rows }, 'dataset created from upload');
    return reply.redirect(`/dataset/${encodeURIComponent(report.dataset)}/resource/${report.resource_id}/report`, 303);
  });
}
