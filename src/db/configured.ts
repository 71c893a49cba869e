import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { Database } from './database.ts';

/** Opens the configured engine: PostgreSQL when DATABASE_URL is set, otherwise PGlite in the data folder. */
export async function openConfiguredDatabase(config: Config): Promise<Database> {
  if (config.databaseUrl) return Database.open({ engine: 'postgres', url: config.databaseUrl, poolSize: config.poolSize });
  return Database.open({ engine: 'pglite', dataDir: config.dataDir });
}

/** Opens the configured engine and applies pending migrations, logging their names; closes it again if they fail. */
export async function openMigratedDatabase(config: Config, logger: Logger): Promise<Database> {
  const db = await openConfiguredDatabase(config);
  try {
    const applied = await db.migrate();
    if (applied.length > 0) logger.info({ migrations: applied }, 'migrations applied');
    return db;
  } catch (error) {
    await db.close();
    throw error;
  }
}
