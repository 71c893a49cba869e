import { sql } from 'kysely';
import { PURPOSES, storedTerms } from '../agreements/agreement.terms.ts';
import { ARTICLE_6_BASES } from '../agreements/lawful-basis.ts';
import type { Database } from '../db/database.ts';
import { withOrganisation } from '../db/tenant.ts';

export const RECORD_COLUMNS = [
  'Controller',
  'Controller contact',
  'Agreement reference',
  'Agreement title',
  'Status',
  'Purposes of processing',
  'Lawful basis',
  'Categories of data subjects',
  'Categories of personal data',
  'Special category data',
  'Recipients',
  'Transfers outside the UK',
  'Retention',
  'Security measures',
] as const;

const SUBJECT_KIND_LABELS: Record<string, string> = { nhs_number: 'NHS number', person_id: 'council person ID', email: 'email address' };

/** Statuses whose agreements the record lists: those that processing happens, or happened, under. */
const LISTED_STATUSES = ['active', 'suspended', 'lapsed_review', 'expired', 'terminated'];

interface AgreementRow {
  reference: string;
  title: string;
  status: string;
  terms: unknown;
}

/**
 * Builds the record of processing activities (UK GDPR Article 30(1)) of one controller: one row per information
 * sharing agreement it provides data under, from the terms of the version in force (or last in force).
 */
export async function buildRecordOfProcessing(db: Database, organisationId: string): Promise<string[][]> {
  return withOrganisation(db.app, organisationId, async (trx) => {
    const organisation = await trx.selectFrom('organisations').select(['name', 'website']).where('id', '=', organisationId).executeTakeFirstOrThrow();
    const officers = await trx
      .selectFrom('memberships as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .select('u.email')
      .where('m.organisation_id', '=', organisationId)
      .where('m.role', '=', 'data_protection_officer')
      .orderBy('u.email')
      .execute();
    const contact = [organisation.website, officers.length > 0 ? `Data protection officer: ${officers.map((officer) => officer.email).join(', ')}` : null].filter(Boolean).join('; ');

    const { rows } = await sql<AgreementRow>`
      select a.reference, a.title, a.status, v.terms
      from agreements a
      join agreement_versions v on v.id = a.version_in_force_id
      where a.organisation_id = ${organisationId} and a.status in (${sql.join(LISTED_STATUSES)})
      order by a.reference`.execute(trx);

    const organisationIds = new Set<string>();
    const datasetIds = new Set<string>();
    const parsed = rows.map((row) => ({ row, terms: storedTerms(row.terms) }));
    for (const { terms } of parsed) {
      for (const party of terms.parties) organisationIds.add(party.organisationId);
      for (const dataset of terms.datasets) datasetIds.add(dataset.datasetId);
    }
    const names = organisationIds.size === 0 ? [] : await trx.selectFrom('organisations').select(['id', 'name']).where('id', 'in', [...organisationIds]).execute();
    const titles = datasetIds.size === 0 ? [] : await trx.selectFrom('datasets').select(['id', 'title']).where('id', 'in', [...datasetIds]).execute();
    const nameOf = new Map(names.map((item) => [item.id, item.name]));
    const titleOf = new Map(titles.map((item) => [item.id, item.title]));

    const records = parsed.map(({ row, terms }) => {
      const subjects = terms.datasets.map((dataset) => {
        const title = titleOf.get(dataset.datasetId) ?? dataset.datasetId;
        return dataset.subject ? `People in ${title}, identified by ${SUBJECT_KIND_LABELS[dataset.subject.kind] ?? dataset.subject.kind}` : `People in ${title}`;
      });
      const data = terms.datasets.map((dataset) => `${titleOf.get(dataset.datasetId) ?? dataset.datasetId}: ${dataset.fields.join(', ')}`);
      const recipients = terms.parties.filter((party) => party.sharingRole === 'recipient').map((party) => nameOf.get(party.organisationId) ?? party.organisationId);
      const basis = [`Article 6(1)(${terms.lawfulBasis.article6}) ${ARTICLE_6_BASES[terms.lawfulBasis.article6]}`];
      if (terms.lawfulBasis.article9) basis.push(`Article 9(2)(${terms.lawfulBasis.article9})`);
      if (terms.lawfulBasis.schedule1 !== null) basis.push(`DPA 2018 Schedule 1 paragraph ${terms.lawfulBasis.schedule1}`);
      if (terms.lawfulBasis.statutoryPowers.length > 0) basis.push(terms.lawfulBasis.statutoryPowers.join(', '));
      return [
        organisation.name,
        contact,
        row.reference,
        row.title,
        row.status,
        [...terms.purposes.map((purpose) => PURPOSES[purpose]), terms.purposeDescription].filter((item) => item !== '').join('; '),
        basis.join('; '),
        subjects.join('; '),
        data.join('; '),
        terms.specialCategory ? 'Yes' : 'No',
        recipients.join('; '),
        // NOTE: agreement terms have no field for international transfers, and the exchange releases only to
        // organisations registered on this UK platform, so every row states none.
        'None outside the UK',
        `${terms.retentionMonths} months${terms.retentionNote ? `: ${terms.retentionNote}` : ''}`,
        terms.securityRequirements.join('; '),
      ];
    });
    return [[...RECORD_COLUMNS], ...records];
  });
}
