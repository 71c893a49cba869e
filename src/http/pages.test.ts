import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { validationError } from '../errors.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { testServices } from '../../test/helpers/services.ts';
import { rebrandStylesheet } from './assets.ts';
import { buildApp } from './app.ts';
import { formErrors } from './forms.ts';
import { createViewEnvironment, formatBytes, formatNumber, formatUkDate, formatUkDateTime, renderTemplate } from './views.ts';

describe('view filters', () => {
  test('UK dates', () => {
    assert.equal(formatUkDate('2026-12-04'), '4 December 2026');
    assert.equal(formatUkDate(new Date('2026-06-30T23:30:00Z')), '1 July 2026');
    assert.equal(formatUkDate('not a date'), '');
    assert.equal(formatUkDateTime(new Date('2026-12-04T14:05:00Z')), '4 December 2026 at 2:05pm');
    assert.equal(formatUkDateTime(new Date('2026-12-05T12:09:00Z')), '5 December 2026 at 12:09pm');
    assert.equal(formatUkDateTime(new Date('2026-12-05T00:30:00Z')), '5 December 2026 at 12:30am');
    assert.equal(formatUkDateTime(new Date('2026-12-05T12:00:00Z')), '5 December 2026 at midday');
    assert.equal(formatUkDateTime(new Date('2026-12-05T00:00:00Z')), '5 December 2026 at midnight');
    assert.equal(formatUkDateTime(new Date('2026-07-01T11:59:00Z')), '1 July 2026 at 12:59pm', 'British Summer Time');
  });

  test('numbers and sizes', () => {
    assert.equal(formatNumber(1234567), '1,234,567');
    assert.equal(formatNumber('-9876.5'), '-9,876.5');
    assert.equal(formatNumber(12n), '12');
    assert.equal(formatNumber('abc'), 'abc');
    assert.equal(formatBytes(512), '512 bytes');
    assert.equal(formatBytes(1536), '1.5 KB');
  });

  test('templates autoescape', async () => {
    const env = createViewEnvironment();
    const html = await renderTemplate(env, 'errors/error.njk', { title: '<script>x</script>', message: 'a & b' });
    assert.match(html, /&lt;script&gt;x&lt;\/script&gt;/);
    assert.doesNotMatch(html, /<script>x<\/script>/);
    assert.match(html, /a &amp; b/);
  });

  test('govuk macros resolve', async () => {
    const env = createViewEnvironment();
    const html = env.renderString('{% from "govuk/components/button/macro.njk" import govukButton %}{{ govukButton({ text: "Save" }) }}', {});
    assert.match(html, /class="govuk-button"/);
  });
});

describe('form errors', () => {
  test('summary links each field', () => {
    const { errorSummary, errorMessages } = formErrors(
      [
        { field: 'email', message: 'Enter an email address' },
        { field: 'email', message: 'Enter an email address in the correct format' },
        { field: 'start', message: 'Enter a start date' },
      ],
      { start: 'start-day' },
    );
    assert.deepEqual(errorSummary, [
      { text: 'Enter an email address', href: '#email' },
      { text: 'Enter an email address in the correct format', href: '#email' },
      { text: 'Enter a start date', href: '#start-day' },
    ]);
    assert.deepEqual(errorMessages, { email: { text: 'Enter an email address' }, start: { text: 'Enter a start date' } });
  });
});

describe('stylesheet rebranding', () => {
  test('drops GDS Transport', () => {
    const css = '@font-face{font-family:"GDS Transport";src:url(/assets/fonts/a.woff2)}.a{font-family:"GDS Transport",arial,sans-serif}.b{font-family:GDS Transport,arial,sans-serif}';
    const rebranded = rebrandStylesheet(css);
    assert.equal(rebranded, '.a{font-family:arial,sans-serif}.b{font-family:arial,sans-serif}');
  });
});

for (const engine of testEngines()) {
  describe(`page infrastructure on ${engine.name}`, () => {
    let drop: () => Promise<void>;
    let app: FastifyInstance;

    before(async () => {
      const created = await engine.create();
      drop = created.drop;
      app = await buildApp(testServices(created.db));
      app.get('/test-only/bad-parameter', async () => {
        throw validationError('invalid_parameter', 'The page number is not valid.', [{ field: 'page', message: 'Enter a whole number, such as 2.' }]);
      });
      app.post('/test-only/bad-form', { config: { access: 'public' } }, async () => {
        throw validationError('invalid_role', 'The role is not valid.', [{ field: 'role', message: 'Select a role' }]);
      });
      app.get('/test-only/broken', async () => {
        throw new Error('database password is hunter2');
      });
      app.get('/api/test-only/broken', async () => {
        throw new Error('boom');
      });
    });

    after(async () => {
      await app.close();
      await drop();
    });

    test('unknown page is HTML 404', async () => {
      const response = await app.inject({ url: '/no-such-page' });
      assert.equal(response.statusCode, 404);
      assert.match(String(response.headers['content-type']), /^text\/html/);
      assert.match(response.body, /<h1 class="govuk-heading-l">Page not found<\/h1>/);
      assert.match(response.body, /<html lang="en-GB"/);
      assert.match(response.body, /<title>Page not found – Thurrock Data Exchange – Thurrock Council<\/title>/);
    });

    test('unknown API route is JSON 404', async () => {
      const response = await app.inject({ url: '/api/no-such-route' });
      assert.equal(response.statusCode, 404);
      assert.equal(response.json().error.code, 'not_found');
    });

    test('400 page names parameter', async () => {
      const response = await app.inject({ url: '/test-only/bad-parameter?page=abc' });
      assert.equal(response.statusCode, 400);
      assert.match(response.body, /<strong>page<\/strong>: Enter a whole number, such as 2./);
      assert.match(response.body, /href="\/test-only\/bad-parameter"/);
    });

    test('400 page for a form post', async () => {
      const response = await app.inject({ method: 'POST', url: '/test-only/bad-form', payload: { role: 'superuser' } });
      assert.equal(response.statusCode, 400);
      assert.match(response.body, /<h1 class="govuk-heading-l">There is a problem with the form you sent<\/h1>/);
      assert.match(response.body, /<strong>role<\/strong>: Select a role/);
      assert.doesNotMatch(response.body, /web address/);
      assert.doesNotMatch(response.body, /href="\/test-only\/bad-form"/);
    });

    test('500 page hides the cause', async () => {
      const response = await app.inject({ url: '/test-only/broken', headers: { 'x-request-id': 'reference-12345' } });
      assert.equal(response.statusCode, 500);
      assert.match(response.body, /Sorry, there is a problem with the service/);
      assert.match(response.body, /reference-12345/);
      assert.doesNotMatch(response.body, /hunter2/);
      const api = await app.inject({ url: '/api/test-only/broken' });
      assert.equal(api.statusCode, 500);
      assert.equal(api.json().error.code, 'internal_error');
    });

    test('CSP nonce matches inline scripts', async () => {
      const response = await app.inject({ url: '/no-such-page' });
      const policy = String(response.headers['content-security-policy']);
      const nonce = /'nonce-([A-Za-z0-9+/=]+)'/.exec(policy)?.[1];
      assert.ok(nonce, policy);
      const scripts = [...response.body.matchAll(/<script([^>]*)>/g)].map((match) => match[1] ?? '');
      assert.ok(scripts.length >= 2);
      for (const attributes of scripts) assert.match(attributes, new RegExp(`nonce="${nonce.replace(/[+/=]/g, '\\$&')}"`));
      const second = await app.inject({ url: '/no-such-page' });
      assert.notEqual(second.headers['content-security-policy'], policy);
    });

    test('no crown or GOV.UK logotype', async () => {
      const response = await app.inject({ url: '/no-such-page' });
      assert.doesNotMatch(response.body, /govuk-logo|govuk-header__logotype|crown/i);
      assert.match(response.body, /govuk-generic-header__homepage-link">\s*Thurrock Council/);
      assert.match(response.body, /govuk-service-navigation__service-name/);
    });

    test('assets served with long cache', async () => {
      const css = await app.inject({ url: '/assets/govuk-frontend.min.css' });
      assert.equal(css.statusCode, 200);
      assert.match(String(css.headers['cache-control']), /max-age=31536000/);
      assert.doesNotMatch(css.body, /GDS Transport/);
      assert.match(css.body, /govuk-service-navigation/);
      const js = await app.inject({ url: '/assets/govuk-frontend.min.js' });
      assert.equal(js.statusCode, 200);
      assert.match(String(js.headers['content-type']), /javascript/);
      const repeat = await app.inject({ url: '/assets/govuk-frontend.min.js', headers: { 'if-none-match': String(js.headers.etag) } });
      assert.equal(repeat.statusCode, 304);
      const missing = await app.inject({ url: '/assets/fonts' });
      assert.equal(missing.statusCode, 404);
      const traversal = await app.inject({ url: '/assets/..%2F..%2Fconfig.ts' });
      assert.equal(traversal.statusCode, 404);
    });
  });
}
