import type { FastifyRequest } from 'fastify';
import { tokenAuthContext, type ApiTokenService } from '../accounts/api-token.service.ts';
import { AppError } from '../errors.ts';

/** CKAN's default header for the API token, which older CKAN clients send instead of `Authorization`. */
export const CKAN_API_KEY_HEADER = 'x-ckan-api-key';

/** Strips any `Bearer` scheme from an `Authorization` or `X-CKAN-API-Key` value, leaving the token. */
function presentedToken(value: string): string {
  return value.trim().replace(/^Bearer\s+/i, '');
}

/**
 * Authenticates a token sent in `X-CKAN-API-Key`, by the same rules as one sent in `Authorization`: an invalid,
 * expired or revoked token is rejected rather than read as anonymous, and a valid one replaces any browser session.
 * CKAN 2.10 reads its key header (`X-CKAN-API-Key` unless configured otherwise) before `Authorization`. When a request sends both, they must carry the same token,
 * because choosing one silently could run the request as a caller the client did not mean.
 */
export async function authenticateCkanApiKey(request: FastifyRequest, tokens: ApiTokenService): Promise<void> {
  const raw = request.headers[CKAN_API_KEY_HEADER];
  if (raw === undefined) return;
  const value = Array.isArray(raw) ? raw.join(', ') : raw;
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    if (presentedToken(authorization) !== presentedToken(value)) {
      throw new AppError('unauthenticated', 'token_conflict', 'The Authorization and X-CKAN-API-Key headers carry different API tokens. Send one token, in either header.');
    }
    // The authentication hook has already checked the same token from Authorization.
    return;
  }
  const token = await tokens.authenticateBearer(value, null).catch((error: unknown) => {
    // The token service's message for a value of the wrong shape names the Authorization header.
    if (error instanceof AppError && error.code === 'token_missing') {
      throw new AppError('unauthenticated', 'token_invalid', `The API token in the ${CKAN_API_KEY_HEADER} header is not valid. Send the civic_… token in full, or make a new one at /account/tokens.`);
    }
    throw error;
  });
  request.session = null;
  request.auth = tokenAuthContext(token);
}

/**
 * Returns the organisation whose private data the caller may read: the signed-in member's organisation, or an API
 * token's organisation when the token carries the `read` scope. Anonymous callers, and tokens without `read`, get null,
 * so row-level security shows them open data only.
 */
export function callerOrganisationId(request: FastifyRequest): string | null {
  const auth = request.auth;
  if (!auth) return null;
  if (auth.via === 'token' && !auth.scopes?.includes('read')) return null;
  return auth.organisationId;
}
