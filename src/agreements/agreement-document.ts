import { formatUkDate } from '../http/views.ts';
import { describeRowFilter } from './row-filter-text.ts';
import { ARTICLE_6_BASES, ARTICLE_9_CONDITIONS, SCHEDULE_1_CONDITIONS, schedule1Part } from './lawful-basis.ts';
import { APPROVER_ROLES, PURPOSES } from './agreement.terms.ts';
import type { AgreementDetail, AgreementVersion } from './agreement.types.ts';

/**
 * The agreement as a document: headed sections of paragraphs and lists. The HTML page and the PDF both render this
 * one model, so their content is the same.
 */
export interface DocumentSection {
  heading: string;
  paragraphs: string[];
  items: string[];
}

export interface AgreementDocument {
  reference: string;
  title: string;
  status: string;
  version: number;
  sections: DocumentSection[];
}

const CONTROLLER_ROLES = { controller: 'Controller', joint_controller: 'Joint controller', processor: 'Processor' };

function section(heading: string, paragraphs: string[], items: string[] = []): DocumentSection {
  return { heading, paragraphs: paragraphs.filter((text) => text !== ''), items };
}

export function agreementDocument(detail: AgreementDetail, version: AgreementVersion): AgreementDocument {
  const terms = version.terms;
  const name = (id: string) => detail.organisationNames[id] ?? 'Organisation';
  const basis = terms.lawfulBasis;
  const lawful = [`UK GDPR Article 6(1)(${basis.article6}): ${ARTICLE_6_BASES[basis.article6]}.`];
  if (basis.article9) lawful.push(`UK GDPR Article 9(2)(${basis.article9}): ${ARTICLE_9_CONDITIONS[basis.article9]}.`);
  if (basis.schedule1 !== null) {
    lawful.push(`Data Protection Act 2018 Schedule 1 Part ${schedule1Part(basis.schedule1)}, paragraph ${basis.schedule1}: ${SCHEDULE_1_CONDITIONS[basis.schedule1]}.`);
  }
  const datasets = terms.datasets.map((dataset) => {
    const title = detail.datasetTitles[dataset.datasetId]?.title ?? dataset.datasetId;
    const pseudonymised = dataset.pseudonymise.map((entry) => entry.field);
    const parts = [`${title}: fields ${dataset.fields.join(', ')}.`];
    if (pseudonymised.length > 0) parts.push(`Pseudonymised before release: ${pseudonymised.join(', ')}.`);
    parts.push(dataset.rowFilter ? `Only rows where ${describeRowFilter(dataset.rowFilter)} are released.` : 'All rows are released.');
    return parts.join(' ');
  });
  return {
    reference: detail.reference,
    title: terms.title,
    status: detail.status,
    version: version.version,
    sections: [
      section('Summary', [terms.summary]),
      section(
        'Parties',
        [],
        terms.parties.map((party) => `${name(party.organisationId)}: ${party.sharingRole === 'provider' ? 'provider' : 'recipient'}, ${CONTROLLER_ROLES[party.controllerRole].toLowerCase()}.`),
      ),
      section('Purposes', [terms.purposeDescription], terms.purposes.map((purpose) => PURPOSES[purpose])),
      section(
        'Lawful basis',
        [terms.specialCategory ? 'The data include special category data.' : 'The data include no special category data.'],
        [...lawful, ...basis.statutoryPowers.map((power) => `Statutory power relied on: ${power}.`)],
      ),
      section('Data shared', [], datasets),
      section('Conditions', [
        terms.linkingAllowed ? 'Recipients may link the datasets released under this agreement.' : 'Recipients must not link the datasets released under this agreement with each other.',
        `Recipients keep the data for at most ${terms.retentionMonths} months. ${terms.retentionNote}`.trim(),
      ]),
      section('Security requirements', [], terms.securityRequirements),
      section('Dates', [], [`In force from ${formatUkDate(terms.startDate)} to ${formatUkDate(terms.endDate)}.`, `Review due by ${formatUkDate(terms.reviewDate)}.`]),
      section(
        'Approvers',
        [],
        terms.parties.flatMap((party) => party.approvers.map((approver) => `${name(party.organisationId)}: ${APPROVER_ROLES[approver.role]}, ${approver.name}.`)),
      ),
    ],
  };
}
