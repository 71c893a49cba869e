// Brings the OpenAPI route schema keys (tags, summary, security) into Fastify's schema type.
import type {} from '@fastify/swagger';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { auditActor } from '../accounts/auth-context.ts';
import { LICENCES, MAX_DESCRIPTION_LENGTH, MAX_RETENTION_MONTHS, MAX_SPATIAL_LENGTH, MAX_TAGS, UPDATE_FREQUENCIES } from '../catalogue/catalogue.metadata.ts';
import { organisationScope, type DatasetMetadata } from '../catalogue/catalogue.types.ts';
import { AppError, validationError } from '../errors.ts';
import { requireApplication, requireMember } from '../http/auth.ts';
import type { Services } from '../services.ts';
import { Dataset, ErrorResponse, SlugParams } from './api-v1.schemas.ts';

// Null comes first because Fastify's validator coerces types, and with the string first it would turn null into "".
const NullableText = (options: Parameters<typeof Type.String>[0]) => Type.Union([Type.Null(), Type.String(options)]);

/**
 * The body of PATCH /api/v1/datasets/{slug}, in the names the dataset's GET representation uses. Allowed values of
 * licence and update_frequency are checked by the catalogue, whose errors name the value sent and the values allowed.
 */
export const DatasetMetadataPatch = Type.Object(
  {
    title: Type.Optional(Type.String({ maxLength: 500, description: 'The title, 1 to 500 characters.' })),
    description: Type.Optional(Type.String({ maxLength: MAX_DESCRIPTION_LENGTH, description: 'What the data is and how it was collected; paragraphs separated by a blank line.' })),
    licence: Type.Optional(Type.String({ maxLength: 100, description: `Licence id, one of: ${LICENCES.map((licence) => licence.id).join(', ')}.` })),
    tags: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { maxItems: MAX_TAGS, description: 'Replaces every tag. Letters, digits, spaces, dots, hyphens and underscores.' })),
    update_frequency: Type.Optional(NullableText({ maxLength: 100, description: `One of: ${UPDATE_FREQUENCIES.join(', ')}; null for not stated.` })),
    temporal_coverage: Type.Optional(
      Type.Object(
        {
          start: Type.Optional(NullableText({ maxLength: 10, description: 'First day the data covers, YYYY-MM-DD; null for not stated.' })),
          end: Type.Optional(NullableText({ maxLength: 10, description: 'Last day the data covers, YYYY-MM-DD, on or after start; null for not stated.' })),
        },
        { additionalProperties: false },
      ),
    ),
    spatial_coverage: Type.Optional(NullableText({ maxLength: MAX_SPATIAL_LENGTH, description: 'The area covered, such as Thurrock or the GSS code E06000034; null for not stated.' })),
    retention_months: Type.Optional(
      Type.Union([Type.Null(), Type.Integer({ minimum: 1, maximum: MAX_RETENTION_MONTHS })], {
        description:
          'Months after loading that each version is kept, 1 to 1200. The daily retention run removes a version loaded longer ago ' +
          'once a newer one exists, and withdraws the dataset when its current version is that old. null keeps every version.',
      }),
    ),
  },
  { additionalProperties: false, minProperties: 1, description: 'The fields to change; fields left out keep their values.' },
);
export type DatasetMetadataPatch = Static<typeof DatasetMetadataPatch>;

/** The catalogue's field names for metadata errors, mapped to the names of the request body. */
const BODY_FIELDS: Record<string, string> = {
  licence: 'licence',
  update_frequency: 'update_frequency',
  temporal_start: 'temporal_coverage.start',
  temporal_end: 'temporal_coverage.end',
  spatial: 'spatial_coverage',
  retention_months: 'retention_months',
};

const PATCH_FIELDS = new Set(Object.keys(DatasetMetadataPatch.properties));

/**
 * Body fields the operation does not change, such as `visibility`, per request. They are read before validation,
 * because Fastify's validator drops them without a word and the client would believe they had changed.
 */
const unknownFields = new WeakMap<object, string[]>();

function recordUnknownFields(request: FastifyRequest): void {
  const body = request.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return;
  unknownFields.set(request, Object.keys(body).filter((name) => !PATCH_FIELDS.has(name)));
}

/**
 * Rejects a retention period that is not null or a whole number of months in range. It is read before validation
 * because the validator's type coercion would turn 0 and false into null, which keeps every version.
 */
function rejectInvalidRetention(request: FastifyRequest): void {
  const body = request.body;
  if (typeof body !== 'object' || body === null || !('retention_months' in body)) return;
  const value = (body as { retention_months: unknown }).retention_months;
  if (value === null || (Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_RETENTION_MONTHS)) return;
  const message = `retention_months is ${JSON.stringify(value)}. Give a whole number of months from 1 to ${MAX_RETENTION_MONTHS}, or null to keep every version`;
  throw validationError('invalid_dataset_metadata', `The dataset details are invalid: ${message}.`, [{ field: 'retention_months', message }]);
}

/** Rejects the request when its body had fields the operation does not change. */
function rejectUnknownFields(request: FastifyRequest): void {
  const unknown = unknownFields.get(request) ?? [];
  if (unknown.length === 0) return;
  const allowed = [...PATCH_FIELDS].join(', ');
  throw validationError(
    'unknown_field',
    `The body field${unknown.length === 1 ? '' : 's'} ${unknown.map((name) => `"${name}"`).join(', ')} cannot be changed here. Send only: ${allowed}.${unknown.includes('visibility') ? ' Visibility changes through civic publish.' : ''}`,
    unknown.map((name) => ({ field: name, message: `body field ${name} is not recognised. Send only: ${allowed}` })),
  );
}

/** Maps the request body to the catalogue's metadata, leaving out what the body leaves out. */
export function metadataFromPatch(body: DatasetMetadataPatch): DatasetMetadata {
  const metadata: DatasetMetadata = {};
  if (body.title !== undefined) metadata.title = body.title;
  if (body.description !== undefined) metadata.description = body.description;
  if (body.licence !== undefined) metadata.licenceId = body.licence;
  if (body.tags !== undefined) metadata.tags = body.tags.map((tag) => tag.trim());
  if (body.update_frequency !== undefined) metadata.updateFrequency = body.update_frequency;
  if (body.temporal_coverage?.start !== undefined) metadata.temporalStart = body.temporal_coverage.start;
  if (body.temporal_coverage?.end !== undefined) metadata.temporalEnd = body.temporal_coverage.end;
  if (body.spatial_coverage !== undefined) metadata.spatial = body.spatial_coverage === null ? null : body.spatial_coverage.trim();
  if (body.retention_months !== undefined) metadata.retentionMonths = body.retention_months;
  return metadata;
}

/** Renames the fields of a catalogue metadata error to the request body's names. */
function withBodyFieldNames(error: unknown): unknown {
  if (!(error instanceof AppError) || error.kind !== 'validation' || error.fields.length === 0) return error;
  const fields = error.fields.map((field) => ({ ...field, field: BODY_FIELDS[field.field] ?? field.field }));
  const message = `The dataset details are invalid: ${fields.map((field) => `${field.field}: ${field.message}`).join('; ')}.`;
  return new AppError('validation', error.code, message, { fields, cause: error });
}

/**
 * PATCH /api/v1/datasets/{slug}: changes a dataset's descriptive metadata, for a data steward or administrator of the
 * organisation that owns it, with an API token (write scope) or a signed-in session (CSRF token in X-CSRF-Token).
 */
export async function datasetMetadataRoutes(app: FastifyInstance, services: Services, datasetBody: (organisationId: string, slug: string) => Promise<unknown>): Promise<void> {
  app.patch<{ Params: SlugParams; Body: DatasetMetadataPatch }>(
    '/api/v1/datasets/:slug',
    {
      preHandler: [requireMember({ roles: ['data_steward'], scope: 'write' }), requireApplication('data_workspace')],
      preValidation: async (request) => {
        recordUnknownFields(request);
        rejectInvalidRetention(request);
      },
      schema: {
        tags: ['Datasets'],
        summary: 'Change a dataset\'s details',
        description:
          'Sets the title, description, licence, tags, update frequency, temporal coverage, spatial coverage and retention period of a dataset. ' +
          'Fields left out keep their values, and null clears an optional field. Needs a data steward or administrator of the ' +
          'organisation that owns the dataset, through an API token with the write scope or a signed-in session, whose ' +
          'organisation has the Data workspace application enabled. Every problem is listed in error.fields, named as in the body. ' +
          'The change is recorded in the audit log.',
        security: [{ bearerAuth: [] }, { sessionCookie: [] }],
        params: SlugParams,
        body: DatasetMetadataPatch,
        response: { 200: Dataset, 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse },
      },
    },
    async (request) => {
      rejectUnknownFields(request);
      const auth = request.auth!;
      const organisationId = auth.organisationId!;
      try {
        const { actorUserId, actorKind } = auditActor(auth);
        const editor = { userId: actorUserId, kind: actorKind, requestId: request.id };
        await services.catalogue.updateDatasetMetadata(organisationScope(organisationId), request.params.slug, metadataFromPatch(request.body), editor);
      } catch (error) {
        throw withBodyFieldNames(error);
      }
      request.log.info({ dataset: request.params.slug, fields: Object.keys(request.body) }, 'dataset metadata updated');
      return datasetBody(organisationId, request.params.slug);
    },
  );
}
