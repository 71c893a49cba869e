import { loadConfig, type Config } from '../config.ts';
import { openMigratedDatabase } from '../db/configured.ts';
import type { Database } from '../db/database.ts';
import { createLogger, type Logger } from '../logger.ts';
import type { Services } from '../services.ts';

/** Returns the log level of a one-shot command: it prints its own report, so it logs warnings only unless LOG_LEVEL is set. */
function quietLevel(configured: string): string {
  return process.env.LOG_LEVEL === undefined ? 'warn' : configured;
}

/**
 * Loads configuration and opens the services for a command. Command logs go to standard error so that standard output
 * stays clean for `--json` reports. The service modules load here, not at start-up, so light commands stay quick.
 */
export async function openServices(overrides: Partial<Config> = {}, options: { server?: boolean } = {}): Promise<Services> {
  const loaded = loadConfig();
  const config = { ...loaded, logLevel: options.server === true ? loaded.logLevel : quietLevel(loaded.logLevel), ...overrides };
  const logger: Logger = createLogger(config.logLevel, process.stderr);
  const { bootstrap } = await import('../main.ts');
  return bootstrap(config, logger);
}

/** Loads configuration and opens the migrated database alone, for commands that need no services. */
export async function openDatabase(): Promise<Database> {
  const config = loadConfig();
  return openMigratedDatabase(config, createLogger(quietLevel(config.logLevel), process.stderr));
}
