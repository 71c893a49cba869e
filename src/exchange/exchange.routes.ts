import { Readable } from 'node:stream';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { requireApplication, requireToken } from '../http/auth.ts';
import type { Services } from '../services.ts';
import type { ReleaseRequest } from './release-policy.ts';
import type { Caller } from './release.service.ts';
import { contentDigest } from './signing.ts';

const ReleaseParams = Type.Object({
  agreement: Type.String({ minLength: 3, maxLength: 60, description: 'Agreement reference, such as THR-ISA-2026-014' }),
  dataset: Type.String({ minLength: 1, maxLength: 100, description: 'Dataset slug or id' }),
});
const FieldsQuery = Type.Optional(Type.String({ maxLength: 4000, description: 'Comma-separated fields to release; each must be agreed. All agreed fields when absent.' }));
const RecordsQuery = Type.Object({
  cursor: Type.Optional(Type.String({ maxLength: 500 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
  fields: FieldsQuery,
});
const ChangesQuery = Type.Object({
  since: Type.Optional(Type.String({ maxLength: 500 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
  fields: FieldsQuery,
});
const ExportQuery = Type.Object({ format: Type.Optional(Type.Union([Type.Literal('csv'), Type.Literal('jsonl')])), fields: FieldsQuery });

const PURPOSE_HEADER = 'civic-purpose';

function caller(request: FastifyRequest): Caller {
  const auth = request.auth!;
  return { organisationId: auth.organisationId!, userId: auth.userId, tokenId: auth.tokenId, requestId: request.id };
}

function releaseRequest(request: FastifyRequest, params: Static<typeof ReleaseParams>, fields: string | undefined): ReleaseRequest {
  const purpose = request.headers[PURPOSE_HEADER];
  return {
    recipientOrganisationId: request.auth!.organisationId!,
    agreementReference: params.agreement,
    dataset: params.dataset,
    purpose: Array.isArray(purpose) ? purpose[0] : purpose,
    fields: fields === undefined || fields.trim() === '' ? undefined : fields.split(',').map((field) => field.trim()).filter((field) => field !== ''),
  };
}

/**
 * The exchange API for recipients. Every response with a body in memory carries `Content-Digest` (RFC 9530, SHA-256
 * of the body) and `Civic-Signature` (Ed25519 over that digest, with the key id; keys at /api/v1/exchange/signing-keys).
 *
 * Exports stream, so their digest and signature arrive as HTTP trailers (`Content-Digest`, `Civic-Signature`,
 * `Civic-Export-Status: completed` or `stopped; code=…`). Clients that cannot read trailers take the export id from the
 * `Civic-Export-Id` header and fetch `/api/v1/exchange/exports/{id}` once the body has ended: the record holds the same
 * digest and signature, so a saved file can be checked with `civic verify-export`.
 */
export async function exchangeRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const { exchange } = services;

  app.addHook('onSend', async (_request, reply, payload) => {
    void reply.header('cache-control', 'no-store');
    if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return payload;
    // The body is encoded once: the digest covers these bytes, and they are what the reply writes.
    const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
    const digest = contentDigest(body);
    void reply.header('content-digest', digest);
    void reply.header('civic-signature', exchange.signer.signDigest(digest));
    return body;
  });

  app.get('/api/v1/exchange/signing-keys', async () => ({ keys: [exchange.signer.publishedKey()] }));

  // Releases, exports and subscriptions are the Secure data exchange application; the signing keys above stay public.
  const guarded = { preHandler: [requireToken('exchange'), requireApplication('exchange')] };

  app.get<{ Params: Static<typeof ReleaseParams>; Querystring: Static<typeof RecordsQuery> }>(
    '/api/v1/exchange/agreements/:agreement/datasets/:dataset/records',
    { ...guarded, schema: { params: ReleaseParams, querystring: RecordsQuery } },
    async (request) => {
      const options: { cursor?: string; limit?: number } = {};
      if (request.query.cursor !== undefined) options.cursor = request.query.cursor;
      if (request.query.limit !== undefined) options.limit = request.query.limit;
      return exchange.releases.records(caller(request), releaseRequest(request, request.params, request.query.fields), options);
    },
  );

  app.get<{ Params: Static<typeof ReleaseParams>; Querystring: Static<typeof ChangesQuery> }>(
    '/api/v1/exchange/agreements/:agreement/datasets/:dataset/changes',
    { ...guarded, schema: { params: ReleaseParams, querystring: ChangesQuery } },
    async (request) => {
      const options: { since?: string; limit?: number } = {};
      if (request.query.since !== undefined) options.since = request.query.since;
      if (request.query.limit !== undefined) options.limit = request.query.limit;
      return exchange.releases.changes(caller(request), releaseRequest(request, request.params, request.query.fields), options);
    },
  );

  app.get<{ Params: Static<typeof ReleaseParams>; Querystring: Static<typeof ExportQuery> }>(
    '/api/v1/exchange/agreements/:agreement/datasets/:dataset/export',
    { ...guarded, schema: { params: ReleaseParams, querystring: ExportQuery } },
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
    { ...guarded, schema: { params: Type.Object({ id: Type.String({ maxLength: 36 }) }) } },
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

  const SubscriptionBody = Type.Object({
    url: Type.String({ minLength: 1, maxLength: 2000, description: 'https URL that receives POSTed events' }),
    agreement: Type.Optional(Type.String({ maxLength: 60, description: 'Limit to one agreement reference' })),
    description: Type.Optional(Type.String({ maxLength: 500 })),
  });

  // The secret is in this response only; it signs every delivery (Civic-Webhook-Signature: sha256=<hex HMAC of body>).
  app.post<{ Body: Static<typeof SubscriptionBody> }>('/api/v1/exchange/subscriptions', { ...guarded, schema: { body: SubscriptionBody } }, async (request, reply) => {
    const input: { url: string; agreementReference?: string; description?: string } = { url: request.body.url };
    if (request.body.agreement !== undefined) input.agreementReference = request.body.agreement;
    if (request.body.description !== undefined) input.description = request.body.description;
    const created = await services.exchange.webhooks.subscribe({ organisationId: request.auth!.organisationId!, userId: request.auth!.userId, requestId: request.id }, input);
    return reply.status(201).send({ id: created.id, secret: created.secret, signature_header: 'Civic-Webhook-Signature' });
  });

  app.get('/api/v1/exchange/subscriptions', guarded, async (request) => ({ subscriptions: await services.exchange.webhooks.list(request.auth!.organisationId!) }));

  app.delete<{ Params: { id: string } }>('/api/v1/exchange/subscriptions/:id', { ...guarded, schema: { params: Type.Object({ id: Type.String({ format: 'uuid' }) }) } }, async (request, reply) => {
    await services.exchange.webhooks.disable({ organisationId: request.auth!.organisationId!, userId: request.auth!.userId, requestId: request.id }, request.params.id);
    return reply.status(204).send();
  });

  app.get<{ Params: { id: string } }>('/api/v1/exchange/subscriptions/:id/deliveries', { ...guarded, schema: { params: Type.Object({ id: Type.String({ format: 'uuid' }) }) } }, async (request) => ({
    deliveries: await services.exchange.webhooks.deliveries(request.auth!.organisationId!, request.params.id),
  }));
}
