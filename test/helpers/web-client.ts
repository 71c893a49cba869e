import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

/**
 * A browser stand-in for route tests over `app.inject`: keeps cookies and reads the `_csrf` field of the last page, as
 * a user's browser would submit it with the next form.
 */
export class WebClient {
  readonly cookies = new Map<string, string>();
  csrfToken: string | null = null;
  /** A loopback address of its own, so per-address rate limits of one client do not affect another. */
  readonly remoteAddress = `127.${1 + Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;

  constructor(private readonly app: FastifyInstance) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  private remember(response: LightMyRequestResponse): LightMyRequestResponse {
    for (const cookie of response.cookies) {
      if (cookie.value === '' || (cookie.maxAge !== undefined && cookie.maxAge <= 0)) this.cookies.delete(cookie.name);
      else this.cookies.set(cookie.name, cookie.value);
    }
    const token = /name="_csrf" value="([^"]+)"/.exec(response.body)?.[1];
    if (token) this.csrfToken = token;
    return response;
  }

  async get(url: string): Promise<LightMyRequestResponse> {
    return this.remember(await this.app.inject({ method: 'GET', url, remoteAddress: this.remoteAddress, headers: { cookie: this.cookieHeader() } }));
  }

  /** Posts a form; `_csrf` is added from the last page unless the form sets it (use null to leave it out). */
  async post(url: string, form: Record<string, string | null>): Promise<LightMyRequestResponse> {
    const fields: Record<string, string> = {};
    if (!('_csrf' in form) && this.csrfToken) fields._csrf = this.csrfToken;
    for (const [name, value] of Object.entries(form)) if (value !== null) fields[name] = value;
    return this.remember(
      await this.app.inject({
        method: 'POST',
        url,
        remoteAddress: this.remoteAddress,
        headers: { cookie: this.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams(fields).toString(),
      }),
    );
  }
}
