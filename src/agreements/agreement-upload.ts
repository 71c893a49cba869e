import type { Database } from '../db/database.ts';
import { withOrganisation } from '../db/tenant.ts';
import { AppError } from '../errors.ts';
import { dateState, londonDate } from './agreement-dates.ts';
import * as repository from './agreement.repository.ts';

/** Codes of the terms an upload under an agreement can fail, as the upload API returns them with status 403. */
export type UploadRejectionCode = 'agreement_not_found' | 'not_the_provider' | 'agreement_not_active' | 'agreement_not_in_force' | 'dataset_not_agreed';

function rejection(code: UploadRejectionCode, message: string): AppError {
  return new AppError('forbidden', code, message, { fields: [{ field: 'agreement', message }] });
}

/**
 * Checks that an organisation may load a new version of `datasetSlug` under the agreement `reference`: the
 * organisation must be the agreement's provider, the agreement must be active and within its dates, and the dataset
 * must be one of the datasets of the version in force. Throws a 403 naming the failing term otherwise.
 *
 * NOTE: the check runs before the import's own transaction, so an agreement suspended while a file is being loaded
 * does not stop that one load. The recipients are then told of a version they cannot pull until the agreement resumes.
 */
export async function checkUploadUnderAgreement(db: Database, upload: { organisationId: string; reference: string; datasetSlug: string; now?: Date }): Promise<void> {
  const { organisationId, reference, datasetSlug } = upload;
  await withOrganisation(db.app, organisationId, async (trx) => {
    const agreement = await repository.findAgreementByReference(trx, reference);
    if (!agreement) throw rejection('agreement_not_found', `No agreement with the reference ${reference} is in force for your organisation. Check the reference.`);
    if (agreement.organisationId !== organisationId) {
      throw rejection('not_the_provider', `Your organisation is not the provider of ${reference}, so it cannot load data under it.`);
    }
    if (agreement.status !== 'active' || agreement.versionInForceId === null) {
      throw rejection('agreement_not_active', `${reference} is ${agreement.status.replace('_', ' ')}, so no data can be loaded under it until it is active.`);
    }
    const versions = await repository.listVersions(trx, agreement.id);
    const terms = versions.find((version) => version.id === agreement.versionInForceId)!.terms;
    const state = dateState(terms, upload.now ?? new Date());
    if (state === 'not_started' || state === 'expired') {
      const today = londonDate(upload.now ?? new Date());
      throw rejection('agreement_not_in_force', `${reference} is in force from ${terms.startDate} to ${terms.endDate}, and today is ${today}, so no data can be loaded under it.`);
    }
    const dataset = await trx.selectFrom('datasets').select('id').where('organisation_id', '=', organisationId).where('slug', '=', datasetSlug).executeTakeFirst();
    if (!dataset || !terms.datasets.some((entry) => entry.datasetId === dataset.id)) {
      throw rejection('dataset_not_agreed', `The dataset ${datasetSlug} is not one of the datasets shared under ${reference}. Load it under an agreement that names it.`);
    }
  });
}
