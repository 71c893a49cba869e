import assert from 'node:assert/strict';
import { parseTerms, termsToJson, type AgreementTerms } from '../agreements/agreement.terms.ts';
import type { Database } from '../db/database.ts';
import { setPlatformScope } from '../db/tenant.ts';

/** Inserts a dataset owned by `organisationId`, with no versions. */
export async function insertDataset(db: Database, organisationId: string, slug: string, title: string): Promise<string> {
  return db.app.transaction().execute(async (trx) => {
    await setPlatformScope(trx);
    const row = await trx.insertInto('datasets').values({ organisation_id: organisationId, slug, title }).returning('id').executeTakeFirstOrThrow();
    return row.id;
  });
}

export interface AgreementFixture {
  reference: string;
  provider: string;
  recipients: string[];
  datasetId: string;
  approverUserId: string;
  retentionMonths?: number;
  purposes?: AgreementTerms['purposes'];
}

/**
 * Inserts an active agreement whose version 1 is in force, with terms that pass the agreements feature's own checks:
 * the subject's NHS number is released pseudonymised as `nhs_number`.
 */
export async function insertActiveAgreement(db: Database, fixture: AgreementFixture): Promise<string> {
  const approver = (role: 'data_protection_officer') => [{ role, user_id: fixture.approverUserId, name: 'Pat Example' }];
  const json = {
    title: `Sharing under ${fixture.reference}`,
    summary: 'Care records shared for direct care.',
    parties: [
      { organisation_id: fixture.provider, sharing_role: 'provider', controller_role: 'controller', approvers: approver('data_protection_officer') },
      ...fixture.recipients.map((id) => ({ organisation_id: id, sharing_role: 'recipient', controller_role: 'controller', approvers: approver('data_protection_officer') })),
    ],
    purposes: fixture.purposes ?? ['direct_care'],
    purpose_description: 'Coordinating care after hospital discharge',
    special_category: true,
    lawful_basis: { article6: 'e', article9: 'h', schedule1: 2, statutory_powers: ['Care Act 2014 s.6'] },
    datasets: [{ dataset_id: fixture.datasetId, fields: ['nhs_number', 'care_package'], row_filter: null, pseudonymise: [{ field: 'nhs_number', normalise: 'nhs_number' }], subject: { field: 'nhs_number', kind: 'nhs_number' } }],
    linking_allowed: false,
    retention_months: fixture.retentionMonths ?? 24,
    retention_note: 'Then securely destroyed',
    security_requirements: ['Data Security and Protection Toolkit standards met'],
    start_date: '2026-01-01',
    end_date: '2028-12-31',
    review_date: '2027-12-31',
  };
  const parsed = parseTerms(json);
  assert.deepEqual(parsed.errors, [], 'the fixture terms are valid');
  return db.app.transaction().execute(async (trx) => {
    await setPlatformScope(trx);
    const agreement = await trx.insertInto('agreements').values({ organisation_id: fixture.provider, reference: fixture.reference, title: json.title }).returning('id').executeTakeFirstOrThrow();
    const terms = parsed.terms!;
    const version = await trx
      .insertInto('agreement_versions')
      .values({ organisation_id: fixture.provider, agreement_id: agreement.id, version: 1, status: 'approved', terms: JSON.stringify(termsToJson(terms)), purposes: terms.purposes, start_date: terms.startDate, end_date: terms.endDate, review_date: terms.reviewDate })
      .returning('id')
      .executeTakeFirstOrThrow();
    await trx.updateTable('agreements').set({ status: 'active', version_in_force_id: version.id }).where('id', '=', agreement.id).execute();
    for (const party of [fixture.provider, ...fixture.recipients]) {
      await trx.insertInto('agreement_parties').values({ agreement_id: agreement.id, party_organisation_id: party, organisation_id: fixture.provider }).execute();
    }
    return agreement.id;
  });
}
