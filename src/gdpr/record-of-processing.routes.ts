import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { londonDate } from '../agreements/agreement-dates.ts';
import { appendAuditEvent } from '../audit/audit.repository.ts';
import { withOrganisation } from '../db/tenant.ts';
import { requireRole } from '../http/auth.ts';
import type { Services } from '../services.ts';
import { buildRecordOfProcessing } from './record-of-processing.ts';
import { rowsToCsv, rowsToOds } from './spreadsheet-export.ts';

/** The record of processing activities (Article 30) as CSV and ODS downloads for a DPO. */
export async function recordOfProcessingRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const dpoOnly = requireRole('data_protection_officer');

  async function download(request: FastifyRequest, reply: FastifyReply, format: 'csv' | 'ods') {
    const auth = request.auth!;
    const rows = await buildRecordOfProcessing(services.db, auth.organisationId!);
    await withOrganisation(services.db.app, auth.organisationId!, (trx) =>
      appendAuditEvent(trx, {
        organisationId: auth.organisationId!,
        actorUserId: auth.userId,
        actorKind: auth.via === 'token' ? 'token' : 'user',
        action: `record_of_processing.exported_${format}`,
        subjectType: 'record_of_processing',
        requestId: request.id,
        details: { agreementCount: rows.length - 1 },
      }),
    );
    const stem = `record-of-processing-${londonDate(new Date())}`;
    void reply.header('cache-control', 'no-store');
    void reply.header('content-disposition', `attachment; filename="${stem}.${format}"`);
    if (format === 'csv') return reply.type('text/csv; charset=utf-8').send(rowsToCsv(rows));
    return reply.type('application/vnd.oasis.opendocument.spreadsheet').send(await rowsToOds('Record of processing', rows));
  }

  app.get('/privacy/record-of-processing.csv', { preHandler: dpoOnly }, (request, reply) => download(request, reply, 'csv'));
  app.get('/privacy/record-of-processing.ods', { preHandler: dpoOnly }, (request, reply) => download(request, reply, 'ods'));
}
