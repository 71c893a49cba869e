import type { RawConnection } from '../db/connection.ts';
import type { EngineName } from '../db/database.ts';
import { APP_ROLE } from '../db/roles.ts';

/**
 * Runs a `COPY … FROM STDIN` on the import's connection. PGlite reads COPY input from its virtual `/dev/blob` file.
 * Reading a file needs the `pg_read_server_files` privilege, which the application role must not have because on
 * PostgreSQL it would open the server's real files. So on PGlite the COPY alone runs as the session's owner, and
 * `set local` keeps the switch inside the transaction: a commit or rollback returns the session to the application role.
 */
export async function copyIntoTable(engine: EngineName, raw: RawConnection, copySql: string, chunks: AsyncIterable<string | Buffer>): Promise<number> {
  if (engine !== 'pglite') return raw.copyFrom(copySql, chunks);
  await raw.query('set local role none');
  const copied = await raw.copyFrom(copySql, chunks);
  await raw.query(`set local role ${APP_ROLE}`);
  return copied;
}
