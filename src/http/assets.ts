import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { GOVUK_FRONTEND_DIST } from './views.ts';

const PUBLIC_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'public');
const ONE_YEAR_SECONDS = 365 * 24 * 60 * 60;

interface Asset {
  body: Buffer;
  contentType: string;
  etag: string;
}

/**
 * Rewrites govuk-frontend's stylesheet for a service outside GOV.UK: the GOV.UK Design System asks such services not
 * to use the GDS Transport typeface, so its @font-face rules go and every font stack falls back to Arial.
 */
export function rebrandStylesheet(css: string): string {
  return css
    .replace(/@font-face\{[^}]*GDS Transport[^}]*\}/g, '')
    .replace(/"?GDS Transport"?\s*,\s*/g, '')
    .replace(/"?GDS Transport"?/g, 'arial');
}

function asset(body: Buffer | string, contentType: string): Asset {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return { body: bytes, contentType, etag: `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 22)}"` };
}

/**
 * Loads the assets the pages use, once at start-up: govuk-frontend's rebranded CSS and its JavaScript, and the
 * council's own files in src/http/public. GOV.UK's fonts and crown images are left out on purpose.
 */
export function loadAssets(): Map<string, Asset> {
  const govuk = path.join(GOVUK_FRONTEND_DIST, 'govuk');
  const assets = new Map<string, Asset>();
  assets.set('govuk-frontend.min.css', asset(rebrandStylesheet(fs.readFileSync(path.join(govuk, 'govuk-frontend.min.css'), 'utf8')), 'text/css; charset=utf-8'));
  assets.set('govuk-frontend.min.js', asset(fs.readFileSync(path.join(govuk, 'govuk-frontend.min.js')), 'text/javascript; charset=utf-8'));
  const types: Record<string, string> = {
    '.css': 'text/css; charset=utf-8',
    '.mjs': 'text/javascript; charset=utf-8',
    '.js': 'text/javascript; charset=utf-8',
    '.svg': 'image/svg+xml',
    '.json': 'application/manifest+json',
  };
  for (const name of fs.readdirSync(PUBLIC_DIR)) {
    const type = types[path.extname(name)];
    if (type) assets.set(name, asset(fs.readFileSync(path.join(PUBLIC_DIR, name)), type));
  }
  return assets;
}

/** A short hash over every asset, so page links change whenever any asset does. */
export function assetsVersion(assets: Map<string, Asset>): string {
  const hash = createHash('sha256');
  for (const [name, { etag }] of [...assets].sort(([a], [b]) => a.localeCompare(b))) hash.update(name).update(etag);
  return hash.digest('hex').slice(0, 12);
}

/** Serves the assets under /assets with a year-long cache lifetime; pages link to them with `?v=<version>`. */
export function registerAssets(app: FastifyInstance, assets: Map<string, Asset>): void {
  app.get<{ Params: { name: string } }>('/assets/:name', async (request, reply) => {
    const found = assets.get(request.params.name);
    if (!found) return reply.callNotFound();
    void reply.header('cache-control', `public, max-age=${ONE_YEAR_SECONDS}, immutable`).header('etag', found.etag);
    if (request.headers['if-none-match'] === found.etag) return reply.status(304).send();
    return reply.type(found.contentType).send(found.body);
  });
  // Browsers ask for /favicon.ico whatever the page says.
  app.get('/favicon.ico', async (_request, reply) => reply.redirect('/assets/favicon.svg', 301));
}
