import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { COUNCIL_NAME } from '../http/views.ts';
import { AppError } from '../errors.ts';
import type { Services } from '../services.ts';
import { agreementDocument } from './agreement-document.ts';
import { renderAgreementPdf } from './agreement-pdf.ts';
import { STATUS_LABELS } from './agreement-access.ts';
import { agreementApiRoutes } from './agreement-api.routes.ts';
import { agreementFormRoutes } from './agreement-form.routes.ts';
import { agreementManageRoutes } from './agreement-manage.routes.ts';
import { agreementDiscardRoutes } from './agreement-discard.routes.ts';
import { recipientPageRoutes } from './recipient-page.routes.ts';
import { PURPOSES } from './agreement.terms.ts';
import { REFERENCE_PATTERN } from './agreement-drafting.ts';

/**
 * The public register of agreements in force, and each agreement as an HTML page and a PDF. Parties that are signed
 * in also see their own agreements in other states here. Also registers the agreements API, the pages where
 * parties draft and manage agreements, and the recipients' page at /exchange.
 */
export async function agreementRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const { agreements } = services.exchange;
  await agreementApiRoutes(app, services);
  await agreementFormRoutes(app, services);
  await agreementManageRoutes(app, services);
  await agreementDiscardRoutes(app, services);
  await recipientPageRoutes(app, services);

  app.get('/agreements', async (_request, reply) => {
    const register = await agreements.listRegister();
    return reply.page('agreements/register.njk', {
      agreements: register.map((agreement) => {
        const terms = agreement.inForce!.terms;
        return {
          reference: agreement.reference,
          title: agreement.title,
          purposes: terms.purposes.map((purpose) => PURPOSES[purpose]),
          parties: terms.parties.map((party) => agreement.organisationNames[party.organisationId] ?? 'Organisation'),
          reviewDate: terms.reviewDate,
        };
      }),
    });
  });

  app.get<{ Params: { reference: string } }>(
    '/agreements/:reference',
    { schema: { params: Type.Object({ reference: Type.String({ maxLength: 200 }) }) } },
    async (request, reply) => {
      const pdf = request.params.reference.endsWith('.pdf');
      const reference = pdf ? request.params.reference.slice(0, -4) : request.params.reference;
      if (!REFERENCE_PATTERN.test(reference)) {
        // References are upper case, so a typed or shared link in lower case goes to the agreement it names.
        const upper = reference.toUpperCase();
        if (REFERENCE_PATTERN.test(upper)) return reply.redirect(`/agreements/${encodeURIComponent(upper)}${pdf ? '.pdf' : ''}`, 301);
        const message = `"${reference}" is not an agreement reference. References are 3 to 60 capital letters, digits and hyphens, such as THR-ISA-2026-014. Find the agreement in the register.`;
        return reply.page('errors/404.njk', { message }, 404);
      }
      let detail;
      try {
        detail = await agreements.getDetail(request.auth?.organisationId ?? null, reference);
      } catch (error) {
        if (error instanceof AppError && error.kind === 'not_found') {
          // The public can read agreements in force only, so a suspended, ended or expired one is not found here.
          const message = `No agreement in force has the reference ${reference}. The register lists agreements in force only, so an agreement that is suspended, terminated, expired or past its review date is not shown. Parties to it can still see it under Your agreements.`;
          return reply.page('errors/404.njk', { message }, 404);
        }
        throw error;
      }
      const version = detail.inForce ?? detail.latest;
      const document = agreementDocument(detail, version);
      if (pdf) {
        const body = await renderAgreementPdf(document, COUNCIL_NAME);
        return reply.type('application/pdf').header('content-disposition', `inline; filename="${reference}.pdf"`).send(body);
      }
      return reply.page('agreements/document.njk', { document, statusLabel: STATUS_LABELS[detail.status] ?? detail.status });
    },
  );
}
