import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import type { ConnectionSource, RawConnection, SessionRole } from './connection.ts';
import { executeCompiled } from './connection.ts';
import { preparedName } from './prepared.ts';
import { APP_ROLE } from './roles.ts';
import { keepMicroseconds } from './precise-instant.ts';
import { sharedParsers, TIMESTAMPTZ_OID } from './type-parsers.ts';

const parseTimestamptz = keepMicroseconds(pg.types.getTypeParser(TIMESTAMPTZ_OID, 'text'));

const typeParsers = {
  getTypeParser(oid: number, format?: string) {
    const parser = sharedParsers[oid];
    if (parser && format !== 'binary') return parser;
    if (oid === TIMESTAMPTZ_OID && format !== 'binary') return parseTimestamptz;
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

/** A pool of PostgreSQL server connections; each connection is switched to the role its borrower asks for. */
export class PostgresSource implements ConnectionSource {
  private readonly roles = new WeakMap<pg.PoolClient, SessionRole>();
  private readonly connections = new WeakMap<pg.PoolClient, RawConnection>();

  constructor(private readonly pool: pg.Pool) {}

  static open(connectionString: string, poolSize: number): PostgresSource {
    const pool = new pg.Pool({ connectionString, max: poolSize, types: typeParsers });
    // An idle client that loses its server connection emits here; the pool replaces it on next use.
    pool.on('error', () => {});
    return new PostgresSource(pool);
  }

  async acquire(role: SessionRole): Promise<{ connection: RawConnection; release: (broken?: boolean) => void }> {
    const client = await this.pool.connect();
    try {
      const current = this.roles.get(client) ?? 'owner';
      if (current !== role) {
        await client.query(role === 'app' ? `set role ${APP_ROLE}` : 'reset role');
        this.roles.set(client, role);
      }
    } catch (error) {
      client.release(true);
      throw error;
    }
    let connection = this.connections.get(client);
    if (!connection) {
      connection = makeConnection(client);
      this.connections.set(client, connection);
    }
    return { connection, release: (broken) => client.release(broken) };
  }

  async destroy(): Promise<void> {
    await this.pool.end();
  }
}

function makeConnection(client: pg.PoolClient): RawConnection {
  const connection: RawConnection = {
    async query<R>(text: string, params: readonly unknown[] = []) {
      const name = preparedName(text);
      const output: pg.QueryResult | pg.QueryResult[] = name === undefined ? await client.query(text, [...params]) : await client.query({ name, text, values: [...params] });
      // Several statements in one text (simple protocol) give one result each; the last one is the answer.
      const result = Array.isArray(output) ? output[output.length - 1]! : output;
      return { rows: result.rows as R[], rowCount: result.rowCount ?? result.rows.length };
    },
    executeQuery: (compiled) => executeCompiled(connection, compiled),
    async *streamQuery(compiled) {
      yield await executeCompiled(connection, compiled);
    },
    async copyFrom(copySql, chunks) {
      const stream = client.query(copyStreams.from(copySql));
      // One chunk read ahead, where Readable.from would buffer 16, so large chunks do not pile up in memory.
      await pipeline(Readable.from(chunks, { highWaterMark: 1 }), stream);
      return stream.rowCount ?? 0;
    },
    async *copyTo(copySql) {
      const stream = client.query(copyStreams.to(copySql));
      for await (const chunk of stream) yield chunk as Buffer;
    },
  };
  return connection;
}
