import { loadConfig, type Config } from '../config.ts';
import { createLogger, type Logger } from '../logger.ts';
import { bootstrap } from '../main.ts';
import type { Services } from '../services.ts';

/**
 * Loads configuration and opens the services for a command. Command logs go to standard error so that standard output
 * stays clean for `--json` reports.
 */
export async function openServices(overrides: Partial<Config> = {}): Promise<Services> {
  const config = { ...loadConfig(), ...overrides };
  const logger: Logger = createLogger(config.logLevel, process.stderr);
  return bootstrap(config, logger);
}
