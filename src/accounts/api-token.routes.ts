// Brings the OpenAPI route schema keys (tags, summary, security) into Fastify's schema type.
import type {} from '@fastify/swagger';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { ErrorResponse } from '../api-v1/api-v1.schemas.ts';
import { AppError, type FieldError } from '../errors.ts';
import { formPageContext } from '../http/forms.ts';
import { requireMember } from '../http/auth.ts';
import type { Services } from '../services.ts';
import { mayRevokeToken, type NewToken, type TokenSummary } from './api-token.service.ts';

const CreateTokenBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    scopes: Type.Array(Type.Union([Type.Literal('read'), Type.Literal('write'), Type.Literal('exchange')]), { minItems: 1 }),
    expires_in_days: Type.Optional(Type.Integer({ minimum: 1, maximum: 365 })),
  },
  { additionalProperties: false },
);

const TAGS = ['API tokens'];
// Tokens cannot manage tokens, so these routes take only the browser session.
const SECURITY = [{ sessionCookie: [] }];
const Timestamp = Type.String({ format: 'date-time' });
const Scopes = CreateTokenBody.properties.scopes;
const TokenParams = Type.Object({ id: Type.String({ description: 'Token id (a UUID).' }) });

const TokenSummaryBody = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  prefix: Type.String({ description: 'The eight characters after "civic_" that identify the token. The secret is never shown again.' }),
  scopes: Scopes,
  created_at: Timestamp,
  expires_at: Timestamp,
  revoked_at: Type.Union([Timestamp, Type.Null()]),
  last_used_at: Type.Union([Timestamp, Type.Null()], { description: 'Updated at most once a minute.' }),
});

const TokenList = Type.Object(
  { tokens: Type.Array(TokenSummaryBody, { description: 'Every token of the organisation, newest first, revoked and expired ones included.' }) },
  { description: 'The tokens, without their secrets.' },
);

const CreatedToken = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  prefix: Type.String(),
  scopes: Scopes,
  expires_at: Timestamp,
  token: Type.String({ description: 'The whole token, civic_<prefix>_<secret>. It is in this response only, because only its hash is stored.' }),
}, { description: 'The new token.' });

function toJson(token: TokenSummary) {
  return {
    id: token.id,
    name: token.name,
    prefix: token.prefix,
    scopes: token.scopes,
    created_at: token.createdAt.toISOString(),
    expires_at: token.expiresAt.toISOString(),
    revoked_at: token.revokedAt?.toISOString() ?? null,
    last_used_at: token.lastUsedAt?.toISOString() ?? null,
  };
}

/** The API token pages under /account/tokens and the JSON API under /api/tokens; tokens cannot manage tokens. */
export async function registerTokenRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const tokens = services.tokens;
  const csrf = services.accounts.csrf;
  const sessionMember = requireMember();
  const rejectTokens = async (request: { auth: { via: string } | null }) => {
    if (request.auth?.via === 'token') throw new AppError('forbidden', 'session_required', 'API tokens are managed after signing in, not with another token.');
  };

  app.get('/api/tokens', {
    preHandler: [sessionMember, rejectTokens],
    schema: { tags: TAGS, summary: 'List the API tokens of your organisation', security: SECURITY, response: { 200: TokenList, 401: ErrorResponse, 403: ErrorResponse } },
  }, async (request) => ({
    tokens: (await tokens.list(request.auth!.organisationId!)).map(toJson),
  }));

  app.post<{ Body: Static<typeof CreateTokenBody> }>('/api/tokens', {
    schema: {
      tags: TAGS,
      summary: 'Create an API token for yourself',
      description: 'The token acts for you in your current organisation, limited by its scopes and by your role. It expires after expires_in_days (90 when left out). 409 means the organisation has as many active tokens as its plan allows.',
      security: SECURITY,
      body: CreateTokenBody,
      response: { 201: CreatedToken, 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 409: ErrorResponse },
    },
    preHandler: [sessionMember, rejectTokens],
  }, async (request, reply) => {
    const created: NewToken = await tokens.create(request.auth!, { name: request.body.name, scopes: request.body.scopes, expiresInDays: request.body.expires_in_days }, request.id);
    return reply.status(201).send({ id: created.id, name: created.name, prefix: created.prefix, scopes: created.scopes, expires_at: created.expiresAt.toISOString(), token: created.token });
  });

  app.delete<{ Params: { id: string } }>('/api/tokens/:id', {
    preHandler: [sessionMember, rejectTokens],
    schema: {
      tags: TAGS,
      summary: 'Revoke an API token',
      description: 'Its owner or an administrator may revoke a token, and anyone else gets 404. Revoking a revoked token succeeds again.',
      security: SECURITY,
      params: TokenParams,
      response: { 204: Type.Null({ description: 'Revoked.' }), 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse },
    },
  }, async (request, reply) => {
    if (!/^[0-9a-f-]{36}$/.test(request.params.id)) throw new AppError('not_found', 'token_not_found', 'API token not found.');
    await tokens.revoke(request.auth!, request.params.id, request.id);
    return reply.status(204).send();
  });

  const SCOPE_LABELS = { read: 'Read', write: 'Write (upload data)', exchange: 'Exchange (data under agreements)' } as const;

  /** Renders the tokens page: the list, with Revoke only where the member may revoke, and a form with the usable scopes. */
  const tokensPage = async (request: FastifyRequest, reply: FastifyReply, options: { created?: NewToken; values?: Record<string, unknown>; errors?: FieldError[] } = {}) => {
    const auth = request.auth!;
    const [list, scopeOptions] = await Promise.all([tokens.list(auth.organisationId!), tokens.scopeOptions(auth)]);
    const errors = options.errors ?? [];
    return reply.page(
      'accounts/tokens.njk',
      {
        tokens: list.map((token) => ({ ...token, mayRevoke: mayRevokeToken(auth, token.userId) })),
        isAdministrator: auth.roles.includes('administrator'),
        scopeItems: scopeOptions.filter((option) => option.refusal === null).map((option) => ({ value: option.scope, text: SCOPE_LABELS[option.scope] })),
        scopeRefusals: scopeOptions.flatMap((option) => (option.refusal === null ? [] : [`${option.refusal}.`])),
        created: options.created,
        csrfToken: csrf.tokenFor(request, reply),
        ...formPageContext(options.values ?? {}, errors, { scopes: 'scopes' }),
      },
      errors.length > 0 ? 400 : 200,
    );
  };

  app.get('/account/tokens', { preHandler: [sessionMember, rejectTokens] }, async (request, reply) => tokensPage(request, reply));

  app.post('/account/tokens', { preHandler: [sessionMember, rejectTokens] }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, string | string[] | undefined>;
    const name = typeof body.name === 'string' ? body.name : '';
    const scopes = Array.isArray(body.scopes) ? body.scopes : typeof body.scopes === 'string' ? [body.scopes] : [];
    const daysText = typeof body.expiresInDays === 'string' ? body.expiresInDays.trim() : '';
    const values = { name, scopes, expiresInDays: daysText };
    try {
      const created = await tokens.create(request.auth!, { name, scopes, expiresInDays: daysText === '' ? undefined : Number(daysText) }, request.id);
      return tokensPage(request, reply, { created });
    } catch (error) {
      if (!(error instanceof AppError) || (error.kind !== 'validation' && error.kind !== 'conflict')) throw error;
      // A plan limit is about the organisation, not a field, so it belongs to the form as a whole.
      const fields = error.kind === 'validation' && error.fields.length > 0 ? error.fields : [{ field: 'token-form', message: error.message }];
      return tokensPage(request, reply, { values, errors: fields });
    }
  });

  app.post<{ Params: { id: string } }>('/account/tokens/:id/revoke', { preHandler: [sessionMember, rejectTokens] }, async (request, reply) => {
    if (!/^[0-9a-f-]{36}$/.test(request.params.id)) throw new AppError('not_found', 'token_not_found', 'API token not found.');
    await tokens.revoke(request.auth!, request.params.id, request.id);
    return reply.redirect('/account/tokens', 303);
  });
}
