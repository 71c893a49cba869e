import type { FastifyInstance } from 'fastify';
import type { Services } from '../services.ts';
import { dpiaRoutes } from './dpia.routes.ts';
import { noticeRoutes } from './notice.routes.ts';
import { recordOfProcessingRoutes } from './record-of-processing.routes.ts';
import { SubjectAccessService } from './subject-access.service.ts';
import { subjectAccessRoutes } from './subject-access.routes.ts';

/** Registers the data protection pages and API: subject access, notices, the record of processing and DPIAs. */
export async function gdprRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const subjectAccess = new SubjectAccessService(services.db, services.audit.disclosures);
  await subjectAccessRoutes(app, services, subjectAccess);
  await noticeRoutes(app, services, services.gdpr.rectifications);
  await dpiaRoutes(app, services, services.gdpr.dpias);
  await recordOfProcessingRoutes(app, services);
}
