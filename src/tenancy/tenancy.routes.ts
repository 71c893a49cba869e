import type { FastifyInstance } from 'fastify';
import type { Services } from '../services.ts';
import { adminRoutes } from './admin.routes.ts';
import { invitationRoutes } from './invitation.routes.ts';
import { organisationRoutes } from './organisation.routes.ts';
import { registrationRoutes } from './registration.routes.ts';
import { ssoRoutes } from './sso.routes.ts';

/** Every route of the tenancy feature. */
export async function tenancyRoutes(app: FastifyInstance, services: Services): Promise<void> {
  await registrationRoutes(app, services);
  await organisationRoutes(app, services);
  await invitationRoutes(app, services);
  await adminRoutes(app, services);
  await ssoRoutes(app, services);
}
