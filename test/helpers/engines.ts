import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Database } from '../../src/db/database.ts';

/** A database engine the suite runs against: PGlite always, PostgreSQL when TEST_DATABASE_URL is set. */
export interface TestEngine {
  name: 'pglite' | 'postgres';
  /** Creates a fresh, migrated database; `drop` closes and removes it. */
  create(): Promise<{ db: Database; url?: string; drop(): Promise<void> }>;
}

const pgliteEngine: TestEngine = {
  name: 'pglite',
  async create() {
    const db = await Database.open({ engine: 'pglite' });
    await db.migrate();
    return { db, drop: () => db.close() };
  },
};

function postgresEngine(adminUrl: string): TestEngine {
  return {
    name: 'postgres',
    async create() {
      const name = `civic_test_${Date.now()}_${randomBytes(4).toString('hex')}`;
      const admin = new pg.Client({ connectionString: adminUrl });
      try {
        await admin.connect();
      } catch (error) {
        throw new Error(`TEST_DATABASE_URL is set but PostgreSQL cannot be reached (${(error as Error).message}). Start the server or unset the variable.`);
      }
      await admin.query(`create database ${name}`);
      await admin.end();
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      const db = await Database.open({ engine: 'postgres', url: url.toString(), poolSize: 5 });
      await db.migrate();
      return {
        db,
        url: url.toString(),
        async drop() {
          // The database is dropped even when closing the pool fails, so a failed test leaves nothing behind.
          try {
            await db.close();
          } finally {
            const cleaner = new pg.Client({ connectionString: adminUrl });
            await cleaner.connect();
            try {
              await cleaner.query(`drop database if exists ${name} with (force)`);
            } finally {
              await cleaner.end();
            }
          }
        },
      };
    },
  };
}

/** The engines this run covers. */
export function testEngines(): TestEngine[] {
  const url = process.env.TEST_DATABASE_URL;
  return url ? [pgliteEngine, postgresEngine(url)] : [pgliteEngine];
}
