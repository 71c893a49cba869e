import type { FastifyInstance } from 'fastify';
import { requireApplication, requireMember } from '../http/auth.ts';
import type { Services } from '../services.ts';
import { listPartyAgreements, loadPartyView, STATUS_LABELS } from './agreement-access.ts';
import { STATUS_TAG_CLASSES } from './agreement-manage.routes.ts';
import { PURPOSES } from './agreement.terms.ts';

/**
 * `/exchange`: for a recipient organisation, what it can pull under each agreement in force: the datasets, the fields
 * and which are pseudonymised, the purposes, the dates, and the API addresses with a curl example.
 */
export async function recipientPageRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const { agreements } = services.exchange;
  const publicUrl = services.config.publicUrl;

  app.get('/exchange', { preHandler: [requireMember(), requireApplication('exchange')] }, async (request, reply) => {
    const organisationId = request.auth!.organisationId!;
    const received = (await listPartyAgreements(agreements, organisationId)).filter((row) => !row.isProvider && row.inForceVersion !== null);
    const shares = [];
    for (const row of received) {
      const { detail } = await loadPartyView(agreements, organisationId, row.summary.reference);
      const terms = detail.inForce!.terms;
      if (!terms.parties.some((party) => party.organisationId === organisationId && party.sharingRole === 'recipient')) continue;
      const base = `${publicUrl}/api/v1/exchange/agreements/${detail.reference}/datasets`;
      shares.push({
        reference: detail.reference,
        title: detail.title,
        provider: detail.organisationNames[detail.organisationId] ?? 'Unknown organisation',
        statusLabel: STATUS_LABELS[detail.status],
        statusClass: STATUS_TAG_CLASSES[detail.status],
        releasing: detail.status === 'active',
        purposes: terms.purposes.map((purpose) => ({ code: purpose, label: PURPOSES[purpose] })),
        startDate: terms.startDate,
        endDate: terms.endDate,
        reviewDate: terms.reviewDate,
        datasets: terms.datasets.map((dataset) => {
          const slug = detail.datasetTitles[dataset.datasetId]?.slug ?? dataset.datasetId;
          const records = `${base}/${slug}/records`;
          return {
            title: detail.datasetTitles[dataset.datasetId]?.title ?? slug,
            fields: dataset.fields,
            pseudonymised: dataset.pseudonymise.map((entry) => entry.field),
            rowsLimited: dataset.rowFilter !== null,
            urls: { records, changes: `${base}/${slug}/changes`, export: `${base}/${slug}/export?format=csv` },
            curl: `curl --fail -H "Authorization: Bearer $CIVIC_TOKEN" -H "Civic-Purpose: ${terms.purposes[0]}" "${records}?limit=100"`,
          };
        }),
      });
    }
    return reply.page('exchange/recipient.njk', { shares, signingKeysUrl: `${publicUrl}/api/v1/exchange/signing-keys` });
  });
}
