import type { Kysely } from 'kysely';
import type { AuthContext } from '../accounts/auth-context.ts';
import { appendAuditEvent, type AuditEvent } from '../audit/audit.repository.ts';
import * as catalogue from '../catalogue/catalogue.repository.ts';
import type { Visibility } from '../catalogue/catalogue.types.ts';
import type { RawConnection } from '../db/connection.ts';
import type { Database } from '../db/database.ts';
import type { DB } from '../db/schema.ts';
import { AppError, conflict, forbidden, notFound, validationError } from '../errors.ts';
import { hasRole } from '../http/auth.ts';
import type { TableSchemaField } from '../ingest/table-schema.ts';
import type { Logger } from '../logger.ts';
import { writeFixedVersion, type PublicationFix } from './fixed-version.ts';
import { AVAILABLE_FIXES, availableFixes, describeFindingOfField, describeFindings, findingsOf, findingsSubject, type PublicationFinding } from './publication-findings.ts';
import { hasJustification, insertJustification } from './publication.repository.ts';
import { privateDatasetsOverLimit } from '../tenancy/plans.ts';

/** The publisher: an operator running `civic publish` on the server, or a signed-in user or API token holder. */
export type PublicationActor = { kind: 'operator'; name: string } | { kind: 'user'; auth: AuthContext; requestId?: string };

export interface PublishRequest {
  fixes: PublicationFix[];
  /** The reason the dataset may be opened with its remaining findings, recorded with its author and audited. */
  justification?: string;
  open?: boolean;
}

export interface PublishResult {
  dataset: string;
  resource_id: string;
  version: number;
  visibility: Visibility;
  /** The findings that remain in the current version: personal data and small counts. */
  personal_data: PublicationFinding[];
  fixes: string[];
  justified: boolean;
}

/** Builds the gate's refusal: 409 naming the columns and kinds found and the fixes that suit them. */
export function personalDataConflict(slug: string, findings: readonly PublicationFinding[]): AppError {
  return new AppError(
    'conflict',
    'personal_data_found',
    `Dataset "${slug}" cannot be made open because it holds ${findingsSubject(findings)}: ${describeFindings(findings)}. To publish it, ${availableFixes(findings)}.`,
    { fields: findings.map((finding) => ({ field: finding.column, message: describeFindingOfField(finding) })) },
  );
}

const JUSTIFICATION_LENGTH = { min: 10, max: 2000 };

/**
 * The publication gate. A dataset whose current version has personal-data or small-count findings opens only after a
 * data steward or administrator fixes the data or records a justification. Each set of fixes makes a new version in
 * one transaction, audited in the same transaction.
 */
export class PublicationService {
  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    private readonly columnSqlType: (field: TableSchemaField) => string,
  ) {}

  /** Applies fixes, records a justification and opens the dataset, as asked; all of it or none. */
  async publish(actor: PublicationActor, slug: string, request: PublishRequest): Promise<PublishResult> {
    checkSteward(actor);
    const justification = request.justification?.trim();
    if (justification !== undefined && (justification.length < JUSTIFICATION_LENGTH.min || justification.length > JUSTIFICATION_LENGTH.max)) {
      throw validationError('invalid_justification', `Enter a justification of ${JUSTIFICATION_LENGTH.min} to ${JUSTIFICATION_LENGTH.max} characters saying why the data may be published.`, [{ field: 'justification', message: 'Enter a justification' }]);
    }
    if (request.fixes.length === 0 && justification === undefined && !request.open) {
      throw validationError('nothing_to_do', `Choose what to do with dataset "${slug}": ${AVAILABLE_FIXES}, and --open to publish it.`);
    }

    const result = await this.inTransaction(actor, async (raw, kysely) => {
      const { dataset, resource } = await this.currentVersion(kysely, actor, slug);
      let resourceId = resource.id;
      let version = resource.version;
      let findings: PublicationFinding[] = findingsOf(resource.load_report);
      let fixes: string[] = [];

      if (request.fixes.length > 0) {
        const fixed = await writeFixedVersion(raw, kysely, { datasetId: dataset.id, organisationId: dataset.organisation_id, resource, fixes: request.fixes, columnSqlType: this.columnSqlType });
        ({ resourceId, version, fixes } = fixed);
        findings = fixed.personalData;
        await appendAuditEvent(kysely, auditEvent(actor, dataset.organisation_id, 'dataset.personal_data_fixed', dataset.id, { slug, resource_id: resourceId, version, fixes, remaining_findings: findings.length }));
      }

      let justified = await hasJustification(kysely, resourceId);
      if (justification !== undefined) {
        const recordedBy = actor.kind === 'operator' ? `operator ${actor.name}` : actor.auth.userId;
        const row = await insertJustification(kysely, { organisationId: dataset.organisation_id, datasetId: dataset.id, resourceId, userId: actor.kind === 'user' ? actor.auth.userId : null, recordedBy, reason: justification, findings });
        await appendAuditEvent(kysely, auditEvent(actor, dataset.organisation_id, 'dataset.publication_justified', dataset.id, { slug, resource_id: resourceId, version, justification_id: row.id, findings: findings.map(({ column, kind, count }) => ({ column, kind, count })) }));
        justified = true;
      }

      let visibility = dataset.visibility;
      if (request.open && visibility !== 'open') {
        if (findings.length > 0 && !justified) throw personalDataConflict(slug, findings);
        await catalogue.updateDataset(kysely, dataset.id, { visibility: 'open' });
        await appendAuditEvent(kysely, auditEvent(actor, dataset.organisation_id, 'dataset.opened', dataset.id, { slug, resource_id: resourceId, version, justified }));
        visibility = 'open';
      }
      return { dataset: slug, resource_id: resourceId, version, visibility, personal_data: findings, fixes, justified };
    });
    this.logger.info({ dataset: slug, resource_id: result.resource_id, version: result.version, visibility: result.visibility, fixes: result.fixes.length, justified: result.justified }, 'publication updated');
    return result;
  }

  /** Makes a dataset open or private; opening is refused with 409 while the current version has unjustified findings. */
  async setVisibility(actor: PublicationActor, slug: string, visibility: Visibility): Promise<{ dataset: string; visibility: Visibility; notice?: string }> {
    if (visibility === 'open') return this.publish(actor, slug, { fixes: [], open: true }).then((result) => ({ dataset: slug, visibility: result.visibility }));
    checkSteward(actor);
    return this.inTransaction(actor, async (_raw, kysely) => {
      const { dataset } = await this.currentVersion(kysely, actor, slug);
      if (dataset.visibility === 'private') return { dataset: slug, visibility: 'private' as const };
      await catalogue.updateDataset(kysely, dataset.id, { visibility: 'private' });
      await appendAuditEvent(kysely, auditEvent(actor, dataset.organisation_id, 'dataset.made_private', dataset.id, { slug }));
      const notice = await privateDatasetsOverLimit(kysely, dataset.organisation_id);
      return { dataset: slug, visibility: 'private' as const, ...(notice === null ? {} : { notice }) };
    });
  }

  /** One transaction on one held connection, scoped to the actor's organisation or, for an operator, the platform. */
  private async inTransaction<T>(actor: PublicationActor, work: (raw: RawConnection, kysely: Kysely<DB>) => Promise<T>): Promise<T> {
    return this.db.withConnection('app', async (raw, kysely) => {
      await raw.query('begin');
      try {
        if (actor.kind === 'operator') await raw.query(`select set_config('civic.platform', 'on', true)`);
        else await raw.query(`select set_config('civic.organisation_id', $1, true)`, [actor.auth.organisationId]);
        const result = await work(raw, kysely);
        await raw.query('commit');
        return result;
      } catch (error) {
        await raw.query('rollback').catch((rollbackError: unknown) => this.logger.error({ err: rollbackError }, 'publication rollback failed'));
        throw translateGateError(error);
      }
    });
  }

  private async currentVersion(kysely: Kysely<DB>, actor: PublicationActor, slug: string): Promise<{ dataset: catalogue.DatasetRow; resource: catalogue.ResourceRow }> {
    const dataset = await catalogue.findDatasetBySlug(kysely, slug);
    const visible = dataset && (actor.kind === 'operator' || dataset.organisation_id === actor.auth.organisationId);
    if (!dataset || !visible) throw notFound('dataset_not_found', `Dataset "${slug}" was not found.`);
    await catalogue.lockDataset(kysely, dataset.id);
    const resource = dataset.current_resource_id ? await catalogue.findResourceById(kysely, dataset.current_resource_id) : undefined;
    if (!resource) throw conflict('no_version', `Dataset "${slug}" has no loaded version yet. Import a file first.`);
    return { dataset, resource };
  }
}

/** Admits an operator, or a data steward or administrator of an organisation (administrators hold every role, as in hasRole). */
function checkSteward(actor: PublicationActor): void {
  if (actor.kind === 'operator') return;
  if (!hasRole(actor.auth, ['data_steward'])) {
    throw forbidden('data_steward_required', 'Only a data steward or an administrator of the organisation can fix, justify or publish its datasets.');
  }
  if (actor.auth.scopes !== null && !actor.auth.scopes.includes('write')) {
    throw forbidden('write_scope_required', 'This API token cannot change datasets. Use a token with the write scope.');
  }
}

function auditEvent(actor: PublicationActor, organisationId: string, action: string, datasetId: string, details: Record<string, unknown>): AuditEvent {
  if (actor.kind === 'operator') {
    return { organisationId, actorUserId: null, actorKind: 'platform', action, subjectType: 'dataset', subjectId: datasetId, details: { ...details, operator: actor.name } };
  }
  return {
    organisationId,
    actorUserId: actor.auth.userId,
    actorKind: actor.auth.via === 'token' ? 'token' : 'user',
    action,
    subjectType: 'dataset',
    subjectId: datasetId,
    requestId: actor.requestId ?? null,
    details,
  };
}

/** The database gate (SQLSTATE CX409, raised by the trigger on `datasets`) as the service's 409. */
function translateGateError(error: unknown): unknown {
  if ((error as { code?: string }).code === 'CX409') {
    return new AppError('conflict', 'personal_data_found', `${(error as Error).message} To publish it, ${AVAILABLE_FIXES}.`, { cause: error });
  }
  return error;
}
