import http from 'node:http';
import type { AddressInfo } from 'node:net';
// @ts-expect-error oidc-provider 9 ships no type declarations; the few members used are typed below.
import ProviderModule from 'oidc-provider';

/** A person who can sign in at the test provider. */
export interface TestAccount {
  login: string;
  password: string;
  email: string;
  emailVerified: boolean;
  /** Authentication method references (RFC 8176) the provider puts in the ID token's `amr` claim; none when absent. */
  amr?: string[];
}

export interface TestClient {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}

export interface RunningProvider {
  /** The issuer URL, `http://127.0.0.1:<port>`. */
  issuer: string;
  /** How many times the login form was submitted, to show a test went through the provider. */
  logins(): number;
  close(): Promise<void>;
}

interface InteractionDetails {
  uid: string;
  prompt: { name: string; details: { missingOIDCScope?: string[]; missingOIDCClaims?: string[] } };
  params: Record<string, string>;
  session?: { accountId: string };
  grantId?: string;
}

interface Grant {
  addOIDCScope(scope: string): void;
  addOIDCClaims(claims: string[]): void;
  save(): Promise<string>;
}

interface Provider {
  callback(): http.RequestListener;
  interactionDetails(request: http.IncomingMessage, response: http.ServerResponse): Promise<InteractionDetails>;
  interactionFinished(request: http.IncomingMessage, response: http.ServerResponse, result: Record<string, unknown>, options?: { mergeWithLastSubmission?: boolean }): Promise<void>;
  Grant: { new (options: { accountId: string; clientId: string }): Grant; find(id: string): Promise<Grant | undefined> };
}

const ProviderClass = ProviderModule as unknown as new (issuer: string, configuration: Record<string, unknown>) => Provider;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

function readForm(request: http.IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    request.on('error', reject);
  });
}

function loginPage(uid: string, error: string | null): string {
  return `<!doctype html><html lang="en"><head><title>Test identity provider</title></head><body><main>
<h1>Sign in to the test identity provider</h1>${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label for="login">User name</label> <input id="login" name="login" autocomplete="username">
<label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password">
<button type="submit">Sign in</button></form></main></body></html>`;
}

/**
 * Starts a real OpenID Connect provider (the `oidc-provider` package) on a loopback port, with its own login page for
 * the given accounts and consent granted automatically. Codes need PKCE; ID tokens carry only `sub` (and `amr` for an
 * account that lists methods), so the relying party has to read `email` and `email_verified` from the UserInfo endpoint,
 * as with providers that keep tokens small.
 */
export async function startOidcProvider(options: { accounts: TestAccount[]; clients: TestClient[] }): Promise<RunningProvider> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const accountsById = new Map(options.accounts.map((account) => [account.login, account]));
  let loginCount = 0;

  const provider = new ProviderClass(issuer, {
    clients: options.clients.map((client) => ({
      client_id: client.clientId,
      client_secret: client.clientSecret,
      redirect_uris: [client.redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    })),
    // `amr` belongs to the openid scope, so the ID token carries it whenever the sign-in recorded methods.
    claims: { openid: ['sub', 'amr'], email: ['email', 'email_verified'], profile: ['name'] },
    async findAccount(_context: unknown, accountId: string) {
      const account = accountsById.get(accountId);
      if (!account) return undefined;
      return { accountId, claims: async () => ({ sub: accountId, email: account.email, email_verified: account.emailVerified, name: account.login }) };
    },
    interactions: { url: (_context: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    features: { devInteractions: { enabled: false } },
    cookies: { keys: ['civic-exchange-test-provider-cookie-key'] },
    pkce: { required: () => true },
  });
  const providerHandler = provider.callback();

  const handleInteraction = async (request: http.IncomingMessage, response: http.ServerResponse): Promise<void> => {
    const details = await provider.interactionDetails(request, response);
    if (request.method === 'POST' && request.url?.endsWith('/login')) {
      const form = await readForm(request);
      const account = accountsById.get(form.get('login') ?? '');
      if (!account || account.password !== form.get('password')) {
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(loginPage(details.uid, 'Wrong user name or password'));
        return;
      }
      loginCount += 1;
      const login = account.amr === undefined ? { accountId: account.login } : { accountId: account.login, amr: account.amr };
      await provider.interactionFinished(request, response, { login }, { mergeWithLastSubmission: false });
      return;
    }
    if (details.prompt.name === 'login') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(loginPage(details.uid, null));
      return;
    }
    // Consent: grant whatever the client asked for, as an organisation's own provider does for its registered apps.
    const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId: details.session!.accountId, clientId: details.params.client_id! });
    if (details.prompt.details.missingOIDCScope) grant!.addOIDCScope(details.prompt.details.missingOIDCScope.join(' '));
    if (details.prompt.details.missingOIDCClaims) grant!.addOIDCClaims(details.prompt.details.missingOIDCClaims);
    await provider.interactionFinished(request, response, { consent: { grantId: await grant!.save() } }, { mergeWithLastSubmission: true });
  };

  server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
    if (request.url?.startsWith('/interaction/')) {
      handleInteraction(request, response).catch((error: Error) => {
        response.writeHead(500, { 'content-type': 'text/plain' }).end(`interaction failed: ${error.message}`);
      });
      return;
    }
    providerHandler(request, response);
  });

  return {
    issuer,
    logins: () => loginCount,
    close: () => new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((error) => (error ? reject(error) : resolve()));
    }),
  };
}

/** Cookies of one browser, kept per host and port; enough for following the sign-on redirects in tests. */
export class CookieJar {
  readonly #cookies = new Map<string, Map<string, string>>();

  header(url: URL): string {
    return [...(this.#cookies.get(url.host) ?? new Map<string, string>())].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  store(url: URL, response: Response): void {
    const jar = this.#cookies.get(url.host) ?? new Map<string, string>();
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const separator = pair!.indexOf('=');
      const name = pair!.slice(0, separator).trim();
      const value = pair!.slice(separator + 1).trim();
      if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(line)) jar.delete(name);
      else jar.set(name, value);
    }
    this.#cookies.set(url.host, jar);
  }

  set(url: URL, name: string, value: string): void {
    const jar = this.#cookies.get(url.host) ?? new Map<string, string>();
    jar.set(name, value);
    this.#cookies.set(url.host, jar);
  }

  /** Sends a request with this jar's cookies, without following redirects. */
  async fetch(url: URL, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const cookie = this.header(url);
    if (cookie !== '') headers.set('cookie', cookie);
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    this.store(url, response);
    return response;
  }

  /** Follows redirects from `url` with GET, at most `maxHops` times; returns the first response that is not a redirect. */
  async follow(url: URL, maxHops = 15): Promise<{ response: Response; url: URL }> {
    let current = url;
    for (let hop = 0; hop < maxHops; hop += 1) {
      const response = await this.fetch(current);
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || location === null) return { response, url: current };
      await response.arrayBuffer();
      current = new URL(location, current);
    }
    throw new Error(`More than ${maxHops} redirects from ${url.href}`);
  }
}
