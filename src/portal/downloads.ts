import { PassThrough, type Readable } from 'node:stream';
import { sql } from 'kysely';
import type { ResourceVersion } from '../catalogue/catalogue.types.ts';
import { qualifiedTableName, quoteIdentifier } from '../catalogue/datastore-table.ts';
import type { RawConnection } from '../db/connection.ts';
import type { Database } from '../db/database.ts';
import { withOrganisation } from '../db/tenant.ts';
import { notFound } from '../errors.ts';
import type { Logger } from '../logger.ts';

/**
 * Rows per query when the embedded engine exports CSV. PGlite writes COPY output only to a file, which the application
 * role may not do, and has a single session, so its exports read slices of `_id` that bound memory and let other
 * requests take turns in between.
 */
export const EMBEDDED_BATCH_ROWS = 5_000;
/** Rows per query when writing JSON, on either engine. */
export const JSON_BATCH_ROWS = 2_000;

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

export interface CsvOptions {
  /** Starts the file with a byte order mark, so that Microsoft Excel reads it as UTF-8. */
  bom: boolean;
  /** `titles` writes the original headers; `names` the column names, as the Data Package schema uses. */
  header: 'titles' | 'names';
}

/** Quotes one CSV field as RFC 4180 does: in double quotes when it contains a comma, quote or line break. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Builds the SQL of one exported column, writing booleans as true/false rather than PostgreSQL's t/f. */
function exportValue(name: string, type: string): string {
  const column = quoteIdentifier(name);
  return type === 'boolean' ? `case when ${column} then 'true' when not ${column} then 'false' end` : column;
}

/** Builds the select list of a COPY export, one column per Table Schema field. */
function exportColumns(version: ResourceVersion): string {
  return version.tableSchema.fields.map((field) => `${exportValue(field.name, field.type)} as ${quoteIdentifier(field.name)}`).join(', ');
}

/** Starts a transaction on `raw` scoped to `viewer`, and checks that row-level security lets them read the resource. */
async function beginAsViewer(raw: RawConnection, viewer: string | null, resourceId: string): Promise<void> {
  await raw.query('begin read only');
  await raw.query(`select set_config('civic.organisation_id', $1, true)`, [viewer ?? '']);
  await raw.query(`set local timezone = 'UTC'`);
  await raw.query(`set local datestyle = 'ISO, YMD'`);
  const { rows } = await raw.query('select id from resources where id = $1', [resourceId]);
  if (rows.length === 0) throw notFound('resource_not_found', `Resource "${resourceId}" was not found.`);
}

/** Resolves when `stream` can take more data; rejects when the client has gone, so the export stops and frees its connection. */
function writeChunk(stream: PassThrough, chunk: Buffer | string): Promise<void> {
  if (stream.destroyed) return Promise.reject(new Error('The client closed the download.'));
  if (stream.write(chunk)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      stream.off('close', onClose);
      resolve();
    };
    const onClose = () => {
      stream.off('drain', onDrain);
      reject(new Error('The client closed the download.'));
    };
    stream.once('drain', onDrain);
    stream.once('close', onClose);
  });
}

/** Runs `produce` writing into a stream returned at once; a failure midway ends the stream with an error and is logged. */
function producedStream(logger: Logger, context: Record<string, unknown>, produce: (write: (chunk: Buffer | string) => Promise<void>) => Promise<void>): Readable {
  const output = new PassThrough();
  produce((chunk) => writeChunk(output, chunk)).then(
    () => output.end(),
    (error: unknown) => {
      if (!output.destroyed) logger.error({ err: error, ...context }, 'download failed midway');
      output.destroy(error instanceof Error ? error : new Error(String(error)));
    },
  );
  return output;
}

/** Formats one value as COPY's CSV format does: NULL as nothing, an empty string as "", quotes only where needed. */
export function copyCsvValue(value: string | null): string {
  if (value === null) return '';
  if (value === '' || value === '\\.') return `"${value}"`;
  return csvField(value);
}

/**
 * Streams a version as CSV in UTF-8. On PostgreSQL one `COPY … TO STDOUT` feeds the response as it arrives, so
 * memory stays flat whatever the table size. On the embedded engine the rows are read in `_id` slices as text, the
 * same text COPY writes, and quoted the same way, so both engines give the same file.
 */
export function csvExport(db: Database, logger: Logger, viewer: string | null, version: ResourceVersion, options: CsvOptions): Readable {
  const header = version.tableSchema.fields.map((field) => csvField(options.header === 'names' ? field.name : field.title)).join(',') + '\r\n';
  const fields = version.tableSchema.fields;
  return producedStream(logger, { resourceId: version.id, format: 'csv' }, async (write) => {
    if (options.bom) await write(UTF8_BOM);
    await write(header);
    if (fields.length === 0) return;
    if (db.engine === 'postgres') {
      const copy = `copy (select ${exportColumns(version)} from ${qualifiedTableName(version.tableName)} order by _id) to stdout with (format csv)`;
      await db.withConnection('app', async (raw) => {
        await beginAsViewer(raw, viewer, version.id);
        try {
          for await (const chunk of raw.copyTo(copy)) await write(chunk);
          await raw.query('commit');
        } catch (error) {
          await raw.query('rollback').catch(() => undefined);
          throw error;
        }
      });
      return;
    }
    const texts = fields.map((field, position) => `(${exportValue(field.name, field.type)})::text as c${position}`).join(', ');
    for (let start = 0; start < version.rowCount; start += EMBEDDED_BATCH_ROWS) {
      const rows = await db.withConnection('app', async (raw) => {
        await beginAsViewer(raw, viewer, version.id);
        try {
          const result = await raw.query<Record<string, string | null>>(
            `select ${texts} from ${qualifiedTableName(version.tableName)} where _id > $1 and _id <= $2 order by _id`,
            [start, start + EMBEDDED_BATCH_ROWS],
          );
          await raw.query('commit');
          return result.rows;
        } catch (error) {
          await raw.query('rollback').catch(() => undefined);
          throw error;
        }
      });
      const text = rows.map((row) => fields.map((_field, position) => copyCsvValue(row[`c${position}`] ?? null)).join(',') + '\n').join('');
      await write(text);
    }
  });
}

function jsonValue(value: unknown): unknown {
  return value instanceof Date ? value.toISOString() : value;
}

/** Streams a version as a JSON array of objects keyed by column name, reading `_id` ranges in turn. */
export function jsonExport(db: Database, logger: Logger, viewer: string | null, version: ResourceVersion): Readable {
  const fields = version.tableSchema.fields;
  const table = sql.id('datastore', version.tableName);
  const columns = sql.join(fields.length > 0 ? fields.map((field) => sql.id(field.name)) : [sql`null`]);
  return producedStream(logger, { resourceId: version.id, format: 'json' }, async (write) => {
    await write('[');
    let written = 0;
    for (let start = 0; start < version.rowCount; start += JSON_BATCH_ROWS) {
      const rows = await withOrganisation(db.app, viewer, async (trx) => {
        const visible = await trx.selectFrom('resources').select('id').where('id', '=', version.id).executeTakeFirst();
        if (!visible) throw notFound('resource_not_found', `Resource "${version.id}" was not found.`);
        const result = await sql<Record<string, unknown>>`select ${columns} from ${table} where _id > ${start} and _id <= ${start + JSON_BATCH_ROWS} order by _id`.execute(trx);
        return result.rows;
      });
      const text = rows.map((row) => JSON.stringify(Object.fromEntries(fields.map((field) => [field.name, jsonValue(row[field.name])])))).join(',\n');
      if (text !== '') await write(`${written > 0 ? ',\n' : '\n'}${text}`);
      written += rows.length;
    }
    await write('\n]\n');
  });
}

/** `attachment` Content-Disposition with the dataset slug and version in the file name. */
export function attachment(slug: string, version: number, extension: string): string {
  const safeExtension = extension.replace(/[^A-Za-z0-9.]/g, '').slice(0, 12);
  return `attachment; filename="${slug}-v${version}${safeExtension}"`;
}
