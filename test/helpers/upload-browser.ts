import type { RunningServer } from '../../src/main.ts';

/** A file part of a multipart form: `name` empty and no content is what a browser sends when no file was chosen. */
export interface FormFile {
  name: string;
  content: Uint8Array<ArrayBuffer> | string;
}

/** A response to a form post, with the redirect target when there is one. */
export interface FormResponse {
  status: number;
  body: string;
  location: string | null;
}

/**
 * A signed-in browser stand-in for a started server: its session cookie and the CSRF token of the last form it
 * fetched. Forms are posted as multipart/form-data with the token in the query, as the upload pages' form actions have it.
 */
export class UploadBrowser {
  csrfToken = '';

  constructor(
    private readonly server: RunningServer,
    readonly cookie: string,
  ) {}

  async get(url: string): Promise<{ status: number; body: string }> {
    const response = await fetch(`${this.server.url}${url}`, { headers: { cookie: this.cookie }, redirect: 'manual' });
    const body = await response.text();
    const token = /action="[^"]*\?_csrf=([^"&]+)"/.exec(body)?.[1];
    if (token) this.csrfToken = decodeURIComponent(token);
    return { status: response.status, body };
  }

  /**
   * Posts `parts` in their order; a FormFile is sent as a file part and a string as a text field. A null `csrf` leaves
   * out the token.
   */
  async postForm(url: string, parts: Array<[name: string, value: string | FormFile]>, csrf: string | null = this.csrfToken): Promise<FormResponse> {
    const form = new FormData();
    for (const [name, value] of parts) {
      if (typeof value === 'string') form.append(name, value);
      else form.append(name, new File([value.content], value.name, { type: value.name === '' ? 'application/octet-stream' : 'text/csv' }));
    }
    const query = csrf === null ? '' : `?_csrf=${encodeURIComponent(csrf)}`;
    const response = await fetch(`${this.server.url}${url}${query}`, { method: 'POST', headers: { cookie: this.cookie }, body: form, redirect: 'manual' });
    return { status: response.status, body: await response.text(), location: response.headers.get('location') };
  }
}
