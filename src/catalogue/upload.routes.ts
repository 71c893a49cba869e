import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
// Brings the OpenAPI route schema keys (tags, summary, security) into Fastify's schema type.
import type {} from '@fastify/swagger';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyError, FastifyInstance } from 'fastify';
import { AppError, validationError } from '../errors.ts';
import { checkApplication, hasRole, requireApplication, requireToken } from '../http/auth.ts';
import { jsonErrorHandler } from '../http/errors.ts';
import { documentRequest } from '../api-v1/openapi.ts';
import type { TableSchema } from '../ingest/table-schema.ts';
import type { Services } from '../services.ts';
import { checkUploadUnderAgreement } from '../agreements/agreement-upload.ts';
import { LICENCES, UPDATE_FREQUENCIES } from './catalogue.metadata.ts';
import type { LoadReport } from './catalogue.types.ts';
import { METADATA_FIELD_NAMES, metadataFromFields, type MetadataFields } from './metadata-fields.ts';
import { parseTableSchema } from './schema-input.ts';
import { checkVisibility, multipartRequired, receiveUpload, registerUploadParser, uploadLimitBytes } from './upload-body.ts';

const Params = Type.Object({
  organisation: Type.String({ description: 'Organisation slug', pattern: '^[a-z0-9][a-z0-9-]{1,99}$' }),
  dataset: Type.String({ description: 'Dataset slug; created when missing', pattern: '^[a-z0-9][a-z0-9_-]{1,99}$' }),
});
type Params = Static<typeof Params>;

const Field = Type.Object({ name: Type.String(), title: Type.String(), type: Type.String(), format: Type.Optional(Type.String()) }, { additionalProperties: true });
const Warning = Type.Object({ code: Type.String(), message: Type.String(), line: Type.Optional(Type.Integer()), column: Type.Optional(Type.String()) }, { additionalProperties: true });

/** The load report; import checks may add fields (such as `personal_data`), so extra properties pass through. */
export const LoadReportSchema = Type.Object(
  {
    dataset: Type.String(),
    organisation: Type.String(),
    title: Type.String(),
    resource_id: Type.String({ format: 'uuid' }),
    version: Type.Integer({ minimum: 1 }),
    visibility: Type.Union([Type.Literal('private'), Type.Literal('open')]),
    rows: Type.Integer({ minimum: 0 }),
    file: Type.String(),
    format: Type.String(),
    encoding: Type.String(),
    delimiter: Type.Union([Type.String(), Type.Null()]),
    header_row: Type.Integer(),
    sheet: Type.Union([Type.String(), Type.Null()]),
    title_metadata: Type.Union([Type.String(), Type.Null()]),
    schema: Type.Object({ fields: Type.Array(Field) }, { additionalProperties: true }),
    warnings: Type.Array(Warning),
  },
  { additionalProperties: true },
);

const ErrorBody = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String(), fields: Type.Array(Type.Object({ field: Type.String(), message: Type.String() })), request_id: Type.String() }),
});

const optionalText = (description: string) => Type.Optional(Type.String({ description }));

/** The multipart form, for the OpenAPI document only: receiveUpload reads and checks the parts itself. */
const UploadForm = Type.Object({
  file: Type.String({ format: 'binary', description: 'The CSV, TSV, XLSX or ODS file to load.' }),
  title: optionalText('Title of the dataset. A new dataset without one takes the title in the file, or else the file name.'),
  description: optionalText('Description of the dataset.'),
  licence: Type.Optional(Type.Union(LICENCES.map((licence) => Type.Literal(licence.id)), { description: 'Licence id.' })),
  tags: optionalText('Tags, comma-separated.'),
  update_frequency: Type.Optional(Type.Union(UPDATE_FREQUENCIES.map((frequency) => Type.Literal(frequency)), { description: 'How often the dataset is updated.' })),
  temporal_start: optionalText('First day the data covers, as YYYY-MM-DD.'),
  temporal_end: optionalText('Last day the data covers, as YYYY-MM-DD.'),
  spatial: optionalText('The area the data covers.'),
  schema: optionalText('A Frictionless Table Schema as JSON text, to fix column types.'),
  sheet: optionalText('Sheet of a workbook to load, needed when more than one visible sheet has data.'),
  visibility: Type.Optional(Type.Union([Type.Literal('private'), Type.Literal('open')], { description: 'Who can see the data; the dataset keeps its visibility when empty.' })),
  agreement: optionalText('Reference of an active agreement your organisation provides that names this dataset.'),
});

interface UploadFields extends MetadataFields {
  title?: string;
  schema?: string;
  sheet?: string;
  visibility?: string;
  /** Reference of an active agreement the caller's organisation provides, which must name this dataset. */
  agreement?: string;
}

const TEXT_FIELDS: ReadonlySet<keyof UploadFields> = new Set<keyof UploadFields>(['title', ...METADATA_FIELD_NAMES, 'schema', 'sheet', 'visibility', 'agreement']);

/**
 * The upload API: `POST /api/v1/organisations/{organisation}/datasets/{dataset}/resources` loads a file as a new
 * version, with the same pipeline as `civic import`. It needs a bearer token with the `write` scope, issued to the
 * organisation in the URL, whose owner is a data steward or administrator there.
 */
export async function uploadRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const maxBytes = uploadLimitBytes();
  await registerUploadParser(app, maxBytes);

  app.post<{ Params: Params }>(
    '/api/v1/organisations/:organisation/datasets/:dataset/resources',
    {
      preHandler: [requireToken('write'), requireApplication('data_workspace')],
      // Fastify rejects a body of a type no parser takes (a bare text/csv upload) before the handler runs, with a 415
      // that names neither the form nor the field, so that case gets the handler's own message.
      errorHandler(error, request, reply) {
        const unparsed = (error as FastifyError).code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE';
        return jsonErrorHandler(unparsed ? multipartRequired(request.headers['content-type']) : error, request, reply);
      },
      config: { swaggerTransform: documentRequest({ body: UploadForm }) },
      schema: {
        tags: ['Datasets'],
        summary: 'Load a file as a new version of a dataset',
        description:
          'Multipart form: `file` (CSV, XLSX or ODS), and optional `title`, the dataset details `description`, `licence` (' +
          `${LICENCES.map((licence) => licence.id).join(', ')}), \`tags\` (comma-separated), \`update_frequency\` (${UPDATE_FREQUENCIES.join(', ')}), ` +
          '`temporal_start` and `temporal_end` (YYYY-MM-DD) and `spatial` (the area covered), which are set in the same transaction as the load, `schema` (Frictionless Table Schema as JSON text), `sheet` and ' +
          '`visibility` (private or open), and `agreement`: the reference of an active agreement your organisation provides that names ' +
          'this dataset, whose recipients are then notified (403 naming the failing term otherwise). Creates the dataset when missing. Needs a bearer token with the write scope for this organisation, ' +
          'whose organisation has the Data workspace application enabled, and the Secure data exchange application too when `agreement` is given. ' +
          `Files larger than ${Math.round(maxBytes / 1048576)} MB are rejected with 413.`,
        consumes: ['multipart/form-data'],
        security: [{ bearerAuth: [] }],
        params: Params,
        response: { 201: LoadReportSchema, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 413: ErrorBody },
      },
    },
    async (request, reply) => {
      const auth = request.auth!;
      const organisation = await services.catalogue.findOrganisation({ kind: 'organisation', organisationId: auth.organisationId! }, request.params.organisation);
      if (!organisation || organisation.id !== auth.organisationId) {
        throw new AppError('forbidden', 'organisation_mismatch', `This API token cannot load data into organisation "${request.params.organisation}". Use a token of that organisation.`);
      }
      if (!hasRole(auth, ['data_steward'])) {
        throw new AppError('forbidden', 'role_required', 'Loading data needs the data steward or administrator role in the organisation.');
      }
      if (!request.isMultipart()) throw multipartRequired(request.headers['content-type']);

      const folder = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'civic-upload-'));
      let report: LoadReport;
      try {
        const fields: UploadFields = {};
        const stored = await receiveUpload(request, folder, TEXT_FIELDS, fields, maxBytes);
        if (stored === null) throw validationError('file_missing', 'Send the file to load in the form field "file".', [{ field: 'file', message: 'Choose a file' }]);
        if (fields.agreement) {
          // Notifying recipients under an agreement is part of the exchange, so it needs that application too.
          await checkApplication(request, 'exchange');
          await checkUploadUnderAgreement(services.db, { organisationId: organisation.id, reference: fields.agreement, datasetSlug: request.params.dataset, now: services.exchange.agreements.clock() });
        }
        const schema: TableSchema | undefined = fields.schema ? parseTableSchema(fields.schema, 'The schema field') : undefined;
        report = await services.imports.importFile(stored, {
          organisation: request.params.organisation,
          dataset: request.params.dataset,
          title: fields.title || undefined,
          metadata: metadataFromFields(fields),
          schema,
          sheet: fields.sheet || undefined,
          visibility: checkVisibility(fields.visibility),
          actor: { kind: 'organisation', organisationId: organisation.id, userId: auth.userId, tokenId: auth.tokenId ?? undefined },
          requestId: request.id,
        });
      } finally {
        // Removed before the response goes out, so a client that sees the report finds no temporary file left.
        await fs.promises.rm(folder, { recursive: true, force: true });
      }
      request.log.info({ dataset: report.dataset, resource_id: report.resource_id, version: report.version, rows: report.rows }, 'upload loaded');
      return reply.status(201).send(report);
    },
  );
}
