import {
  CompiledQuery,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';

/** One database session, on either engine, with the operations Kysely cannot express. */
export interface RawConnection extends DatabaseConnection {
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<{ rows: R[]; rowCount: number }>;
  /**
   * Runs a `COPY … FROM STDIN` statement fed by `chunks`. Every chunk must end on a record boundary, because the
   * embedded engine loads the stream in several COPY statements. Returns the number of rows copied.
   */
  copyFrom(copySql: string, chunks: AsyncIterable<string | Buffer>): Promise<number>;
  /** Streams the output of a `COPY … TO STDOUT` statement. */
  copyTo(copySql: string): AsyncIterable<Buffer>;
}

/** Role a connection runs as: the application role (row-level security applies) or the owner (migrations only). */
export type SessionRole = 'app' | 'owner';

/** A pool of raw connections for one engine. */
export interface ConnectionSource {
  acquire(role: SessionRole): Promise<{ connection: RawConnection; release: (broken?: boolean) => void }>;
  destroy(): Promise<void>;
}

function toQueryResult<R>(rows: R[], rowCount: number, command: string | undefined): QueryResult<R> {
  const writes = command === 'INSERT' || command === 'UPDATE' || command === 'DELETE' || command === 'MERGE';
  return writes ? { rows, numAffectedRows: BigInt(rowCount) } : { rows };
}

/** Adapts a raw query result into Kysely's shape. */
export async function executeCompiled<R>(connection: RawConnection, compiled: CompiledQuery): Promise<QueryResult<R>> {
  const result = await connection.query<R>(compiled.sql, compiled.parameters);
  const command = /^\s*(\w+)/.exec(compiled.sql)?.[1]?.toUpperCase();
  return toQueryResult(result.rows, result.rowCount, command);
}

class PooledDriver implements Driver {
  private readonly leases = new WeakMap<DatabaseConnection, (broken?: boolean) => void>();

  constructor(
    private readonly source: ConnectionSource,
    private readonly role: SessionRole,
  ) {}

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    const { connection, release } = await this.source.acquire(this.role);
    this.leases.set(connection, release);
    return connection;
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    let statement = 'begin';
    if (settings.isolationLevel) statement += ` isolation level ${settings.isolationLevel}`;
    if (settings.accessMode) statement += ` ${settings.accessMode}`;
    await connection.executeQuery(CompiledQuery.raw(statement));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async savepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`savepoint "${name}"`));
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`rollback to savepoint "${name}"`));
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`release savepoint "${name}"`));
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    this.leases.get(connection)?.();
    this.leases.delete(connection);
  }

  async destroy(): Promise<void> {}
}

/** Drives Kysely over one connection that the caller already holds, for work that mixes Kysely with COPY. */
class HeldConnectionDriver extends PooledDriver {
  constructor(private readonly held: RawConnection) {
    super({ acquire: async () => ({ connection: held, release: () => {} }), destroy: async () => {} }, 'app');
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    return this.held;
  }

  override async releaseConnection(): Promise<void> {}
}

function postgresDialect(driver: Driver): Dialect {
  return {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => driver,
    createQueryCompiler: () => new PostgresQueryCompiler(),
    createIntrospector: (db: Kysely<any>) => new PostgresIntrospector(db),
  };
}

export function pooledDialect(source: ConnectionSource, role: SessionRole): Dialect {
  return postgresDialect(new PooledDriver(source, role));
}

export function heldConnectionDialect(connection: RawConnection): Dialect {
  return postgresDialect(new HeldConnectionDriver(connection));
}
