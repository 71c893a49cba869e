import net from 'node:net';
import type { FastifyInstance } from 'fastify';
import { ConfigError, type Config } from './config.ts';
import { openMigratedDatabase } from './db/configured.ts';
import { buildApp } from './http/app.ts';
import { loadKeyRing } from './keys/key-ring.ts';
import type { Logger } from './logger.ts';
import { createServices, type Services } from './services.ts';

/** The composition root: configuration → database (migrated) → services. */
export async function bootstrap(config: Config, logger: Logger): Promise<Services> {
  const db = await openMigratedDatabase(config, logger);
  try {
    return createServices({ config, logger, db, keys: loadKeyRing(config.masterKey, config.dataDir) });
  } catch (error) {
    await db.close();
    throw error;
  }
}

export interface RunningServer {
  app: FastifyInstance;
  services: Services;
  url: string;
  close(): Promise<void>;
}

export interface ListenOptions {
  port?: number;
  host?: string;
  /** Whether `close` also closes the database; tests that own their database pass false. */
  closeDatabase?: boolean;
}

/** Turns a failure to listen into a ConfigError with the fix, or returns the error unchanged. */
function portError(error: unknown, port: number, host: string): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== 'EADDRINUSE' && code !== 'EACCES') return error;
  const problem = code === 'EADDRINUSE' ? 'is already in use by another program' : 'may not be opened by this user';
  return new ConfigError(`Port ${port} on ${host} ${problem}. Stop that program, or choose another port with --port N or the PORT setting.`);
}

/**
 * Checks that the server could listen on `port` by opening and closing it, so that slow start-up work (loading the
 * sample catalogue) is not done for a server that cannot start. Another program may still take the port in between.
 */
export async function checkPortFree(port: number, host: string): Promise<void> {
  if (port === 0) return;
  const probe = net.createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen({ port, host, exclusive: true }, resolve);
    });
  } catch (error) {
    throw portError(error, port, host);
  }
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}

/** Builds the HTTP server on `services` and listens; `close` stops the server and then, by default, the database. */
export async function startServer(services: Services, options: ListenOptions = {}): Promise<RunningServer> {
  const { port = services.config.port, host = services.config.host, closeDatabase = true } = options;
  const app = await buildApp(services);
  try {
    await app.listen({ port, host });
  } catch (error) {
    await app.close();
    throw portError(error, port, host);
  }
  const address = app.server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`;
  services.logger.info({ url, engine: services.db.engine }, 'server listening');
  return {
    app,
    services,
    url,
    async close() {
      await app.close();
      if (closeDatabase) await services.db.close();
    },
  };
}
