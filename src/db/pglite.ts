import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import type { ConnectionSource, RawConnection, SessionRole } from './connection.ts';
import { executeCompiled } from './connection.ts';
import { APP_ROLE } from './roles.ts';
import { keepMicroseconds } from './precise-instant.ts';
import { sharedParsers, TIMESTAMPTZ_OID } from './type-parsers.ts';

/** Bytes gathered before the embedded engine runs one COPY statement; bounds memory during large loads. */
const COPY_BATCH_BYTES = 8 * 1024 * 1024;

/**
 * One PGlite instance shared by every caller. PGlite has a single session, so callers take turns: a caller holds the
 * session from acquire to release, which keeps a transaction's statements together.
 */
export class PgliteSource implements ConnectionSource {
  private queue: Promise<void> = Promise.resolve();
  private currentRole: SessionRole = 'owner';
  private readonly connection: RawConnection;

  private constructor(readonly pglite: PGlite) {
    this.connection = makeConnection(pglite);
  }

  static async open(dataDir: string | undefined): Promise<PgliteSource> {
    const pglite = await PGlite.create(dataDir ?? 'memory://', { parsers: { ...sharedParsers, [TIMESTAMPTZ_OID]: keepMicroseconds((text) => pgliteTypes.parsers[TIMESTAMPTZ_OID]!(text, TIMESTAMPTZ_OID)) } });
    return new PgliteSource(pglite);
  }

  async acquire(role: SessionRole): Promise<{ connection: RawConnection; release: () => void }> {
    let release!: () => void;
    const turn = new Promise<void>((resolve) => (release = resolve));
    const previous = this.queue;
    this.queue = previous.then(() => turn);
    await previous;
    try {
      if (role !== this.currentRole) {
        await this.pglite.query(role === 'app' ? `set role ${APP_ROLE}` : 'reset role');
        this.currentRole = role;
      }
    } catch (error) {
      release();
      throw error;
    }
    return { connection: this.connection, release };
  }

  async destroy(): Promise<void> {
    await this.queue;
    await this.pglite.close();
  }
}

function makeConnection(pglite: PGlite): RawConnection {
  const connection: RawConnection = {
    async query<R>(text: string, params: readonly unknown[] = []) {
      if (params.length === 0) {
        // The simple protocol allows several statements in one text, as migrations use.
        const results = await pglite.exec(text);
        const last = results[results.length - 1];
        return { rows: (last?.rows ?? []) as R[], rowCount: last?.affectedRows ?? last?.rows.length ?? 0 };
      }
      const result = await pglite.query<R>(text, [...params]);
      return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
    },
    executeQuery: (compiled) => executeCompiled(connection, compiled),
    async *streamQuery(compiled) {
      yield await executeCompiled(connection, compiled);
    },
    async copyFrom(copySql, chunks) {
      let pending: Uint8Array[] = [];
      let pendingBytes = 0;
      let total = 0;
      const flush = async () => {
        if (pendingBytes === 0) return;
        const result = await pglite.query(copySql.replace(/\bstdin\b/i, "'/dev/blob'"), [], { blob: new Blob(pending as BlobPart[]) });
        total += result.affectedRows ?? 0;
        pending = [];
        pendingBytes = 0;
      };
      for await (const chunk of chunks) {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
        pending.push(bytes);
        pendingBytes += bytes.length;
        if (pendingBytes >= COPY_BATCH_BYTES) await flush();
      }
      await flush();
      return total;
    },
    async *copyTo(copySql) {
      // NOTE: PGlite writes COPY output to one in-memory blob, so an embedded export is held whole before streaming.
      const result = await pglite.query(copySql.replace(/\bstdout\b/i, "'/dev/blob'"));
      if (result.blob) yield Buffer.from(await result.blob.arrayBuffer());
    },
  };
  return connection;
}
