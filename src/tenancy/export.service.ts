import { Readable } from 'node:stream';
import { sql, type Kysely } from 'kysely';
import yazl from 'yazl';
import { londonDate } from '../agreements/agreement-dates.ts';
import { auditActor, type AuthContext } from '../accounts/auth-context.ts';
import { appendAuditEvent } from '../audit/audit.repository.ts';
import { qualifiedTableName, quoteIdentifier } from '../catalogue/datastore-table.ts';
import type { DB } from '../db/schema.ts';
import { withOrganisation } from '../db/tenant.ts';
import { notFound } from '../errors.ts';

/** Rows read per query while streaming a table or the audit log, so memory stays flat for large organisations. */
const BATCH_ROWS = 1000;

/** One CSV field per RFC 4180: quoted when it holds a comma, quote or line break. */
function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = value instanceof Date ? value.toISOString() : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(values: unknown[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

interface TableSchemaShape {
  fields?: Array<{ name: string }>;
}

/**
 * The organisation's data export: a zip of JSON and CSV files with the organisation record, dataset metadata, each
 * dataset's current table, members (never password hashes or second-factor secrets), API token metadata (never
 * hashes), invitations (never link hashes) and the organisation's audit rows. Files are streamed in batches.
 */
export class ExportService {
  constructor(private readonly db: { app: Kysely<DB> }) {}

  /** Records the export in the audit log and returns the zip stream with a file name for the download. */
  async exportOrganisation(auth: AuthContext, requestId?: string): Promise<{ filename: string; stream: Readable }> {
    const organisationId = auth.organisationId;
    if (organisationId === null) throw notFound('organisation_not_found', 'Organisation not found.');
    const scoped = <T>(work: (trx: Kysely<DB>) => Promise<T>) => withOrganisation(this.db.app, organisationId, work);

    const snapshot = await scoped(async (trx) => {
      const organisation = await trx.selectFrom('organisations').selectAll().where('id', '=', organisationId).executeTakeFirstOrThrow();
      const sso = await trx.selectFrom('organisation_sso').select(['issuer', 'client_id', 'enabled', 'just_in_time', 'updated_at']).where('organisation_id', '=', organisationId).executeTakeFirst();
      const datasets = await trx.selectFrom('datasets').selectAll().where('organisation_id', '=', organisationId).orderBy('slug').execute();
      const resources = await trx
        .selectFrom('resources')
        .select(['id', 'dataset_id', 'version', 'name', 'format', 'media_type', 'original_filename', 'byte_size', 'sha256', 'table_name', 'row_count', 'table_schema', 'created_at'])
        .where('organisation_id', '=', organisationId)
        .orderBy('version')
        .execute();
      await appendAuditEvent(trx, { organisationId, ...auditActor(auth), action: 'organisation.exported', subjectType: 'organisation', subjectId: organisationId, requestId, details: { datasets: datasets.length } });
      return { organisation, sso, datasets, resources };
    });

    const zip = new yazl.ZipFile();
    const { organisation, sso, datasets, resources } = snapshot;
    const json = (value: unknown) => Buffer.from(`${JSON.stringify(value, null, 2)}\n`, 'utf8');
    zip.addBuffer(json({ ...organisation, single_sign_on: sso ?? null, exported_at: new Date().toISOString() }), 'organisation.json');
    zip.addBuffer(
      json(datasets.map((dataset) => ({ ...dataset, versions: resources.filter((resource) => resource.dataset_id === dataset.id).map(({ table_name: _table, ...resource }) => resource) }))),
      'datasets.json',
    );
    for (const dataset of datasets) {
      const current = resources.find((resource) => resource.id === dataset.current_resource_id);
      if (!current) continue;
      const fields = ((current.table_schema as TableSchemaShape).fields ?? []).map((field) => field.name);
      zip.addReadStream(Readable.from(this.tableRows(organisationId, current.table_name, fields)), `datasets/${dataset.slug}.csv`);
    }
    zip.addReadStream(Readable.from(this.members(organisationId)), 'members.csv');
    zip.addReadStream(Readable.from(this.tokens(organisationId)), 'api-tokens.csv');
    zip.addReadStream(Readable.from(this.invitations(organisationId)), 'invitations.csv');
    zip.addReadStream(Readable.from(this.auditRows(organisationId)), 'audit-log.csv');
    zip.end();
    const date = londonDate(new Date());
    return { filename: `${organisation.slug}-export-${date}.zip`, stream: zip.outputStream as Readable };
  }

  private async *tableRows(organisationId: string, tableName: string, fields: string[]): AsyncGenerator<string> {
    yield csvLine(fields);
    const columns = fields.map(quoteIdentifier).join(', ');
    let after = 0;
    for (;;) {
      const rows = await withOrganisation(this.db.app, organisationId, async (trx) => {
        const result = await sql<Record<string, unknown>>`select _id, ${sql.raw(columns)} from ${sql.raw(qualifiedTableName(tableName))} where _id > ${after} order by _id limit ${BATCH_ROWS}`.execute(trx);
        return result.rows;
      });
      for (const row of rows) yield csvLine(fields.map((field) => row[field]));
      if (rows.length < BATCH_ROWS) return;
      after = Number(rows[rows.length - 1]!._id);
    }
  }

  private async *members(organisationId: string): AsyncGenerator<string> {
    const rows = await withOrganisation(this.db.app, organisationId, (trx) =>
      trx
        .selectFrom('memberships')
        .innerJoin('users', 'users.id', 'memberships.user_id')
        .select(['users.id', 'users.display_name', 'users.email', 'memberships.role', 'memberships.created_at', 'users.last_sign_in_at'])
        .where('memberships.organisation_id', '=', organisationId)
        .orderBy('memberships.created_at')
        .execute(),
    );
    yield csvLine(['user_id', 'display_name', 'email', 'role', 'joined_at', 'last_sign_in_at']);
    for (const row of rows) yield csvLine([row.id, row.display_name, row.email, row.role, row.created_at, row.last_sign_in_at]);
  }

  private async *tokens(organisationId: string): AsyncGenerator<string> {
    const rows = await withOrganisation(this.db.app, organisationId, (trx) =>
      trx.selectFrom('api_tokens').select(['id', 'name', 'prefix', 'scopes', 'user_id', 'created_at', 'expires_at', 'revoked_at', 'last_used_at']).where('organisation_id', '=', organisationId).orderBy('created_at').execute(),
    );
    yield csvLine(['id', 'name', 'prefix', 'scopes', 'user_id', 'created_at', 'expires_at', 'revoked_at', 'last_used_at']);
    for (const row of rows) yield csvLine([row.id, row.name, row.prefix, row.scopes.join(' '), row.user_id, row.created_at, row.expires_at, row.revoked_at, row.last_used_at]);
  }

  private async *invitations(organisationId: string): AsyncGenerator<string> {
    const rows = await withOrganisation(this.db.app, organisationId, (trx) =>
      trx.selectFrom('invitations').select(['id', 'email', 'role', 'invited_by', 'created_at', 'expires_at', 'accepted_at', 'revoked_at']).where('organisation_id', '=', organisationId).orderBy('created_at').execute(),
    );
    yield csvLine(['id', 'email', 'role', 'invited_by', 'created_at', 'expires_at', 'accepted_at', 'revoked_at']);
    for (const row of rows) yield csvLine([row.id, row.email, row.role, row.invited_by, row.created_at, row.expires_at, row.accepted_at, row.revoked_at]);
  }

  private async *auditRows(organisationId: string): AsyncGenerator<string> {
    yield csvLine(['id', 'occurred_at', 'actor_user_id', 'actor_kind', 'action', 'subject_type', 'subject_id', 'request_id', 'details']);
    let after = 0;
    for (;;) {
      const rows = await withOrganisation(this.db.app, organisationId, (trx) =>
        trx
          .selectFrom('audit_log')
          .select(['id', 'occurred_at', 'actor_user_id', 'actor_kind', 'action', 'subject_type', 'subject_id', 'request_id', 'details'])
          .where('organisation_id', '=', organisationId)
          .where('id', '>', after)
          .orderBy('id')
          .limit(BATCH_ROWS)
          .execute(),
      );
      for (const row of rows) yield csvLine([row.id, row.occurred_at, row.actor_user_id, row.actor_kind, row.action, row.subject_type, row.subject_id, row.request_id, row.details]);
      if (rows.length < BATCH_ROWS) return;
      after = Number(rows[rows.length - 1]!.id);
    }
  }
}
