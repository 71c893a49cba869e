import { dateState } from '../agreements/agreement-dates.ts';
import { checkDatasetTerms } from '../agreements/agreement-datasets.ts';
import { sql, type Kysely } from 'kysely';
import * as agreements from '../agreements/agreement.repository.ts';
import { storedTerms, type AgreementTerms, type DatasetTerms, type Party } from '../agreements/agreement.terms.ts';
import type { AgreementSummary, AgreementVersion } from '../agreements/agreement.types.ts';
import type { AgreementStatus, VersionStatus } from '../agreements/agreements.tables.ts';
import { executePrepared } from '../db/prepared.ts';
import type { DB } from '../db/schema.ts';
import { AppError, notFound, validationError, type FieldError } from '../errors.ts';
import type { TableSchema, TableSchemaField } from '../ingest/table-schema.ts';

/**
 * The terms check made before every release, and again for every chunk of an export. Each refusal carries a stable
 * code naming the failing term and a plain message, and is a 403 unless the request itself is malformed.
 */
export type RefusalCode =
  | 'not_a_recipient'
  | 'agreement_not_active'
  | 'agreement_suspended'
  | 'agreement_terminated'
  | 'agreement_not_started'
  | 'agreement_expired'
  | 'agreement_review_overdue'
  | 'purpose_not_agreed'
  | 'dataset_not_agreed'
  | 'field_not_agreed';

export function refusal(code: RefusalCode, message: string, fields?: FieldError[]): AppError {
  return new AppError('forbidden', code, message, fields === undefined ? {} : { fields });
}

export interface ReleaseRequest {
  recipientOrganisationId: string;
  agreementReference: string;
  /** Dataset slug or id, as in the URL. */
  dataset: string;
  purpose: string | undefined;
  /** Fields the caller asked for with `?fields=`; all agreed fields when absent. */
  fields: string[] | undefined;
}

/** A dataset version a release reads from. */
export interface ReleaseResource {
  id: string;
  version: number;
  tableName: string;
  schema: TableSchema;
  rowCount: number;
}

/** Everything a release needs once the terms allow it. */
export interface ReleasePlan {
  agreement: AgreementSummary;
  version: AgreementVersion;
  terms: AgreementTerms;
  dataset: DatasetTerms;
  datasetId: string;
  datasetSlug: string;
  purpose: string;
  /** Fields released, in the agreement's order. */
  fields: TableSchemaField[];
  recipientOrganisationId: string;
  /**
   * The dataset's current version, read in the same statement as the dataset. loadResource checks its schema against
   * the terms when a release reads it.
   */
  currentResource: ReleaseResource | null;
}

const STATUS_REFUSALS: Record<string, RefusalCode> = {
  draft: 'agreement_not_active',
  awaiting_approval: 'agreement_not_active',
  discarded: 'agreement_not_active',
  suspended: 'agreement_suspended',
  terminated: 'agreement_terminated',
  expired: 'agreement_expired',
  lapsed_review: 'agreement_review_overdue',
};

/** Checks status and dates against the clock; used per request and per export chunk. */
export function checkInForce(agreement: { reference: string; status: string }, terms: AgreementTerms, now: Date): void {
  const statusCode = STATUS_REFUSALS[agreement.status];
  if (statusCode) {
    throw refusal(statusCode, `Agreement ${agreement.reference} is ${agreement.status.replace('_', ' ')}, so no data can be released under it.`);
  }
  switch (dateState(terms, now)) {
    case 'not_started':
      throw refusal('agreement_not_started', `Agreement ${agreement.reference} starts on ${terms.startDate}; no data can be released before then.`);
    case 'expired':
      throw refusal('agreement_expired', `Agreement ${agreement.reference} ended on ${terms.endDate}; no data can be released after it ends.`);
    case 'review_overdue':
      throw refusal('agreement_review_overdue', `Agreement ${agreement.reference} was due for review on ${terms.reviewDate}; releases stop until a reviewed version is approved.`);
    case 'in_force':
      return;
  }
}

/**
 * Resolves the agreement, dataset and fields for a recipient and checks every term. Runs in the transaction `trx`,
 * which starts in the recipient's scope (so row-level security decides what the recipient can see) and is left in the
 * provider's scope, where the release reads the dataset.
 */
export async function authoriseRelease(trx: Kysely<DB>, request: ReleaseRequest, now: Date): Promise<ReleasePlan> {
  const found = await readReleaseContext(trx, request);
  if (!found) throw notFound('agreement_not_found', `No agreement with the reference ${request.agreementReference} names your organisation.`);
  const { agreement, inForce: version } = found;
  const recipientOf = (terms: AgreementTerms): Party | undefined =>
    terms.parties.find((party) => party.organisationId === request.recipientOrganisationId && party.sharingRole === 'recipient');
  if (!version || !recipientOf(version.terms)) {
    // The transaction is still in the recipient's scope here. The other versions are read only when no version is in
    // force: if any of them names the caller as a recipient, the refusal is agreement_not_active, not not_a_recipient.
    if (!version && (await agreements.listVersions(trx, agreement.id)).some((candidate) => recipientOf(candidate.terms))) {
      throw refusal('agreement_not_active', `Agreement ${agreement.reference} has no approved version in force, so no data can be released under it.`);
    }
    throw refusal('not_a_recipient', `Your organisation is not a recipient under agreement ${agreement.reference}.`);
  }
  const terms = version.terms;
  checkInForce(agreement, terms, now);

  if (request.purpose === undefined || request.purpose.trim() === '') {
    throw validationError('purpose_missing', `State the purpose of the request in the Civic-Purpose header, one of: ${terms.purposes.join(', ')}.`);
  }
  const purpose = request.purpose.trim();
  if (!(terms.purposes as string[]).includes(purpose)) {
    throw refusal('purpose_not_agreed', `"${purpose}" is not a purpose of agreement ${agreement.reference}. The agreed purposes are: ${terms.purposes.join(', ')}.`);
  }

  const datasetRow = found.dataset;
  const dataset = datasetRow ? terms.datasets.find((candidate) => candidate.datasetId === datasetRow.id) : undefined;
  if (!datasetRow || !dataset) {
    throw refusal('dataset_not_agreed', `Agreement ${agreement.reference} does not cover a dataset "${request.dataset}". The agreement page lists the datasets it covers.`);
  }

  const requested = request.fields ?? dataset.fields;
  for (const field of requested) {
    if (!dataset.fields.includes(field)) {
      throw refusal('field_not_agreed', `The field "${field}" is not released under agreement ${agreement.reference}. The agreed fields are: ${dataset.fields.join(', ')}.`, [
        { field: 'fields', message: `${field} is not an agreed field` },
      ]);
    }
  }
  const ordered = dataset.fields.filter((field) => requested.includes(field));
  return {
    agreement,
    version,
    terms,
    dataset,
    datasetId: datasetRow.id,
    datasetSlug: datasetRow.slug,
    purpose,
    fields: ordered.map((name) => ({ name, title: name, type: 'string' as const })),
    recipientOrganisationId: request.recipientOrganisationId,
    currentResource: datasetRow.currentResource,
  };
}

const RESOURCE_COLUMNS = ['r.id', 'r.version', 'r.table_name', 'r.table_schema', 'r.row_count'] as const;

function toResource(row: { id: string; version: number; table_name: string; table_schema: unknown; row_count: string | number | bigint }): ReleaseResource {
  return { id: row.id, version: row.version, tableName: row.table_name, schema: row.table_schema as TableSchema, rowCount: Number(row.row_count) };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface ReleaseContext {
  agreement: AgreementSummary;
  inForce: AgreementVersion | null;
  /** The provider's dataset named in the request, with its current version; null when there is none to read. */
  dataset: { id: string; slug: string; currentResource: ReleaseResource | null } | null;
}

/**
 * Reads the agreement and its version in force in the recipient's scope, in one round trip (civic_release_context).
 * When that version names the recipient as a recipient, it also reads the provider's dataset (by id or slug) and its
 * current version, and leaves the transaction in the provider's scope.
 */
async function readReleaseContext(trx: Kysely<DB>, request: ReleaseRequest): Promise<ReleaseContext | null> {
  const byId = UUID.test(request.dataset);
  // Every release runs this first, so it is prepared once per connection.
  const compiled = sql<ContextRow>`select * from civic_release_context(${request.recipientOrganisationId}, ${request.agreementReference}, ${byId ? request.dataset : null}, ${byId ? null : request.dataset})`.compile(trx);
  const [row] = await executePrepared(trx, compiled);
  if (!row) return null;
  const inForce =
    row.v_id === null
      ? null
      : agreements.toVersion(
          {
            id: row.v_id,
            agreement_id: row.v_agreement_id!,
            version: row.v_version!,
            status: row.v_status!,
            terms: row.v_terms,
            created_at: row.v_created_at!,
            submitted_at: row.v_submitted_at,
            approved_at: row.v_approved_at,
          },
          settledTerms(row.v_id, row.v_status!, row.v_terms),
        );
  const currentResource =
    row.r_id === null ? null : toResource({ id: row.r_id, version: row.r_version!, table_name: row.r_table_name!, table_schema: row.r_table_schema, row_count: row.r_row_count! });
  return {
    agreement: agreements.toSummary(row),
    inForce,
    dataset: row.d_id === null ? null : { id: row.d_id, slug: row.d_slug!, currentResource },
  };
}

/** How many versions' parsed terms are kept; more than a server releases under at once. */
const KEPT_TERMS = 256;
const settled = new Map<string, AgreementTerms>();

/**
 * Returns a version's terms, parsed once per version. Only a draft's terms can change (an approved version is amended
 * by a new version), so the terms of any other version are kept by version id, frozen so that no caller changes them.
 */
function settledTerms(versionId: string, status: VersionStatus, json: unknown): AgreementTerms {
  if (status === 'draft') return storedTerms(json);
  let terms = settled.get(versionId);
  if (terms === undefined) {
    terms = deepFreeze(storedTerms(json));
    if (settled.size >= KEPT_TERMS) settled.delete(settled.keys().next().value!);
    settled.set(versionId, terms);
  }
  return terms;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

interface ContextRow {
  id: string;
  organisation_id: string;
  reference: string;
  title: string;
  status: AgreementStatus;
  version_in_force_id: string | null;
  v_id: string | null;
  v_agreement_id: string | null;
  v_version: number | null;
  v_status: VersionStatus | null;
  v_terms: unknown;
  v_created_at: Date | null;
  v_submitted_at: Date | null;
  v_approved_at: Date | null;
  d_id: string | null;
  d_slug: string | null;
  r_id: string | null;
  r_version: number | null;
  r_table_name: string | null;
  r_table_schema: unknown;
  r_row_count: string | null;
}

/**
 * Loads a version of the dataset (the current one when `version` is absent) in the provider's scope. The current
 * version comes from the plan, which read it with the dataset, and only another version costs a query.
 */
export async function loadResource(trx: Kysely<DB>, plan: ReleasePlan, version?: number): Promise<ReleaseResource | null> {
  const current = plan.currentResource;
  if (version === undefined) return current ? bindResource(plan, current) : null;
  // Versions are unique per dataset, so a cursor on the current version needs no second read.
  if (current?.version === version) return bindResource(plan, current);
  const row = await trx
    .selectFrom('resources as r')
    .select(RESOURCE_COLUMNS)
    .where('r.dataset_id', '=', plan.datasetId)
    .where('r.version', '=', version)
    .executeTakeFirst();
  return row ? bindResource(plan, toResource(row)) : null;
}

/** The next version after `version`, for the change feed. */
export async function loadNextResource(trx: Kysely<DB>, plan: ReleasePlan, afterVersion: number): Promise<ReleaseResource | null> {
  const row = await trx
    .selectFrom('resources as r')
    .select(RESOURCE_COLUMNS)
    .where('r.dataset_id', '=', plan.datasetId)
    .where('r.version', '>', afterVersion)
    .orderBy('r.version')
    .limit(1)
    .executeTakeFirst();
  return row ? bindResource(plan, toResource(row)) : null;
}

/** Checks the agreed fields and filter against this version's schema and types the released fields from it. */
function bindResource(plan: ReleasePlan, resource: ReleaseResource): ReleaseResource {
  const problems = checkDatasetTerms(plan.dataset, resource.schema, 'dataset');
  if (problems.length > 0) {
    throw new AppError('conflict', 'dataset_version_incompatible', `Version ${resource.version} of the dataset no longer matches agreement ${plan.agreement.reference}: ${problems[0]!.message}. Ask the provider to amend the agreement.`);
  }
  const byName = new Map(resource.schema.fields.map((field) => [field.name, field]));
  plan.fields = plan.fields.map((field) => byName.get(field.name)!);
  return resource;
}
