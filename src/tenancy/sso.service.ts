import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import * as oidc from 'openid-client';
import { findUserIdByEmail, presentSecret, setCurrentUser, sha256Hex } from '../accounts/account-scope.ts';
import { auditActor, type AuthContext } from '../accounts/auth-context.ts';
import { EMAIL_LENGTH_MESSAGE, EMAIL_MAX_LENGTH } from '../accounts/email-address.ts';
import { SecretBox } from '../accounts/secret-box.ts';
import { secondFactorRequired } from '../accounts/second-factor-policy.ts';
import type { SessionService, StartedSession } from '../accounts/session.service.ts';
import type { SessionStage } from '../accounts/accounts.tables.ts';
import { appendAuditEvent } from '../audit/audit.repository.ts';
import type { Config } from '../config.ts';
import type { DB } from '../db/schema.ts';
import { setOrganisation, withOrganisation } from '../db/tenant.ts';
import { AppError, validationError, type FieldError } from '../errors.ts';
import type { KeyRing } from '../keys/key-ring.ts';
import type { Logger } from '../logger.ts';
import { checkMemberLimit } from './plans.ts';
import { providerUsedSeveralFactors } from './provider-factors.ts';

/** A sign-on must come back from the provider within 10 minutes. */
export const SSO_LOGIN_LIFETIME_MS = 10 * 60_000;
/** Discovery and token requests to a provider give up after this many seconds. */
const PROVIDER_TIMEOUT_SECONDS = 10;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

export const SSO_CALLBACK_PATH = '/sign-in/sso/callback';

export interface SsoSettingsView {
  issuer: string;
  clientId: string;
  enabled: boolean;
  justInTime: boolean;
  updatedAt: Date;
}

export interface SsoSettingsInput {
  issuer: string;
  clientId: string;
  /** Empty keeps the stored secret. */
  clientSecret: string;
  enabled: boolean;
  justInTime: boolean;
}

export interface StartedSignOn {
  authorizationUrl: URL;
  /** The `state` value, which the caller also keeps in a short-lived cookie to bind the sign-on to this browser. */
  state: string;
  organisationName: string;
}

/** Returns whether `url` is served on this machine, the only place where an issuer may use plain http. */
export function isLoopbackUrl(url: URL): boolean {
  return LOOPBACK_HOSTS.has(url.hostname) || url.hostname.startsWith('127.');
}

/** Checks an issuer URL: https, or http on a loopback address for local testing. Returns null when it is valid. */
export function issuerProblem(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'Enter the issuer as a full URL, like https://login.microsoftonline.com/{tenant-id}/v2.0';
  }
  if (url.protocol === 'https:') return url.username || url.password ? 'Enter an issuer URL without a user name or password' : null;
  if (url.protocol === 'http:' && isLoopbackUrl(url)) return null;
  return 'Enter an issuer URL that starts with https://';
}

/**
 * OpenID Connect single sign-on per organisation (Microsoft Entra ID and similar): the settings an organisation
 * administrator keeps, and the authorisation code flow with PKCE, state and nonce held server-side. The callback links
 * the account by a verified email in one of the organisation's domains.
 */
export class SsoService {
  readonly #secrets: SecretBox;

  constructor(
    private readonly db: { app: Kysely<DB> },
    keys: KeyRing,
    private readonly sessions: SessionService,
    private readonly config: Pick<Config, 'publicUrl'>,
    private readonly logger: Logger,
  ) {
    this.#secrets = new SecretBox(keys, 'sso-client-secret');
  }

  get redirectUri(): string {
    return `${this.config.publicUrl}${SSO_CALLBACK_PATH}`;
  }

  /** Reads the organisation's settings without the client secret, which is never shown again. Null when not set up. */
  async settings(organisationId: string): Promise<SsoSettingsView | null> {
    const row = await withOrganisation(this.db.app, organisationId, (trx) =>
      trx.selectFrom('organisation_sso').select(['issuer', 'client_id', 'enabled', 'just_in_time', 'updated_at']).where('organisation_id', '=', organisationId).executeTakeFirst(),
    );
    return row ? { issuer: row.issuer, clientId: row.client_id, enabled: row.enabled, justInTime: row.just_in_time, updatedAt: row.updated_at } : null;
  }

  /** Saves the organisation's provider settings; the client secret is sealed with AES-256-GCM and never logged. */
  async saveSettings(auth: AuthContext, input: SsoSettingsInput, requestId?: string): Promise<void> {
    const organisationId = auth.organisationId;
    if (organisationId === null) throw new AppError('forbidden', 'not_a_member', 'You are not a member of an organisation.');
    const issuer = input.issuer.trim().replace(/\/+$/, '');
    const clientId = input.clientId.trim();
    const errors: FieldError[] = [];
    const problem = issuer === '' ? 'Enter the issuer URL of your identity provider' : issuerProblem(issuer);
    if (problem) errors.push({ field: 'issuer', message: problem });
    if (clientId === '' || clientId.length > 300) errors.push({ field: 'clientId', message: 'Enter the client ID (application ID) of 1 to 300 characters' });
    if (input.clientSecret.length > 1000) errors.push({ field: 'clientSecret', message: 'Client secret must be 1,000 characters or fewer' });

    await withOrganisation(this.db.app, organisationId, async (trx) => {
      const existing = await trx.selectFrom('organisation_sso').select('client_secret_encrypted').where('organisation_id', '=', organisationId).executeTakeFirst();
      if (!existing && input.clientSecret === '') errors.push({ field: 'clientSecret', message: 'Enter the client secret' });
      if (errors.length > 0) throw validationError('invalid_sso_settings', errors[0]!.message, errors);
      const sealed = input.clientSecret === '' ? existing!.client_secret_encrypted : this.#secrets.seal(input.clientSecret);
      const values = { issuer, client_id: clientId, client_secret_encrypted: sealed, enabled: input.enabled, just_in_time: input.justInTime, updated_at: new Date() };
      await trx.insertInto('organisation_sso').values({ organisation_id: organisationId, ...values }).onConflict((conflict) => conflict.column('organisation_id').doUpdateSet(values)).execute();
      await appendAuditEvent(trx, {
        organisationId,
        ...auditActor(auth),
        action: 'organisation.sso_updated',
        subjectType: 'organisation',
        subjectId: organisationId,
        requestId,
        details: { issuer, enabled: input.enabled, just_in_time: input.justInTime, new_client_credential: input.clientSecret !== '' },
      });
    });
  }

  private async discover(issuer: string, clientId: string, sealedSecret: string): Promise<oidc.Configuration> {
    const server = new URL(issuer);
    const secret = this.#secrets.open(sealedSecret);
    try {
      return await oidc.discovery(server, clientId, undefined, oidc.ClientSecretBasic(secret), {
        timeout: PROVIDER_TIMEOUT_SECONDS,
        // Plain http only for an issuer on this machine, which the saved settings already enforce.
        execute: isLoopbackUrl(server) ? [oidc.allowInsecureRequests] : [],
      });
    } catch (error) {
      this.logger.warn({ err: error, issuer }, 'single sign-on discovery failed');
      throw new AppError('unavailable', 'sso_provider_unavailable', 'Your organisation’s sign-in service could not be reached. Try again later, or sign in with your password.');
    }
  }

  /**
   * Starts a sign-on for the organisation found by a work email's domain or by the organisation's slug. Stores the
   * PKCE verifier (sealed) and the nonce under the hash of `state`.
   */
  async start(emailOrOrganisation: string): Promise<StartedSignOn> {
    const text = emailOrOrganisation.trim().toLowerCase();
    if (text === '') throw validationError('sso_input_missing', 'Enter your work email address', [{ field: 'sso-email', message: 'Enter your work email address' }]);
    if (text.length > EMAIL_MAX_LENGTH) throw validationError('sso_input_too_long', EMAIL_LENGTH_MESSAGE, [{ field: 'sso-email', message: EMAIL_LENGTH_MESSAGE }]);
    const organisation = await this.db.app.transaction().execute(async (trx) => {
      const query = trx.selectFrom('organisations').select(['id', 'name']).where('status', '=', 'active');
      const matches = text.includes('@') ? await query.where((eb) => eb(eb.val(text.split('@')[1]!), '=', eb.fn.any('email_domains'))).limit(2).execute() : await query.where('slug', '=', text).limit(2).execute();
      return matches.length === 1 ? matches[0]! : null;
    });
    const notSetUp = validationError('sso_not_available', 'Single sign-on is not set up for that organisation', [
      { field: 'sso-email', message: 'Single sign-on is not set up for that email address. Sign in with your email address and password' },
    ]);
    if (!organisation) throw notSetUp;
    const settings = await withOrganisation(this.db.app, organisation.id, (trx) =>
      trx.selectFrom('organisation_sso').select(['issuer', 'client_id', 'client_secret_encrypted', 'enabled']).where('organisation_id', '=', organisation.id).executeTakeFirst(),
    );
    if (!settings || !settings.enabled) throw notSetUp;

    const configuration = await this.discover(settings.issuer, settings.client_id, settings.client_secret_encrypted);
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    await withOrganisation(this.db.app, organisation.id, (trx) =>
      trx
        .insertInto('sso_logins')
        .values({ state_hash: sha256Hex(state), organisation_id: organisation.id, code_verifier: this.#secrets.seal(verifier), nonce, expires_at: new Date(Date.now() + SSO_LOGIN_LIFETIME_MS) })
        .execute(),
    );
    const authorizationUrl = oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: this.redirectUri,
      scope: 'openid email profile',
      response_type: 'code',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...(text.includes('@') ? { login_hint: text } : {}),
    });
    return { authorizationUrl, state, organisationName: organisation.name };
  }

  /**
   * Completes a sign-on from the provider's redirect to `callbackUrl`. `browserState` is the state kept in this
   * browser's cookie, which must match the URL's. Returns a session acting in the organisation: complete, or waiting
   * for this service's second factor when the member must use one and the provider's ID token does not show a
   * sign-in with several factors.
   */
  async finish(callbackUrl: URL, browserState: string | undefined, requestId?: string): Promise<StartedSession> {
    const failed = (detail: string) => new AppError('unauthenticated', 'sso_failed', 'Single sign-on did not complete. Start again from the sign-in page.', { detail });
    const state = callbackUrl.searchParams.get('state');
    if (!state || !/^[A-Za-z0-9_-]{16,200}$/.test(state) || state !== browserState) throw failed('state missing or not this browser’s');
    if (callbackUrl.searchParams.has('error')) throw failed(`provider returned ${callbackUrl.searchParams.get('error')?.slice(0, 100)}`);

    const login = await this.db.app.transaction().execute(async (trx) => {
      const stateHash = sha256Hex(state);
      await presentSecret(trx, stateHash);
      const row = await trx.selectFrom('sso_logins').selectAll().where('state_hash', '=', stateHash).executeTakeFirst();
      if (!row || row.used_at !== null || row.expires_at.getTime() <= Date.now()) return null;
      await setOrganisation(trx, row.organisation_id);
      await trx.updateTable('sso_logins').set({ used_at: new Date() }).where('state_hash', '=', stateHash).execute();
      const settings = await trx.selectFrom('organisation_sso').select(['issuer', 'client_id', 'client_secret_encrypted', 'enabled', 'just_in_time']).where('organisation_id', '=', row.organisation_id).executeTakeFirst();
      return settings ? { ...row, ...settings } : null;
    });
    if (!login || !login.enabled) throw failed('unknown, used or expired state');

    const configuration = await this.discover(login.issuer, login.client_id, login.client_secret_encrypted);
    let email: unknown;
    let emailVerified: unknown;
    let severalFactors = false;
    try {
      const tokens = await oidc.authorizationCodeGrant(configuration, callbackUrl, {
        pkceCodeVerifier: this.#secrets.open(login.code_verifier),
        expectedState: state,
        expectedNonce: login.nonce,
        idTokenExpected: true,
      });
      const claims = tokens.claims()!;
      severalFactors = providerUsedSeveralFactors(claims.amr);
      email = claims.email;
      emailVerified = claims.email_verified;
      // Providers that keep the ID token small return email claims only from the UserInfo endpoint.
      if (email === undefined || emailVerified === undefined) {
        const info = await oidc.fetchUserInfo(configuration, tokens.access_token, claims.sub);
        email = info.email;
        emailVerified = info.email_verified;
      }
    } catch (error) {
      this.logger.warn({ err: error, organisation_id: login.organisation_id }, 'single sign-on token exchange failed');
      throw failed('token exchange failed');
    }
    if (typeof email !== 'string' || emailVerified !== true) {
      throw new AppError('forbidden', 'sso_email_unverified', 'Your organisation’s sign-in service did not confirm a verified email address. Ask your IT team to check the single sign-on set-up.');
    }
    return this.linkAccount(login.organisation_id, email.toLowerCase(), login.just_in_time, severalFactors, requestId);
  }

  /**
   * Signs in the account with this verified email, creating it with a viewer membership when the organisation allows.
   * `severalFactors` records that the provider's sign-in counts as the second factor.
   */
  private async linkAccount(organisationId: string, email: string, justInTime: boolean, severalFactors: boolean, requestId?: string): Promise<StartedSession> {
    return withOrganisation(this.db.app, organisationId, async (trx) => {
      const organisation = await trx.selectFrom('organisations').select(['name', 'status', 'email_domains']).where('id', '=', organisationId).executeTakeFirstOrThrow();
      if (organisation.status !== 'active') throw new AppError('forbidden', 'organisation_not_active', `${organisation.name} cannot be signed in to.`);
      const domain = email.split('@')[1] ?? '';
      if (!organisation.email_domains.includes(domain)) {
        throw new AppError('forbidden', 'sso_domain_not_allowed', `Your email address is not in a domain of ${organisation.name}. Sign in with your password or ask your administrator.`);
      }
      let userId = await findUserIdByEmail(trx, email);
      const member = userId === null ? undefined : await trx.selectFrom('memberships').select('role').where('organisation_id', '=', organisationId).where('user_id', '=', userId).executeTakeFirst();
      let created = false;
      if (member === undefined) {
        if (!justInTime) {
          throw new AppError('forbidden', 'sso_invitation_required', `You need an invitation to join ${organisation.name}. Ask one of its administrators to invite you.`);
        }
        await checkMemberLimit(trx, organisationId);
        if (userId === null) {
          userId = randomUUID();
          await setCurrentUser(trx, userId);
          await trx.insertInto('users').values({ id: userId, email, display_name: email.split('@')[0]!, password_hash: null, email_verified_at: new Date() }).execute();
          created = true;
        }
        await trx.insertInto('memberships').values({ organisation_id: organisationId, user_id: userId, role: 'viewer' }).execute();
      }
      await setCurrentUser(trx, userId!);
      const user = await trx.selectFrom('users').select(['is_platform_admin', 'totp_enabled_at']).where('id', '=', userId!).executeTakeFirstOrThrow();
      // The provider decides the factors of everyone else. Administrators and data protection officers give this
      // service's TOTP code as well, unless the provider reports a sign-in with several factors.
      let stage: SessionStage = 'complete';
      if (!severalFactors && (await secondFactorRequired(trx, userId!, user.is_platform_admin))) {
        stage = user.totp_enabled_at === null ? 'second_factor_setup' : 'second_factor';
      }
      if (stage === 'complete') await trx.updateTable('users').set({ last_sign_in_at: new Date() }).where('id', '=', userId!).execute();
      const started = await this.sessions.start(trx, userId!, stage, organisationId, { via: 'single_sign_on', secondFactorGiven: severalFactors });
      const details = { via: 'single_sign_on', new_account: created, new_membership: member === undefined, provider_second_factor: severalFactors };
      await appendAuditEvent(trx, {
        organisationId,
        actorUserId: userId,
        actorKind: 'user',
        // As with a password, the sign-in is complete only once the second factor is given.
        action: stage === 'complete' ? 'user.signed_in' : 'user.sso_accepted',
        subjectType: 'user',
        subjectId: userId,
        requestId,
        details: stage === 'complete' ? details : { ...details, stage },
      });
      return started;
    });
  }
}
