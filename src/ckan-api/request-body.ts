import type { FastifyInstance } from 'fastify';

/** A client error that CKAN reports as a bare JSON string such as "Bad request - JSON Error: …", not an envelope. */
export class BadRequest extends Error {
  override name = 'BadRequest';
}

/** Parses a JSON body leniently, as CKAN does. An empty body is an empty dict, and malformed JSON is CKAN's 400 "JSON Error". */
function parseJson(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed === '') return {};
  try {
    return JSON.parse(trimmed);
  } catch (error) {
    throw new BadRequest(`Bad request - JSON Error: Error decoding JSON data. Error: ${(error as Error).message}`);
  }
}

/**
 * Parses a form body. `curl -d '{"id": "…"}'` sends JSON as a form body, which CKAN 2.10 decodes as JSON (a form whose
 * one field has an empty value, in `_get_request_data` of ckan/views/api.py), so a body that starts with `{` is read as
 * JSON here too. Otherwise a repeated key becomes a list, as in a query string.
 */
function parseForm(text: string): unknown {
  if (text.trimStart().startsWith('{')) return parseJson(text);
  const params = new Map<string, string | string[]>();
  for (const [key, value] of new URLSearchParams(text)) {
    const earlier = params.get(key);
    params.set(key, earlier === undefined ? value : [...(Array.isArray(earlier) ? earlier : [earlier]), value]);
  }
  return Object.fromEntries(params);
}

/**
 * Registers the body parsers of the CKAN routes in their plugin scope: JSON, form bodies, and text/plain, which some
 * clients send JSON as.
 */
export function registerBodyParsers(app: FastifyInstance): void {
  const parsers: Array<[string, (text: string) => unknown]> = [
    ['application/json', parseJson],
    ['application/x-www-form-urlencoded', parseForm],
    ['text/plain', parseJson],
  ];
  for (const [contentType, parse] of parsers) {
    if (app.hasContentTypeParser(contentType)) app.removeContentTypeParser(contentType);
    app.addContentTypeParser(contentType, { parseAs: 'string' }, (_request, body, done) => {
      try {
        done(null, parse(String(body)));
      } catch (error) {
        done(error as Error, undefined);
      }
    });
  }
}
