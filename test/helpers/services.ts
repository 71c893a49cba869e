import { randomBytes } from 'node:crypto';
import type { Config } from '../../src/config.ts';
import type { Database } from '../../src/db/database.ts';
import { KeyRing } from '../../src/keys/key-ring.ts';
import { createLogger } from '../../src/logger.ts';
import { startServer, type RunningServer } from '../../src/main.ts';
import { createServices, type Services } from '../../src/services.ts';

export function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    dataDir: '/nonexistent-test-data-dir',
    databaseUrl: undefined,
    host: '127.0.0.1',
    port: 0,
    publicUrl: 'http://localhost:3000',
    logLevel: 'silent',
    masterKey: undefined,
    poolSize: 5,
    sqlTimeoutMs: 2000,
    production: false,
    ...overrides,
  };
}

/** Builds the real services on a test database, with a fresh random master key and silent logs. */
export function testServices(db: Database, overrides: Partial<Config> = {}): Services {
  const config = testConfig(overrides);
  return createServices({ config, logger: createLogger(config.logLevel), db, keys: new KeyRing(randomBytes(32)) });
}

/** Starts the real HTTP server on a loopback port. Closing it leaves the database open for the test to drop. */
export async function startTestServer(services: Services): Promise<RunningServer> {
  return startServer(services, { port: 0, host: '127.0.0.1', closeDatabase: false });
}
