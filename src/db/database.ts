import path from 'node:path';
import { Kysely, Migrator } from 'kysely';
import type { ConnectionSource, RawConnection, SessionRole } from './connection.ts';
import { heldConnectionDialect, pooledDialect } from './connection.ts';
import { lockDataFolder } from './folder-lock.ts';
import { migrationProvider } from './migrations/index.ts';
import { PgliteSource } from './pglite.ts';
import { PostgresSource } from './postgres.ts';
import type { DB } from './schema.ts';

export type EngineName = 'pglite' | 'postgres';

export type DatabaseOptions =
  | { engine: 'pglite'; /** Folder for the data files; in memory when absent. */ dataDir?: string }
  | { engine: 'postgres'; url: string; poolSize?: number };

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** The database of one running service: Kysely for the application role and the owner, plus raw sessions for COPY. */
export class Database {
  /** Runs as the application role, so row-level security applies. Services use this. */
  readonly app: Kysely<DB>;
  /** Runs as the owner of the schema. Migrations and maintenance only. */
  readonly owner: Kysely<DB>;

  private constructor(
    readonly engine: EngineName,
    private readonly source: ConnectionSource,
    private readonly unlock: () => void,
    /** Connections that can be held at once: the pool's size on PostgreSQL, one on PGlite. */
    readonly connectionLimit = 1,
  ) {
    this.app = new Kysely<DB>({ dialect: pooledDialect(source, 'app') });
    this.owner = new Kysely<DB>({ dialect: pooledDialect(source, 'owner') });
  }

  static async open(options: DatabaseOptions): Promise<Database> {
    if (options.engine === 'pglite') {
      const dataDir = options.dataDir;
      const unlock = dataDir ? lockDataFolder(dataDir) : () => {};
      try {
        const source = await PgliteSource.open(dataDir ? path.join(dataDir, 'pgdata') : undefined);
        return new Database('pglite', source, unlock);
      } catch (error) {
        unlock();
        throw error;
      }
    }
    const poolSize = options.poolSize ?? 10;
    return new Database('postgres', PostgresSource.open(options.url, poolSize), () => {}, poolSize);
  }

  /** Applies every pending migration; throws MigrationError naming the migration that failed. */
  async migrate(): Promise<string[]> {
    const migrator = new Migrator({ db: this.owner, provider: migrationProvider });
    const { error, results } = await migrator.migrateToLatest();
    const failed = results?.find((result) => result.status === 'Error');
    if (error) {
      const reason = error instanceof Error ? error.message : String(error);
      // No migration ran at all: the database could not be reached or opened.
      if (failed === undefined) {
        const where = this.engine === 'postgres' ? 'the PostgreSQL server at DATABASE_URL' : 'the embedded database in the data folder';
        throw new MigrationError(`Cannot open ${where}: ${reason}. Check that it is running and that the address, user and database name are right.`, { cause: error });
      }
      throw new MigrationError(`Migration ${failed.migrationName} failed: ${reason}`, { cause: error });
    }
    return (results ?? []).filter((result) => result.status === 'Success').map((result) => result.migrationName);
  }

  /**
   * Holds one connection for `work`, giving both the raw connection (for COPY) and a Kysely instance bound to it.
   * Everything inside must go through these two, never through `app` or `owner`, or the embedded engine waits forever
   * for its single session.
   */
  async withConnection<T>(role: SessionRole, work: (raw: RawConnection, db: Kysely<DB>) => Promise<T>): Promise<T> {
    const { connection, release } = await this.source.acquire(role);
    const bound = new Kysely<DB>({ dialect: heldConnectionDialect(connection) });
    let broken = false;
    try {
      return await work(connection, bound);
    } catch (error) {
      broken = true;
      throw error;
    } finally {
      release(broken);
    }
  }

  async close(): Promise<void> {
    try {
      await this.source.destroy();
    } finally {
      this.unlock();
    }
  }
}
