import { loadConfig, type Config } from '../config.ts';
import { openConfiguredDatabase } from '../db/configured.ts';
import type { Database } from '../db/database.ts';
import { createLogger, type Logger } from '../logger.ts';
import type { Services } from '../services.ts';

/**
 * Loads configuration and opens the services for a command. Command logs go to standard error so that standard output
 * stays clean for `--json` reports. The service modules load here, not at start-up, so light commands stay quick.
 */
export async function openServices(overrides: Partial<Config> = {}, options: { server?: boolean } = {}): Promise<Services> {
  // One-shot commands print their own report, so they log warnings and errors only unless LOG_LEVEL says otherwise.
  const quiet = options.server !== true && process.env.LOG_LEVEL === undefined ? { logLevel: 'warn' } : {};
  const config = { ...loadConfig(), ...quiet, ...overrides };
  const logger: Logger = createLogger(config.logLevel, process.stderr);
  const { bootstrap } = await import('../main.ts');
  return bootstrap(config, logger);
}

/** Loads configuration and opens the migrated database alone, for commands that need no services. */
export async function openDatabase(): Promise<Database> {
  const config = loadConfig();
  const db = await openConfiguredDatabase(config);
  try {
    const applied = await db.migrate();
    if (applied.length > 0) createLogger(config.logLevel, process.stderr).info({ migrations: applied }, 'migrations applied');
    return db;
  } catch (error) {
    await db.close();
    throw error;
  }
}
