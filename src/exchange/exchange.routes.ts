import { Readable } from 'node:stream';
// Brings the OpenAPI route schema keys (tags, summary, security) into Fastify's schema type.
import type {} from '@fastify/swagger';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { documentRequest } from '../api-v1/openapi.ts';
import { requireApplication, requireToken } from '../http/auth.ts';
import type { Services } from '../services.ts';
import {
  ChangesPage,
  ChangesQuery,
  CreatedSubscription,
  DeliveryList,
  ExportParams,
  ExportQuery,
  ExportRecord,
  ExportReply,
  GUARD_ERRORS,
  InvalidRequest,
  NotFound,
  PurposeHeaders,
  RecordsPage,
  RecordsQuery,
  RELEASE_ERRORS,
  ReleaseParams,
  SigningKeys,
  SubscriptionBody,
  SubscriptionList,
  SubscriptionParams,
} from './exchange.schemas.ts';
import type { ReleaseRequest } from './release-policy.ts';
import type { Caller, RecordsPage as RecordsPageBody } from './release.service.ts';
import { contentDigest, type ExchangeSigner } from './signing.ts';

const PURPOSE_HEADER = 'civic-purpose';
const TAGS = ['Secure data exchange'];
const SECURITY = [{ bearerAuth: [] }];
const TOKEN_NOTE = 'Needs an API token with the exchange scope, of an organisation that has enabled Secure data exchange.';
const RELEASE_NOTE =
  'Releases only under an agreement in force that names your organisation as a recipient, and only the agreed fields. ' +
  'Each release is written to the disclosure log. A 403 names the refusing term in error.code.';
// The release service, not Fastify, checks the purpose header (see PurposeHeaders).
const releaseDocumentation = { swaggerTransform: documentRequest({ headers: PurposeHeaders }) };

function caller(request: FastifyRequest): Caller {
  const auth = request.auth!;
  return { organisationId: auth.organisationId!, userId: auth.userId, tokenId: auth.tokenId, requestId: request.id };
}

/** A JSON body with its digest and signature, made while a release's record is written (see encodedRecords). */
interface SignedBody {
  body: Buffer;
  digest: string;
  signature: string;
}

function signedJson(signer: ExchangeSigner, value: unknown): SignedBody {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  const digest = contentDigest(body);
  return { body, digest, signature: signer.signDigest(digest) };
}

/** Sends a signed body as it is; the onSend hook leaves a body that carries its digest alone. */
function sendSigned(reply: FastifyReply, signed: SignedBody): Buffer {
  void reply.header('content-digest', signed.digest).header('civic-signature', signed.signature).type('application/json; charset=utf-8');
  return signed.body;
}

/**
 * Sends a page of released records encoded by `JSON.stringify`. The schema's compiled serializer encodes records that
 * allow any property one value at a time, which took about five times as long for a page of 1,000 records. The page
 * is built by the release service from the agreed fields only, so the schema has nothing to strip from it. Errors
 * thrown before this point keep the schema's serializer.
 */
function encodedPage<T extends RecordsPageBody>(reply: FastifyReply, page: T): T {
  reply.serializer(JSON.stringify);
  return page;
}

function releaseRequest(request: FastifyRequest, params: Static<typeof ReleaseParams>, fields: string | undefined): ReleaseRequest {
  const purpose = request.headers[PURPOSE_HEADER];
  return {
    recipientOrganisationId: request.auth!.organisationId!,
    // References are upper case, and the agreement pages accept them in any case, so the API does as well.
    agreementReference: params.agreement.toUpperCase(),
    dataset: params.dataset,
    purpose: Array.isArray(purpose) ? purpose[0] : purpose,
    fields: requestedFields(fields),
  };
}

/** Splits `?fields=` into names. A value naming no field (empty, or only commas) means all agreed fields, as absence does. */
function requestedFields(fields: string | undefined): string[] | undefined {
  const names = (fields ?? '').split(',').map((field) => field.trim()).filter((field) => field !== '');
  return names.length === 0 ? undefined : names;
}

/**
 * The exchange API for recipients. Every response with a body in memory carries `Content-Digest` (RFC 9530, SHA-256
 * of the body) and `Civic-Signature` (Ed25519 over that digest, with the key id; keys at /api/v1/exchange/signing-keys).
 *
 * Exports stream, so their digest and signature arrive as HTTP trailers (`Content-Digest`, `Civic-Signature`,
 * `Civic-Export-Status: completed; rows=N` or `stopped; code=…; rows=N`). Clients that cannot read trailers take the
 * export id from the `Civic-Export-Id` header and fetch `/api/v1/exchange/exports/{id}` once the body has ended. The
 * record contains the same digest and signature, so a saved file can be checked with `civic verify-export`.
 */
export async function exchangeRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const { exchange } = services;

  app.addHook('onSend', async (_request, reply, payload) => {
    void reply.header('cache-control', 'no-store');
    if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return payload;
    if (reply.hasHeader('content-digest')) return payload;
    // The body is encoded once: the digest covers these bytes, and they are what the reply writes.
    const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
    const digest = contentDigest(body);
    void reply.header('content-digest', digest);
    void reply.header('civic-signature', exchange.signer.signDigest(digest));
    return body;
  });

  app.get('/api/v1/exchange/signing-keys', {
    schema: {
      tags: TAGS,
      summary: 'List the public keys that verify Civic-Signature headers and trailers',
      response: { 200: SigningKeys },
    },
  }, async () => ({ keys: [exchange.signer.publishedKey()] }));

  // Releases, exports and subscriptions are the Secure data exchange application; the signing keys above stay public.
  const guarded = { preHandler: [requireToken('exchange'), requireApplication('exchange')] };

  // Every GET of records, changes or an export is a release written to the disclosure log. Fastify would handle HEAD
  // by running the GET handler and dropping the body, which logs a release that sent nothing, so HEAD gets 405.
  const releasePaths = ['records', 'changes', 'export'].map((operation) => `/api/v1/exchange/agreements/:agreement/datasets/:dataset/${operation}`);
  for (const path of releasePaths) {
    app.head(path, { schema: { hide: true } }, async (_request, reply) => reply.status(405).header('allow', 'GET').send());
  }
  const released = { ...guarded, exposeHeadRoutes: false };

  app.get<{ Params: Static<typeof ReleaseParams>; Querystring: Static<typeof RecordsQuery> }>(
    '/api/v1/exchange/agreements/:agreement/datasets/:dataset/records',
    {
      ...released,
      schema: {
        tags: TAGS,
        summary: 'Release one page of a dataset\'s records under an agreement',
        description: `${TOKEN_NOTE} ${RELEASE_NOTE} Follow next_cursor for the next page.`,
        security: SECURITY,
        params: ReleaseParams,
        querystring: RecordsQuery,
        response: { 200: RecordsPage, ...RELEASE_ERRORS },
      },
      config: releaseDocumentation,
    },
    async (request, reply) => {
      const options: { cursor?: string; limit?: number } = {};
      if (request.query.cursor !== undefined) options.cursor = request.query.cursor;
      if (request.query.limit !== undefined) options.limit = request.query.limit;
      // The page is encoded and signed while its disclosure record is written.
      const signed = await exchange.releases.encodedRecords(caller(request), releaseRequest(request, request.params, request.query.fields), options, (page) => signedJson(exchange.signer, page));
      return sendSigned(reply, signed);
    },
  );

  app.get<{ Params: Static<typeof ReleaseParams>; Querystring: Static<typeof ChangesQuery> }>(
    '/api/v1/exchange/agreements/:agreement/datasets/:dataset/changes',
    {
      ...released,
      schema: {
        tags: TAGS,
        summary: 'Release the records after a cursor, moving on through newer dataset versions',
        description: `${TOKEN_NOTE} ${RELEASE_NOTE} Without since, the feed starts at the first record of the current dataset version, and it moves on to newer versions as the provider loads them.`,
        security: SECURITY,
        params: ReleaseParams,
        querystring: ChangesQuery,
        response: { 200: ChangesPage, ...RELEASE_ERRORS },
      },
      config: releaseDocumentation,
    },
    async (request, reply) => {
      const options: { since?: string; limit?: number } = {};
      if (request.query.since !== undefined) options.since = request.query.since;
      if (request.query.limit !== undefined) options.limit = request.query.limit;
      const page = await exchange.releases.changes(caller(request), releaseRequest(request, request.params, request.query.fields), options);
      return encodedPage(reply, page);
    },
  );

  app.get<{ Params: Static<typeof ReleaseParams>; Querystring: Static<typeof ExportQuery> }>(
    '/api/v1/exchange/agreements/:agreement/datasets/:dataset/export',
    {
      ...released,
      schema: {
        tags: TAGS,
        summary: 'Stream every record of the current dataset version as CSV or JSON Lines',
        description:
          `${TOKEN_NOTE} ${RELEASE_NOTE} The terms are checked again before each chunk of rows, so an export can stop ` +
          'part way. The Civic-Export-Status trailer and the export record then give the reason.',
        security: SECURITY,
        params: ReleaseParams,
        querystring: ExportQuery,
        response: { 200: ExportReply, ...RELEASE_ERRORS },
      },
      config: releaseDocumentation,
    },
    async (request, reply) => {
      const format = request.query.format ?? 'csv';
      const started = await exchange.exports.start(caller(request), releaseRequest(request, request.params, request.query.fields), format);
      const outcome = () => started.outcome();
      void reply
        .header('content-type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
        .header('content-disposition', `attachment; filename="${started.plan.datasetSlug}-v${started.resource.version}.${format}"`)
        .header('civic-export-id', started.id)
        .header('civic-agreement-version', String(started.plan.version.version))
        .trailer('content-digest', async () => outcome()?.digest ?? '')
        .trailer('civic-signature', async () => outcome()?.signature ?? '')
        .trailer('civic-export-status', async () => {
          const result = outcome();
          if (!result) return 'stopped; code=export_interrupted';
          return result.status === 'completed' ? `completed; rows=${result.rowCount}` : `stopped; code=${result.errorCode}; rows=${result.rowCount}`;
        });
      return reply.send(Readable.from(started.body));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/exchange/exports/:id',
    {
      ...guarded,
      schema: {
        tags: TAGS,
        summary: 'Show the record of an export, with its digest and signature',
        description: `${TOKEN_NOTE} The recipient or the provider may read it. The digest and signature are those of the trailers, so a saved file can be checked with \`civic verify-export\`.`,
        security: SECURITY,
        params: ExportParams,
        response: { 200: ExportRecord, 400: InvalidRequest, ...GUARD_ERRORS, 404: NotFound },
      },
    },
    async (request) => {
      const row = await exchange.exports.find(request.auth!.organisationId!, request.params.id);
      return {
        id: row.id,
        status: row.status,
        format: row.format,
        agreement: { reference: row.reference, version: row.agreement_version },
        dataset_version: row.dataset_version,
        purpose: row.purpose,
        fields: row.fields,
        row_count: Number(row.row_count),
        content_digest: row.content_digest,
        signature: row.signature,
        error_code: row.error_code,
        started_at: row.started_at,
        finished_at: row.finished_at,
      };
    },
  );

  // The secret is in this response only; it signs every delivery (Civic-Webhook-Signature: sha256=<hex HMAC of body>).
  app.post<{ Body: Static<typeof SubscriptionBody> }>('/api/v1/exchange/subscriptions', {
    ...guarded,
    schema: {
      tags: TAGS,
      summary: 'Subscribe a URL to your organisation\'s exchange events',
      description: `${TOKEN_NOTE} Events are new versions of a shared dataset (dataset.version_created), agreement changes (agreement.version_in_force, agreement.status_changed, agreement.review_due) and rectification notices (subject.rectified, subject.erased), which carry the person\'s pseudonym but never a clear identifier. Each delivery is a JSON POST signed with the secret in Civic-Webhook-Signature.`,
      security: SECURITY,
      body: SubscriptionBody,
      response: { 201: CreatedSubscription, 400: InvalidRequest, ...GUARD_ERRORS, 404: NotFound },
    },
  }, async (request, reply) => {
    const input: { url: string; agreementReference?: string; description?: string } = { url: request.body.url };
    if (request.body.agreement !== undefined) input.agreementReference = request.body.agreement;
    if (request.body.description !== undefined) input.description = request.body.description;
    const created = await services.exchange.webhooks.subscribe({ organisationId: request.auth!.organisationId!, userId: request.auth!.userId, requestId: request.id }, input);
    return reply.status(201).send({ id: created.id, secret: created.secret, signature_header: 'Civic-Webhook-Signature' });
  });

  app.get('/api/v1/exchange/subscriptions', {
    ...guarded,
    schema: { tags: TAGS, summary: 'List your organisation\'s webhook subscriptions', description: TOKEN_NOTE, security: SECURITY, response: { 200: SubscriptionList, ...GUARD_ERRORS } },
  }, async (request) => ({ subscriptions: await services.exchange.webhooks.list(request.auth!.organisationId!) }));

  app.delete<{ Params: { id: string } }>('/api/v1/exchange/subscriptions/:id', {
    ...guarded,
    schema: {
      tags: TAGS,
      summary: 'Disable a webhook subscription',
      description: `${TOKEN_NOTE} The subscription stays in the list with disabled_at set, and disabling it again gets 404.`,
      security: SECURITY,
      params: SubscriptionParams,
      response: { 204: Type.Null({ description: 'Disabled.' }), 400: InvalidRequest, ...GUARD_ERRORS, 404: NotFound },
    },
  }, async (request, reply) => {
    await services.exchange.webhooks.disable({ organisationId: request.auth!.organisationId!, userId: request.auth!.userId, requestId: request.id }, request.params.id);
    return reply.status(204).send();
  });

  app.get<{ Params: { id: string } }>('/api/v1/exchange/subscriptions/:id/deliveries', {
    ...guarded,
    schema: {
      tags: TAGS,
      summary: 'List the delivery attempts of a webhook subscription',
      description: `${TOKEN_NOTE} A subscription of another organisation gets 404, as an unknown id does.`,
      security: SECURITY,
      params: SubscriptionParams,
      response: { 200: DeliveryList, 400: InvalidRequest, ...GUARD_ERRORS, 404: NotFound },
    },
  }, async (request) => ({
    deliveries: await services.exchange.webhooks.deliveries(request.auth!.organisationId!, request.params.id),
  }));
}
