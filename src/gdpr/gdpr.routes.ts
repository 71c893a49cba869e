import type { FastifyInstance } from 'fastify';
import type { Services } from '../services.ts';
import { SubjectAccessService } from './subject-access.service.ts';
import { subjectAccessRoutes } from './subject-access.routes.ts';

/** Registers the data protection pages and API: subject access. */
export async function gdprRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const subjectAccess = new SubjectAccessService(services.db, services.audit.disclosures);
  await subjectAccessRoutes(app, services, subjectAccess);
}
