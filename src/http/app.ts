import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Services } from '../services.ts';
import { assetsVersion, loadAssets, registerAssets } from './assets.ts';
import { frameworkErrorHandler } from './bad-url.ts';
import { BODY_LIMIT_BYTES } from './body-errors.ts';
import { registerContentSecurityPolicy } from './content-security.ts';
import { registerErrorPages } from './error-pages.ts';
import { registerAuthentication } from './auth.ts';
import { registerSecurityHeaders } from './security-headers.ts';
import { registerFeatureRoutes } from './routes.ts';
import { registerViews } from './views.ts';

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._-]{8,100}$/;

/** Builds the HTTP application from the services; the caller listens or injects requests. */
export async function buildApp(services: Services): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: services.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: services.config.production,
    bodyLimit: BODY_LIMIT_BYTES,
    frameworkErrors: frameworkErrorHandler({ production: services.config.production, publicUrl: services.config.publicUrl }),
    genReqId: (request) => {
      const supplied = request.headers['x-request-id'];
      return typeof supplied === 'string' && REQUEST_ID_PATTERN.test(supplied) ? supplied : randomUUID();
    },
  });

  registerSecurityHeaders(app, { production: services.config.production });

  // One line per request, with allow-listed fields only; health checks are not logged.
  app.addHook('onResponse', async (request, reply) => {
    if (request.url === '/healthz') return;
    request.log.info(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      'request completed',
    );
  });

  // Pages: JSON errors for /api routes and GOV.UK error pages elsewhere, a CSP nonce per request, local assets.
  registerErrorPages(app);
  registerContentSecurityPolicy(app);
  const assets = loadAssets();
  registerViews(app, services, assetsVersion(assets));
  registerAssets(app, assets);

  app.get('/healthz', async (_request, reply) => {
    await services.db.app.selectNoFrom((eb) => eb.lit(1).as('ok')).execute();
    return reply.header('cache-control', 'no-store').send({ status: 'ok' });
  });

  await registerAuthentication(app, services);
  await registerFeatureRoutes(app, services);
  return app;
}
