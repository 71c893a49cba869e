import type { FastifyInstance } from 'fastify';
import { accountRoutes } from '../accounts/accounts.routes.ts';
import { apiV1Routes } from '../api-v1/api-v1.routes.ts';
import { registerOpenApi } from '../api-v1/openapi.ts';
import { auditRoutes } from '../audit/audit.routes.ts';
import { gdprRoutes } from '../gdpr/gdpr.routes.ts';
import { ckanRoutes } from '../ckan-api/ckan.routes.ts';
import { exchangeRoutes } from '../exchange/exchange.routes.ts';
import { agreementRoutes } from '../agreements/agreement.routes.ts';
import { uploadRoutes } from '../catalogue/upload.routes.ts';
import { registerPortal } from '../portal/portal.plugin.ts';
import { publicationRoutes } from '../publication/publication.routes.ts';
import type { Services } from '../services.ts';
import { tenancyRoutes } from '../tenancy/tenancy.routes.ts';

/**
 * Registers each feature folder's routes. Features are Fastify plugins, so each can set its own error handler and
 * hooks (the CKAN envelope, HTML error pages) without touching the others.
 */
export async function registerFeatureRoutes(app: FastifyInstance, services: Services): Promise<void> {
  // First, so @fastify/swagger sees every route registered after it.
  await registerOpenApi(app, services);
  await app.register(async (instance) => accountRoutes(instance, services));
  await app.register(async (instance) => tenancyRoutes(instance, services));
  await app.register(async (instance) => registerPortal(instance, services));
  await app.register(async (instance) => uploadRoutes(instance, services));
  await app.register(async (instance) => auditRoutes(instance, services));
  await app.register(async (instance) => gdprRoutes(instance, services));
  await app.register(async (instance) => ckanRoutes(instance, services));
  await app.register(async (instance) => apiV1Routes(instance, services));
  await app.register(async (instance) => exchangeRoutes(instance, services));
  await app.register(async (instance) => agreementRoutes(instance, services));
  await app.register(async (instance) => publicationRoutes(instance, services));
}
