import type { Config } from '../config.ts';
import { Database } from './database.ts';

/** Opens the configured engine: PostgreSQL when DATABASE_URL is set, otherwise PGlite in the data folder. */
export async function openConfiguredDatabase(config: Config): Promise<Database> {
  if (config.databaseUrl) return Database.open({ engine: 'postgres', url: config.databaseUrl, poolSize: config.poolSize });
  return Database.open({ engine: 'pglite', dataDir: config.dataDir });
}
