import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import nunjucks from 'nunjucks';
import type { Services } from '../services.ts';

const SRC_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PROJECT_DIR = path.dirname(SRC_DIR);
export const GOVUK_FRONTEND_DIST = path.join(PROJECT_DIR, 'node_modules', 'govuk-frontend', 'dist');

export const SERVICE_NAME = 'Thurrock Data Exchange';
export const COUNCIL_NAME = 'Thurrock Council';

/** A link in the service navigation or the account links slot. */
export interface NavigationLink {
  text: string;
  href: string;
}

/**
 * Adds values to every rendered page for one request, such as the sign-in or account links. The tenancy feature
 * registers one through `app.addPageContext`, so the shared layout never needs to know its routes.
 */
export type PageContextProvider = (request: FastifyRequest) => Record<string, unknown> | Promise<Record<string, unknown>>;

declare module 'fastify' {
  interface FastifyInstance {
    /** The page renderer; plugin instances inherit it from the root. */
    views: PageRenderer;
    /** Registers a provider whose values every page rendered afterwards receives. */
    addPageContext(provider: PageContextProvider): void;
  }
  interface FastifyReply {
    /** Renders `template` with the layout values and sends it as HTML with `status` (200 when absent). */
    page(template: string, context?: Record<string, unknown>, status?: number): Promise<FastifyReply>;
  }
}

/** Every `views` folder under src (src/http/views first, so its layout wins), then govuk-frontend's templates. */
export function viewSearchPaths(): string[] {
  const featureViews = fs
    .readdirSync(SRC_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && entry.name !== 'http')
    .map((entry) => path.join(SRC_DIR, entry.name, 'views'))
    .filter((folder) => fs.existsSync(folder))
    .sort();
  return [path.join(SRC_DIR, 'http', 'views'), ...featureViews, GOVUK_FRONTEND_DIST];
}

const longDate = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'Europe/London' });
const longDateTime = new Intl.DateTimeFormat('en-GB', {
  day: 'numeric',
  month: 'long',
  year: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
  // h12 counts 12, 1, …, 11; en-GB's default 12-hour cycle counts from 0, which gave "0:09pm".
  hourCycle: 'h12',
  timeZone: 'Europe/London',
});
const groupedNumber = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 20 });

function toDate(value: unknown): Date | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value;
  if (typeof value === 'string' || typeof value === 'number') {
    // A bare ISO date is a calendar day, so it is read at noon UTC to stay on that day in London.
    const text = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T12:00:00Z` : value;
    const date = new Date(text);
    return Number.isNaN(date.getTime()) ? null : date;
  }
  return null;
}

/** Formats a date the GOV.UK way, such as "4 December 2026"; empty for a missing or invalid date. */
export function formatUkDate(value: unknown): string {
  const date = toDate(value);
  return date ? longDate.format(date) : '';
}

/**
 * Formats a date and time the GOV.UK way, such as "4 December 2026 at 2:05pm" (London time), with "midday" and
 * "midnight" for 12:00 as the GOV.UK style guide recommends.
 */
export function formatUkDateTime(value: unknown): string {
  const date = toDate(value);
  if (!date) return '';
  const parts = Object.fromEntries(longDateTime.formatToParts(date).map((part) => [part.type, part.value]));
  const period = String(parts.dayPeriod).toLowerCase().replace(/\s|\./g, '');
  let time = `${parts.hour}:${parts.minute}${period}`;
  if (parts.hour === '12' && parts.minute === '00') time = period === 'pm' ? 'midday' : 'midnight';
  return `${parts.day} ${parts.month} ${parts.year} at ${time}`;
}

/** Formats a number with thousands separators, such as "12,345.6"; other values pass through unchanged. */
export function formatNumber(value: unknown): string {
  if (typeof value === 'bigint') return groupedNumber.format(value);
  if (typeof value === 'number' && Number.isFinite(value)) return groupedNumber.format(value);
  if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)) return groupedNumber.format(value as unknown as number);
  return value === null || value === undefined ? '' : String(value);
}

/** Formats a size in bytes as "512 bytes", "1.5 KB" or "3.2 MB" (powers of 1,024). */
export function formatBytes(value: unknown): string {
  const bytes = Number(value);
  if (!Number.isFinite(bytes) || bytes < 0) return '';
  if (bytes < 1024) return `${formatNumber(bytes)} bytes`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let size = bytes / 1024;
  let unit = 0;
  while (size >= 1024 && unit < units.length - 1) {
    size /= 1024;
    unit += 1;
  }
  return `${size.toFixed(1)} ${units[unit]}`;
}

/** Builds the Nunjucks environment with autoescaping on and the date and number filters. */
export function createViewEnvironment(searchPaths: string[] = viewSearchPaths(), watch = false): nunjucks.Environment {
  const loader = new nunjucks.FileSystemLoader(searchPaths, { noCache: watch, watch: false });
  const env = new nunjucks.Environment(loader, { autoescape: true, throwOnUndefined: false, trimBlocks: true, lstripBlocks: true });
  env.addFilter('ukDate', formatUkDate);
  env.addFilter('ukDateTime', formatUkDateTime);
  env.addFilter('number', formatNumber);
  env.addFilter('bytes', formatBytes);
  env.addFilter('isoDate', (value: unknown) => toDate(value)?.toISOString() ?? '');
  env.addGlobal('serviceName', SERVICE_NAME);
  env.addGlobal('councilName', COUNCIL_NAME);
  env.addGlobal('htmlLang', 'en-GB');
  env.addGlobal('themeColor', '#0b0c0c');
  return env;
}

/** The navigation items of the service, with the one for the current section marked. */
export function serviceNavigation(currentPath: string): Array<NavigationLink & { active: boolean }> {
  const items: Array<NavigationLink & { section: RegExp }> = [
    { text: 'Home', href: '/', section: /^\/$/ },
    { text: 'Datasets', href: '/datasets', section: /^\/(datasets|dataset)(\/|$|\?)/ },
    { text: 'Organisations', href: '/organisations', section: /^\/(organisations|organisation)(\/|$|\?)/ },
    { text: 'API', href: '/api-guide', section: /^\/api-guide/ },
    { text: 'Agreements register', href: '/agreements', section: /^\/agreements/ },
  ];
  return items.map(({ section, ...link }) => ({ ...link, active: section.test(currentPath) }));
}

/** The view environment of one app and the page context providers registered on it. */
export interface PageRenderer {
  env: nunjucks.Environment;
  providers: PageContextProvider[];
  /** Appended to asset URLs so that a changed file gets a new URL despite the year-long cache lifetime. */
  assetVersion: string;
}

/** Renders a template to a string, for callers outside a request such as tests and e-mails. */
export function renderTemplate(env: nunjucks.Environment, template: string, context: Record<string, unknown>): Promise<string> {
  return new Promise((resolve, reject) => {
    env.render(template, context, (error, html) => (error ? reject(error) : resolve(html ?? '')));
  });
}

/**
 * Renders a page for `reply` with the layout values (CSP nonce, navigation, account links from the page context
 * providers) and sends it as HTML. Routes usually call `reply.page(…)`, which is this function.
 */
export async function renderPage(reply: FastifyReply, template: string, context: Record<string, unknown> = {}, status = 200): Promise<FastifyReply> {
  const renderer = reply.server.views;
  const request = reply.request;
  const provided: Record<string, unknown> = {};
  for (const provider of renderer.providers) Object.assign(provided, await provider(request));
  const currentPath = request.url.split('?')[0] ?? '/';
  const html = await renderTemplate(renderer.env, template, {
    cspNonce: request.cspNonce,
    currentPath,
    navigation: serviceNavigation(request.url),
    assetVersion: renderer.assetVersion,
    ...provided,
    ...context,
  });
  return reply.status(status).type('text/html; charset=utf-8').send(html);
}

/** Adds `reply.page` and `app.addPageContext` to the app; call once on the root instance before the routes. */
export function registerViews(app: FastifyInstance, services: Pick<Services, 'config'>, assetVersion: string): nunjucks.Environment {
  const env = createViewEnvironment(viewSearchPaths(), !services.config.production);
  const renderer: PageRenderer = { env, providers: [], assetVersion };
  app.decorate('views', renderer);
  app.decorate('addPageContext', (provider: PageContextProvider) => {
    renderer.providers.push(provider);
  });
  app.decorateReply('page', function page(this: FastifyReply, template: string, context?: Record<string, unknown>, status?: number) {
    return renderPage(this, template, context, status);
  });
  return env;
}
