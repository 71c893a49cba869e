import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Services } from '../services.ts';
import { assetsVersion, loadAssets, registerAssets } from './assets.ts';
import { sendFrameworkError } from './bad-url.ts';
import { registerContentSecurityPolicy } from './content-security.ts';
import { registerErrorPages } from './error-pages.ts';
import { registerAuthentication } from './auth.ts';
import { registerFeatureRoutes } from './routes.ts';
import { registerViews } from './views.ts';

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._-]{8,100}$/;

/** Builds the HTTP application from the services; the caller listens or injects requests. */
export async function buildApp(services: Services): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: services.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: services.config.production,
    bodyLimit: 2 * 1024 * 1024,
    frameworkErrors: (error, request, reply) => sendFrameworkError(services.config.publicUrl, error, request, reply),
    genReqId: (request) => {
      const supplied = request.headers['x-request-id'];
      return typeof supplied === 'string' && REQUEST_ID_PATTERN.test(supplied) ? supplied : randomUUID();
    },
  });

  app.addHook('onSend', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('referrer-policy', 'strict-origin-when-cross-origin');
    if (!reply.hasHeader('x-frame-options')) void reply.header('x-frame-options', 'DENY');
  });

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
