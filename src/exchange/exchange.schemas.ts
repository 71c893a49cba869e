import { Type } from '@sinclair/typebox';
import { ErrorResponse } from '../api-v1/api-v1.schemas.ts';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './release.service.ts';

/** JSON Schemas of the exchange API's requests and replies, which Fastify validates and serialises with. */

const Timestamp = Type.String({ format: 'date-time' });
const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);

export const ReleaseParams = Type.Object({
  agreement: Type.String({ minLength: 3, maxLength: 60, description: 'Agreement reference, such as THR-ISA-2026-014' }),
  dataset: Type.String({ minLength: 1, maxLength: 100, description: 'Dataset slug or id' }),
});
const FieldsQuery = Type.Optional(Type.String({ maxLength: 4000, description: 'Comma-separated fields to release, each of them agreed. All agreed fields when absent or when the value names no field.' }));
const Limit = Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, description: `Records per page, ${DEFAULT_PAGE_SIZE} when absent.` }));
export const RecordsQuery = Type.Object({
  cursor: Type.Optional(Type.String({ maxLength: 500, description: 'The next_cursor of the previous page. The first page when absent.' })),
  limit: Limit,
  fields: FieldsQuery,
});
export const ChangesQuery = Type.Object({
  since: Type.Optional(Type.String({ maxLength: 500, description: 'The next_cursor of the previous call. The start of the current dataset version when absent.' })),
  limit: Limit,
  fields: FieldsQuery,
});
export const ExportQuery = Type.Object({ format: Type.Optional(Type.Union([Type.Literal('csv'), Type.Literal('jsonl')], { description: 'csv (the default) or jsonl.' })), fields: FieldsQuery });
export const ExportParams = Type.Object({ id: Type.String({ maxLength: 36, description: 'Export id, from the Civic-Export-Id header of the export.' }) });
export const SubscriptionParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const SubscriptionBody = Type.Object({
  url: Type.String({ minLength: 1, maxLength: 2000, description: 'https URL that receives POSTed events' }),
  agreement: Type.Optional(Type.String({ maxLength: 60, description: 'Limit to one agreement reference' })),
  description: Type.Optional(Type.String({ maxLength: 500 })),
});

/**
 * The purpose header of a release, listed in the document only. The release service checks it after the agreement, so
 * a caller that is not a recipient learns that first, and a missing purpose gets `purpose_missing` with the agreed list.
 */
export const PurposeHeaders = Type.Object({
  'civic-purpose': Type.String({
    description: 'The purpose of this request: one of the agreement’s purposes, such as direct_care. Missing: 400 purpose_missing. Not agreed: 403 purpose_not_agreed.',
  }),
});

const DigestHeader = { type: 'string', description: 'RFC 9530 digest of the body: sha-256=:<base64>:.' };
const SignatureHeader = {
  type: 'string',
  description: 'Ed25519 signature over the Content-Digest value: keyid="…", alg="ed25519", sig=:<base64>:. The keys are at /api/v1/exchange/signing-keys.',
};

/** Headers of every exchange reply whose body is sent whole, errors included. */
const SignedHeaders = { 'content-digest': DigestHeader, 'civic-signature': SignatureHeader };

/** Adds the signature headers to a reply schema, so the document lists them for that status. */
function signed<T extends object>(schema: T): T & { headers: typeof SignedHeaders } {
  return { ...schema, headers: SignedHeaders };
}

/** Builds a signed error reply schema of the exchange API, with a `description` of when the error is returned. */
function signedError(description: string) {
  return signed(Type.Object(ErrorResponse.properties, { description }));
}

const Unauthenticated = signedError('No API token was sent, or it is not valid, has expired or was revoked.');
const Forbidden = signedError(
  'token_scope when the token lacks the exchange scope, application_not_enabled when your organisation has not enabled Secure data exchange, or not_a_member.',
);

/** Errors of every guarded exchange route. */
export const GUARD_ERRORS = { 401: Unauthenticated, 403: Forbidden };

/** Errors of the release routes: records, changes and export. */
export const RELEASE_ERRORS = {
  400: signedError(
    'purpose_missing without a Civic-Purpose header, invalid_cursor for a cursor or since value not issued for this agreement and dataset, or invalid_request for a parameter out of range.',
  ),
  401: Unauthenticated,
  403: signedError(
    'The release was rejected. error.code names the term at fault and error.message explains it: not_a_recipient, ' +
      'agreement_not_active, agreement_suspended, agreement_terminated, agreement_not_started, agreement_expired, ' +
      'agreement_review_overdue, purpose_not_agreed, dataset_not_agreed or field_not_agreed. It is token_scope when the ' +
      'token lacks the exchange scope, and application_not_enabled when your organisation has not enabled Secure data exchange.',
  ),
  404: signedError('agreement_not_found when no agreement with that reference names your organisation, or dataset_has_no_data.'),
  409: signedError(
    'dataset_version_gone when the dataset version a cursor points to has been removed, or dataset_version_incompatible when the dataset no longer matches the agreement.',
  ),
};

export const InvalidRequest = signedError('A parameter or the body is not valid, and error.code and error.message say which.');
export const NotFound = signedError('Not found, or not visible to your organisation.');

export const SigningKeys = signed(
  Type.Object({
    keys: Type.Array(
      Type.Object(
        {
          kty: Type.Literal('OKP'),
          crv: Type.Literal('Ed25519'),
          x: Type.String({ description: 'Base64url of the raw public key.' }),
          kid: Type.String({ description: 'The keyid that Civic-Signature names.' }),
          use: Type.Literal('sig'),
          alg: Type.Literal('EdDSA'),
        },
        { description: 'A JSON Web Key (RFC 8037).' },
      ),
    ),
  }, { description: 'The keys in use.' }),
);

const PageFields = {
  agreement: Type.Object({ reference: Type.String(), version: Type.Integer({ description: 'The agreement version in force, whose terms allowed the release.' }) }),
  dataset: Type.Object({ slug: Type.String(), version: Type.Integer({ description: 'The dataset version read.' }) }),
  purpose: Type.String({ description: 'The purpose stated in Civic-Purpose.' }),
  fields: Type.Array(
    Type.Object({
      name: Type.String(),
      type: Type.String({ description: 'The Table Schema type, or string for a pseudonymised field.' }),
      pseudonymised: Type.Boolean(),
    }),
    { description: 'The released fields, in the agreement’s order.' },
  ),
  records: Type.Array(
    Type.Object(
      {},
      {
        additionalProperties: true,
        description: 'One row, keyed by the released field names. A pseudonymised field contains a hex HMAC-SHA-256 pseudonym that stays the same for one person under one agreement.',
      },
    ),
  ),
};

export const RecordsPage = signed(
  Type.Object({
    ...PageFields,
    next_cursor: Type.Union([Type.String(), Type.Null()], { description: 'Send as cursor for the next page. Null on the last page. It keeps to the dataset version of the first page.' }),
  }, { description: 'One page of released records.' }),
);

export const ChangesPage = signed(
  Type.Object({
    ...PageFields,
    next_cursor: Type.String({ description: 'Send as since on the next call, even when no records came back.' }),
    has_more: Type.Boolean({ description: 'Whether more records are ready now. When false, call again later with next_cursor.' }),
  }, { description: 'The records after the cursor, up to limit.' }),
);

/** The 200 reply of an export, a stream signed in its trailers. */
export const ExportReply = {
  description:
    'The rows as CSV (a header row, then CRLF lines) or as one JSON object per line. The digest and signature cover ' +
    'the whole body, so they arrive as HTTP trailers: Content-Digest, Civic-Signature and Civic-Export-Status ' +
    '("completed; rows=N", or "stopped; code=…; rows=N" when the agreement\'s terms stopped the export part way). ' +
    'Clients that cannot read trailers fetch /api/v1/exchange/exports/{id} once the body has ended.',
  headers: {
    'civic-export-id': { type: 'string', description: 'Id of the export record, for /api/v1/exchange/exports/{id}.' },
    'civic-agreement-version': { type: 'string', description: 'The agreement version in force when the export started.' },
    'content-disposition': { type: 'string', description: 'attachment; filename="<dataset>-v<version>.<format>"' },
    trailer: { type: 'string', description: 'Names the trailers: content-digest, civic-signature, civic-export-status.' },
  },
  content: {
    'text/csv': { schema: { type: 'string' } },
    'application/x-ndjson': { schema: { type: 'string' } },
  },
};

export const ExportRecord = signed(
  Type.Object({
    id: Type.String({ format: 'uuid' }),
    status: Type.Union([Type.Literal('running'), Type.Literal('completed'), Type.Literal('stopped')]),
    format: Type.Union([Type.Literal('csv'), Type.Literal('jsonl')]),
    agreement: Type.Object({ reference: Type.String(), version: Type.Integer() }),
    dataset_version: Type.Union([Type.Integer(), Type.Null()], { description: 'Null when that dataset version has since been removed.' }),
    purpose: Type.String(),
    fields: Type.Array(Type.String()),
    row_count: Type.Integer({ description: 'Rows sent, or 0 while running.' }),
    content_digest: Type.Union([Type.String(), Type.Null()], { description: 'The Content-Digest of the bytes sent, or null while running.' }),
    signature: Type.Union([Type.String(), Type.Null()], { description: 'The Civic-Signature over content_digest, or null while running.' }),
    error_code: Type.Union([Type.String(), Type.Null()], { description: 'Why the export stopped, such as agreement_expired or export_interrupted.' }),
    started_at: Timestamp,
    finished_at: NullableTimestamp,
  }, { description: 'The export record.' }),
);

export const CreatedSubscription = signed(
  Type.Object({
    id: Type.String({ format: 'uuid' }),
    secret: Type.String({ description: 'Key of the HMAC-SHA-256 over each delivery body. It is in this reply only.' }),
    signature_header: Type.Literal('Civic-Webhook-Signature', { description: 'The delivery header that carries sha256=<hex HMAC of the body>.' }),
  }, { description: 'The subscription, with its secret.' }),
);

export const SubscriptionList = signed(
  Type.Object({
    subscriptions: Type.Array(
      Type.Object({
        id: Type.String({ format: 'uuid' }),
        url: Type.String(),
        agreement_id: Type.Union([Type.String({ format: 'uuid' }), Type.Null()], { description: 'The one agreement the subscription is limited to, or null for all.' }),
        description: Type.String(),
        created_at: Timestamp,
        disabled_at: NullableTimestamp,
      }),
      { description: 'Every subscription of your organisation, disabled ones included, oldest first.' },
    ),
  }, { description: 'The subscriptions.' }),
);

export const DeliveryList = signed(
  Type.Object({
    deliveries: Type.Array(
      Type.Object({
        event_id: Type.String({ format: 'uuid' }),
        event_type: Type.String(),
        attempt: Type.Integer({ minimum: 1 }),
        status_code: Type.Union([Type.Integer(), Type.Null()], { description: 'The receiver’s HTTP status, or null when no reply came.' }),
        error: Type.Union([Type.String(), Type.Null()], { description: 'Why the attempt failed, or null when the receiver replied with a 2xx status.' }),
        duration_ms: Type.Integer(),
        attempted_at: Timestamp,
      }),
      { description: 'Every delivery attempt, oldest first. Empty for a subscription id your organisation does not have.' },
    ),
  }, { description: 'The delivery attempts.' }),
);
