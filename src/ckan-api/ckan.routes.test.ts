import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildCatalogue, type Catalogue } from '../../test/helpers/catalogue-builders.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { startTestServer, testServices } from '../../test/helpers/services.ts';
import { buildUser, memberAuth } from '../../test/helpers/accounts.ts';
import type { RunningServer } from '../main.ts';

type Envelope = { help: string; success: boolean; result?: any; error?: Record<string, any> };

for (const engine of testEngines()) {
  describe(`CKAN Action API on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let server: RunningServer;
    let catalogue: Catalogue;
    before(async () => {
      handle = await engine.create();
      catalogue = await buildCatalogue(handle.db);
      server = await startTestServer(testServices(handle.db, { publicUrl: 'https://data.example.test' }));
    });
    after(async () => {
      await server.close();
      await handle.drop();
    });

    async function get(action: string, params: Record<string, string> = {}): Promise<{ status: number; body: Envelope }> {
      const response = await fetch(`${server.url}/api/3/action/${action}?${new URLSearchParams(params).toString()}`);
      return { status: response.status, body: (await response.json()) as Envelope };
    }

    async function post(action: string, body: unknown): Promise<{ status: number; body: Envelope }> {
      const response = await fetch(`${server.url}/api/3/action/${action}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Envelope };
    }

    test('package_list names open datasets only', async () => {
      const { status, body } = await get('package_list');
      assert.equal(status, 200);
      assert.equal(body.success, true);
      assert.equal(body.help, 'https://data.example.test/api/3/action/help_show?name=package_list');
      assert.deepEqual(body.result, ['foodbank-parcels', 'spending-over-500']);
    });

    test('package_show returns the CKAN package dict', async () => {
      const { status, body } = await get('package_show', { id: 'spending-over-500' });
      assert.equal(status, 200);
      const pkg = body.result;
      assert.equal(pkg.id, catalogue.spending.id);
      assert.equal(pkg.name, 'spending-over-500');
      assert.equal(pkg.title, 'Spending over £500');
      assert.equal(pkg.notes, 'Payments to suppliers over £500 made by Thurrock Council.');
      assert.equal(pkg.license_id, 'OGL-UK-3.0');
      assert.equal(pkg.license_title, 'Open Government Licence v3.0');
      assert.equal(pkg.private, false);
      assert.equal(pkg.state, 'active');
      assert.equal(pkg.owner_org, catalogue.council.id);
      assert.equal(pkg.organization.name, 'thurrock-council');
      assert.equal(pkg.organization.title, 'Thurrock Council');
      assert.deepEqual(pkg.tags.map((tag: { name: string }) => tag.name), ['finance', 'transparency']);
      assert.equal(pkg.num_tags, 2);
      // Tag ids are name-based UUIDs, so the same tag has one id everywhere (the value was computed independently).
      assert.equal(pkg.tags[0].id, '0adcf148-229d-5b8d-84a2-7704e4d363dd');
      assert.match(pkg.tags[1].id, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.notEqual(pkg.tags[0].id, pkg.tags[1].id);
      assert.equal(pkg.num_resources, 2);
      assert.equal(pkg.metadata_modified, '2026-02-01T10:00:00.000');
      assert.deepEqual(pkg.extras, [
        { key: 'update_frequency', value: 'monthly' },
        { key: 'temporal_start', value: '2026-01-01' },
        { key: 'temporal_end', value: '2026-01-31' },
        { key: 'spatial_coverage', value: 'E06000034' },
      ]);
      const [newest, oldest] = pkg.resources;
      assert.equal(newest.id, catalogue.spendingV2.id);
      assert.equal(newest.package_id, catalogue.spending.id);
      assert.equal(newest.position, 0);
      assert.equal(newest.format, 'CSV');
      assert.equal(newest.datastore_active, true);
      assert.equal(newest.url, `https://data.example.test/dataset/spending-over-500/resource/${catalogue.spendingV2.id}/download`);
      assert.equal(oldest.id, catalogue.spendingV1.id);
      assert.equal(oldest.position, 1);
      const byId = await get('package_show', { id: catalogue.spending.id });
      assert.equal(byId.body.result.name, 'spending-over-500');
    });

    test('package_search with fq facets and paging', async () => {
      const { status, body } = await get('package_search', { q: 'thurrock payments', fq: 'organization:thurrock-council res_format:CSV', 'facet.field': '["organization","tags","res_format","license_id"]' });
      assert.equal(status, 200);
      assert.equal(body.result.count, 1);
      assert.equal(body.result.results[0].name, 'spending-over-500');
      assert.deepEqual(body.result.search_facets.organization, { title: 'organization', items: [{ name: 'thurrock-council', display_name: 'Thurrock Council', count: 1 }] });
      assert.deepEqual(body.result.facets.tags, { finance: 1, transparency: 1 });

      const all = await get('package_search', { sort: 'title_string asc', rows: '1', start: '1', 'facet.field': '["license_id"]' });
      assert.equal(all.body.result.count, 2);
      assert.deepEqual(all.body.result.results.map((pkg: { name: string }) => pkg.name), ['spending-over-500']);
      assert.deepEqual(all.body.result.facets.license_id, { 'CC-BY-4.0': 1, 'OGL-UK-3.0': 1 });

      const tagged = await post('package_search', { fq: 'tags:food', sort: 'metadata_modified desc' });
      assert.deepEqual(tagged.body.result.results.map((pkg: { name: string }) => pkg.name), ['foodbank-parcels']);
    });

    test('package_search reads q without fields as text', async () => {
      for (const q of ['"unbalanced', 'a && b || !c', '*:*', 'spending 10:30']) {
        const { status, body } = await get('package_search', { q });
        assert.equal(status, 200, q);
        assert.equal(body.success, true);
      }
      const everything = await get('package_search', { q: '*:*' });
      assert.equal(everything.body.result.count, 2);
    });

    test('package_search q field syntax', async () => {
      const names = async (q: string) => {
        const { status, body } = await get('package_search', { q, sort: 'name asc' });
        assert.equal(status, 200, `${q}: ${JSON.stringify(body.error)}`);
        return body.result.results.map((pkg: { name: string }) => pkg.name);
      };
      const cases: Array<[string, string[]]> = [
        ['tags:finance', ['spending-over-500']],
        ['tags:fo*', ['foodbank-parcels']],
        ['tags:"social-care"', []],
        ['title:parcels', ['foodbank-parcels']],
        ['title:"parcels by ward"', ['foodbank-parcels']],
        ['title:"ward by parcels"', []],
        ['title:parc*', ['foodbank-parcels']],
        ['notes:payments', ['spending-over-500']],
        ['name:spend*', ['spending-over-500']],
        ['name:spending', []],
        ['name:spending-over-500', ['spending-over-500']],
        ['organization:grays-foodbank', ['foodbank-parcels']],
        ['organization:thurrock*', ['spending-over-500']],
        ['res_format:csv', ['foodbank-parcels', 'spending-over-500']],
        ['license_id:CC-BY-4.0', ['foodbank-parcels']],
        ['suppliers tags:finance', ['spending-over-500']],
        ['parcels tags:finance', []],
        ['tags:finance AND res_format:CSV', ['spending-over-500']],
        ['+tags:food -organization:thurrock-council', ['foodbank-parcels']],
        ['-tags:finance', ['foodbank-parcels']],
        ['NOT tags:food', ['spending-over-500']],
        ['"parcels handed" organization:grays-foodbank', ['foodbank-parcels']],
        ['name:%*', []],
      ];
      for (const [q, expected] of cases) assert.deepEqual(await names(q), expected, q);
    });

    test('package_search rejects unsupported q syntax', async () => {
      const cases: Array<[string, RegExp]> = [
        ['colour:red', /colour:red is not supported/],
        ['name:(foo', /Cannot read name:\(foo/],
        ['title:[a TO z]', /Cannot read title:\[a/],
        ['tags:fin*nce', /Cannot read tags:fin\*nce/],
        ['tags:finance OR tags:food', /OR is not supported/],
        ['tags:finance (parcels)', /Cannot read \(parcels\)/],
        ['title:"open', /no closing double quote/],
        ['tags:finance NOT', /NOT must be followed by a term/],
      ];
      for (const [q, message] of cases) {
        const { status, body } = await get('package_search', { q });
        assert.equal(status, 409, q);
        assert.equal(body.error?.__type, 'Validation Error', q);
        assert.match(body.error?.q[0], message, q);
        assert.match(body.error?.q[0], /Supported fields in q: name, title, notes, tags, organization, res_format, license_id\./, q);
      }
    });

    test('package_search fq negation', async () => {
      const names = async (fq: string) => {
        const { status, body } = await get('package_search', { fq, sort: 'name asc' });
        assert.equal(status, 200, `${fq}: ${JSON.stringify(body.error)}`);
        return body.result.results.map((pkg: { name: string }) => pkg.name);
      };
      assert.deepEqual(await names('-organization:thurrock-council'), ['foodbank-parcels']);
      assert.deepEqual(await names('!organization:thurrock-council'), ['foodbank-parcels']);
      assert.deepEqual(await names('NOT tags:food'), ['spending-over-500']);
      assert.deepEqual(await names('res_format:CSV -license_id:CC-BY-4.0'), ['spending-over-500']);
      assert.deepEqual(await names('-name:nothing*'), ['foodbank-parcels', 'spending-over-500']);
      for (const fq of ['-colour:red', 'capacity:pub*', 'organization:a OR organization:b', 'parcels']) {
        const { status, body } = await get('package_search', { fq });
        assert.equal(status, 400, fq);
        assert.equal(body.error?.__type, 'Search Query Error', fq);
      }
    });

    test('package_search fl returns the fields asked', async () => {
      const names = await get('package_search', { fl: 'name', sort: 'name asc' });
      assert.equal(names.status, 200);
      assert.deepEqual(names.body.result.results, [{ name: 'foodbank-parcels' }, { name: 'spending-over-500' }]);
      assert.equal(names.body.result.count, 2);

      const listed = await get('package_search', { fl: 'name, title tags organization,res_format', fq: 'name:spending-over-500' });
      assert.deepEqual(listed.body.result.results, [
        { name: 'spending-over-500', title: 'Spending over £500', tags: ['finance', 'transparency'], organization: 'thurrock-council', res_format: ['CSV', 'CSV'] },
      ]);
      const posted = await post('package_search', { fl: ['id', 'metadata_modified'], fq: 'name:spending-over-500' });
      assert.deepEqual(posted.body.result.results, [{ id: catalogue.spending.id, metadata_modified: '2026-02-01T10:00:00.000' }]);
      const json = await get('package_search', { fl: '["name"]', fq: 'name:foodbank-parcels' });
      assert.deepEqual(json.body.result.results, [{ name: 'foodbank-parcels' }]);
      const whole = await post('package_search', { fl: 'validated_data_dict', fq: 'name:foodbank-parcels' });
      assert.equal(JSON.parse(whole.body.result.results[0].validated_data_dict).name, 'foodbank-parcels');

      const unknown = await get('package_search', { fl: 'name,colour' });
      assert.equal(unknown.status, 409);
      assert.equal(unknown.body.error?.__type, 'Validation Error');
      assert.match(unknown.body.error?.fl[0], /"colour" is not a dataset field\. Use any of: .*license_id/);
      const empty = await get('package_search', { fl: ' , ', fq: 'name:foodbank-parcels' });
      assert.equal(empty.body.result.results[0].name, 'foodbank-parcels');
      assert.ok(empty.body.result.results[0].resources, 'an empty fl returns whole package dicts');
    });

    test('private datasets stay hidden from anonymous callers', async () => {
      const list = await get('package_list');
      assert.ok(!list.body.result.includes('safeguarding-referrals'));
      const search = await get('package_search', { q: 'finance', include_private: 'true', 'facet.field': '["tags","organization"]' });
      assert.equal(search.body.result.count, 1);
      assert.equal(search.body.result.facets.tags['social-care'], undefined);
      assert.equal(search.body.result.facets.tags.finance, 1);
      const show = await get('package_show', { id: 'safeguarding-referrals' });
      assert.equal(show.status, 403);
      assert.equal(show.body.success, false);
      assert.equal(show.body.error?.__type, 'Authorization Error');
      assert.doesNotMatch(JSON.stringify(show.body), /Private referral counts/);
      const resource = await get('resource_show', { id: catalogue.secretResource.id });
      assert.equal(resource.status, 403);
      assert.equal(resource.body.error?.__type, 'Authorization Error');
      const rows = await get('datastore_search', { resource_id: catalogue.secretResource.id });
      assert.equal(rows.status, 403);
      assert.doesNotMatch(JSON.stringify(rows.body), /Grays Riverside/);
      const sql = await get('datastore_search_sql', { sql: `select * from "${catalogue.secretResource.id}"` });
      assert.equal(sql.status, 403);
      const organisation = await get('organization_show', { id: 'thurrock-council', include_datasets: 'true' });
      assert.equal(organisation.body.result.package_count, 1);
      assert.deepEqual(organisation.body.result.packages.map((pkg: { name: string }) => pkg.name), ['spending-over-500']);
    });

    test('read token sees its organisation', async () => {
      const user = await buildUser(handle.db, { member: { organisationId: catalogue.council.id, role: 'analyst' } });
      const auth = memberAuth(user.id, catalogue.council.id, 'analyst');
      const reader = await server.services.tokens.create(auth, { name: 'ckan reader', scopes: ['read'] });
      // Only a data steward, data protection officer or administrator may hold the write scope.
      const steward = await buildUser(handle.db, { member: { organisationId: catalogue.council.id, role: 'data_steward' } });
      const writer = await server.services.tokens.create(memberAuth(steward.id, catalogue.council.id, 'data_steward'), { name: 'writer only', scopes: ['write'] });
      const asToken = async (token: string, action: string, params: Record<string, string>) => {
        const response = await fetch(`${server.url}/api/3/action/${action}?${new URLSearchParams(params).toString()}`, { headers: { authorization: `Bearer ${token}` } });
        return { status: response.status, body: (await response.json()) as Envelope };
      };
      const shown = await asToken(reader.token, 'package_show', { id: 'safeguarding-referrals' });
      assert.equal(shown.status, 200);
      assert.equal(shown.body.result.private, true);
      const rows = await asToken(reader.token, 'datastore_search', { resource_id: catalogue.secretResource.id });
      assert.equal(rows.body.result.total, 2);
      const search = await asToken(reader.token, 'package_search', { include_private: 'true', fq: 'organization:thurrock-council' });
      assert.equal(search.body.result.count, 2);
      const defaultSearch = await asToken(reader.token, 'package_search', { fq: 'organization:thurrock-council' });
      assert.equal(defaultSearch.body.result.count, 1, 'CKAN leaves private datasets out unless include_private is set');
      const writeOnly = await asToken(writer.token, 'package_show', { id: 'safeguarding-referrals' });
      assert.equal(writeOnly.status, 403);
      assert.equal(writeOnly.body.help, `${server.services.config.publicUrl}/api/3/action/help_show?name=package_show`);
      // CKAN clients send the key alone in the Authorization header.
      const bare = await fetch(`${server.url}/api/3/action/package_show?id=safeguarding-referrals`, { headers: { authorization: reader.token } });
      assert.equal(bare.status, 200);
      assert.equal(((await bare.json()) as Envelope).result.private, true);
    });

    test('X-CKAN-API-Key header carries the token', async () => {
      const user = await buildUser(handle.db, { member: { organisationId: catalogue.council.id, role: 'analyst' } });
      const auth = memberAuth(user.id, catalogue.council.id, 'analyst');
      const reader = await server.services.tokens.create(auth, { name: 'ckanapi reader', scopes: ['read'] });
      const other = await server.services.tokens.create(auth, { name: 'second reader', scopes: ['read'] });
      const show = async (headers: Record<string, string>) => {
        const response = await fetch(`${server.url}/api/3/action/package_show?id=safeguarding-referrals`, { headers });
        return { status: response.status, body: (await response.json()) as Envelope };
      };

      const keyed = await show({ 'x-ckan-api-key': reader.token });
      assert.equal(keyed.status, 200);
      assert.equal(keyed.body.result.private, true);
      const bearer = await show({ 'x-ckan-api-key': `Bearer ${reader.token}` });
      assert.equal(bearer.status, 200);
      const both = await show({ 'x-ckan-api-key': reader.token, authorization: `Bearer ${reader.token}` });
      assert.equal(both.status, 200);

      const invalid = await show({ 'x-ckan-api-key': 'civic_not_a_real_token' });
      assert.equal(invalid.status, 403, 'an invalid key is rejected, not read as anonymous');
      assert.equal(invalid.body.error?.__type, 'Authorization Error');
      const malformed = await show({ 'x-ckan-api-key': 'bogus' });
      assert.equal(malformed.status, 403);
      assert.match(malformed.body.error?.message, /The API token in the x-ckan-api-key header is not valid/);
      const conflicting = await show({ 'x-ckan-api-key': reader.token, authorization: other.token });
      assert.equal(conflicting.status, 403);
      assert.match(conflicting.body.error?.message, /different API tokens/);

      const post = await fetch(`${server.url}/api/3/action/package_search`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-ckan-api-key': reader.token },
        body: JSON.stringify({ include_private: true, fq: 'organization:thurrock-council' }),
      });
      assert.equal(post.status, 200, 'a keyed POST needs no CSRF token');
      assert.equal(((await post.json()) as Envelope).result.count, 2);
    });

    test('organization_list and organization_show', async () => {
      const names = await get('organization_list');
      assert.deepEqual(names.body.result, ['grays-foodbank', 'thurrock-council']);
      const full = await get('organization_list', { all_fields: 'true', sort: 'package_count desc', limit: '1' });
      assert.equal(full.body.result.length, 1);
      assert.equal(full.body.result[0].name, 'grays-foodbank');
      assert.equal(full.body.result[0].is_organization, true);
      const shown = await get('organization_show', { id: catalogue.council.id });
      assert.equal(shown.body.result.name, 'thurrock-council');
      assert.equal(shown.body.result.title, 'Thurrock Council');
      assert.equal(shown.body.result.packages, undefined);
      const missing = await get('organization_show', { id: 'no-such-council' });
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error?.__type, 'Not Found Error');
    });

    test('organization_list parameters as CKAN reads them', async () => {
      // A council reader also counts the council's private dataset, so the two organisations' counts differ.
      const user = await buildUser(handle.db, { member: { organisationId: catalogue.council.id, role: 'analyst' } });
      const reader = await server.services.tokens.create(memberAuth(user.id, catalogue.council.id, 'analyst'), { name: 'counts', scopes: ['read'] });
      const asReader = async (params: Record<string, string>) => {
        const response = await fetch(`${server.url}/api/3/action/organization_list?${new URLSearchParams(params).toString()}`, { headers: { authorization: reader.token } });
        return ((await response.json()) as Envelope).result;
      };
      assert.deepEqual(await asReader({ sort: 'package_count' }), ['thurrock-council', 'grays-foodbank'], 'package_count alone sorts largest first');
      assert.deepEqual(await asReader({ sort: 'packages asc' }), ['grays-foodbank', 'thurrock-council']);
      assert.deepEqual(await asReader({ sort: 'name desc' }), ['thurrock-council', 'grays-foodbank']);
      const capped = await get('organization_list', { all_fields: 'true', limit: '500' });
      assert.equal(capped.status, 200, 'a limit over the maximum is capped, not rejected');
      assert.equal(capped.body.result.length, 2);
      const paged = await get('organization_list', { limit: '1', offset: '1' });
      assert.deepEqual(paged.body.result, ['thurrock-council']);
      const zero = await get('organization_list', { limit: '0' });
      assert.equal(zero.body.result.length, 2, 'limit 0 means the maximum, as in CKAN');
      const text = await get('organization_list', { q: 'ESSEX' });
      assert.deepEqual(text.body.result, ['thurrock-council'], 'q matches the description, ignoring case');
      const wildcard = await get('organization_list', { q: '%' });
      assert.deepEqual(wildcard.body.result, [], 'LIKE wildcards in q match literally');
      const named = await post('organization_list', { organizations: ['grays-foodbank'] });
      assert.deepEqual(named.body.result, ['grays-foodbank']);
      const invalid: Array<Record<string, string>> = [{ sort: 'colour' }, { sort: 'name sideways' }, { sort: 'name, title' }, { limit: '-1' }, { offset: 'x' }, { all_fields: 'perhaps' }];
      for (const params of invalid) {
        const bad = await get('organization_list', params);
        assert.equal(bad.status, 409, JSON.stringify(params));
        assert.equal(bad.body.error?.__type, 'Validation Error');
      }
    });

    test('group_list tag_list license_list', async () => {
      const groups = await get('group_list');
      assert.equal(groups.status, 200);
      assert.deepEqual(groups.body.result, []);
      assert.deepEqual((await get('group_list', { all_fields: 'true' })).body.result, []);
      assert.equal((await get('group_list', { limit: 'many' })).status, 409);

      const tags = await get('tag_list');
      assert.deepEqual(tags.body.result, ['finance', 'food', 'transparency'], 'tags of open datasets only');
      const query = await get('tag_list', { query: 'FIN' });
      assert.deepEqual(query.body.result, ['finance']);
      const full = await get('tag_list', { query: 'foo', all_fields: 'true' });
      assert.deepEqual(full.body.result, [{ id: 'e45b5611-79d0-5cbd-a653-7ce66d61e3c7', name: 'food', display_name: 'food', vocabulary_id: null }]);
      const vocabulary = await get('tag_list', { vocabulary_id: 'genre' });
      assert.equal(vocabulary.status, 404);
      assert.equal(vocabulary.body.error?.__type, 'Not Found Error');

      const licences = await get('license_list');
      assert.equal(licences.status, 200);
      const ogl = licences.body.result.find((licence: { id: string }) => licence.id === 'OGL-UK-3.0');
      assert.equal(ogl.title, 'Open Government Licence v3.0');
      assert.equal(ogl.url, 'https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/');
      assert.equal(ogl.od_conformance, 'approved');
      assert.equal(ogl.status, 'active');
      assert.equal(ogl.domain_data, 'True');
      const closed = licences.body.result.find((licence: { id: string }) => licence.id === 'other-closed');
      assert.equal(closed.od_conformance, 'not reviewed');
    });

    test('resource_show help_show status_show', async () => {
      const resource = await get('resource_show', { id: catalogue.spendingV1.id });
      assert.equal(resource.body.result.id, catalogue.spendingV1.id);
      assert.equal(resource.body.result.package_id, catalogue.spending.id);
      assert.equal(resource.body.result.position, 1);
      const help = await get('help_show', { name: 'datastore_search' });
      assert.match(help.body.result, /resource_id, filters/);
      const status = await get('status_show');
      assert.equal(status.body.result.site_url, 'https://data.example.test');
      assert.equal(status.body.result.site_title, 'Thurrock Data Exchange', 'the title the portal pages show');
      assert.deepEqual(status.body.result.extensions, ['datastore']);
    });

    test('datastore_search envelope and links', async () => {
      const { status, body } = await get('datastore_search', { resource_id: catalogue.spendingV2.id, limit: '2', filters: '{"supplier":"Tilbury Print"}', sort: 'amount desc' });
      assert.equal(status, 200);
      const result = body.result;
      assert.equal(result.resource_id, catalogue.spendingV2.id);
      assert.equal(result.total, 50);
      assert.equal(result.total_was_estimated, false);
      assert.deepEqual(result.records.map((record: { _id: number }) => record._id), [248, 243]);
      assert.deepEqual(result.fields[0], { id: '_id', type: 'int' });
      assert.deepEqual(result.fields[1], { id: 'supplier', type: 'text', info: { label: 'Supplier Name' } });
      assert.match(result._links.start, /^\/api\/3\/action\/datastore_search\?/);
      assert.match(result._links.next, /offset=2/);
    });

    test('bad input gives CKAN errors naming the parameter', async () => {
      const cases: Array<[Record<string, string>, number, string, string]> = [
        [{ resource_id: '0f8e2a51-1111-4111-8111-111111111111' }, 404, 'Not Found Error', 'message'],
        [{ resource_id: catalogue.spendingV1.id, fields: 'colour' }, 409, 'Validation Error', 'fields'],
        [{ resource_id: catalogue.spendingV1.id, filters: '{"supplier": ' }, 409, 'Validation Error', 'filters'],
        [{ resource_id: catalogue.spendingV1.id, limit: '32001' }, 409, 'Validation Error', 'limit'],
        [{ resource_id: catalogue.spendingV1.id, limit: '-1' }, 409, 'Validation Error', 'limit'],
        [{}, 409, 'Validation Error', 'resource_id'],
      ];
      for (const [params, expectedStatus, type, key] of cases) {
        const { status, body } = await get('datastore_search', params);
        assert.equal(status, expectedStatus, JSON.stringify(params));
        assert.equal(body.success, false);
        assert.equal(body.error?.__type, type);
        assert.ok(body.error?.[key], `${JSON.stringify(params)} names ${key}`);
      }
      const missing = await get('datastore_search');
      assert.match(missing.body.error?.resource_id[0], /^Missing value\. Send the resource_id parameter/);
      const missingId = await get('package_show');
      assert.equal(missingId.body.error?.message, 'Invalid id: Missing value. Send the id parameter in the query string or the JSON body.');
      const sql = await get('datastore_search_sql', { sql: 'delete from resources' });
      assert.equal(sql.status, 409);
      assert.match(sql.body.error?.sql[0], /Only SELECT queries are allowed/);
      const facet = await get('package_search', { 'facet.field': 'organization' });
      assert.equal(facet.status, 409);
      assert.match(facet.body.error?.['facet.field'][0], /Send JSON such as \["organization", "tags"\]/);
      assert.doesNotMatch(facet.body.error?.['facet.field'][0], /JSON object/);
      const filters = await get('datastore_search', { resource_id: catalogue.spendingV1.id, filters: 'supplier' });
      assert.match(filters.body.error?.filters[0], /Send JSON such as \{"column": "value"\}/);
      const fq = await get('package_search', { fq: 'colour:red' });
      assert.equal(fq.status, 400);
      assert.equal(fq.body.error?.__type, 'Search Query Error');
    });

    test('JSON sent as a form is read', async () => {
      // curl -d sends its data as application/x-www-form-urlencoded, whatever the data is.
      const send = async (action: string, contentType: string, body: string) => {
        const response = await fetch(`${server.url}/api/3/action/${action}`, { method: 'POST', headers: { 'content-type': contentType }, body });
        return { status: response.status, body: (await response.json()) as Envelope };
      };
      const shown = await send('package_show', 'application/x-www-form-urlencoded', '{"id": "spending-over-500"}');
      assert.equal(shown.status, 200);
      assert.equal(shown.body.result.name, 'spending-over-500');

      const searched = await send('package_search', 'application/x-www-form-urlencoded', '{"q": "foodbank", "rows": 5}');
      assert.equal(searched.status, 200);
      assert.deepEqual(searched.body.result.results.map((dataset: { name: string }) => dataset.name), ['foodbank-parcels']);

      const form = await send('package_show', 'application/x-www-form-urlencoded', 'id=spending-over-500');
      assert.equal(form.status, 200);
      assert.equal(form.body.result.name, 'spending-over-500');

      const repeated = await send('organization_list', 'application/x-www-form-urlencoded', 'organizations=grays-foodbank&organizations=thurrock-council');
      assert.equal(repeated.status, 200);
      assert.deepEqual([...repeated.body.result].sort(), ['grays-foodbank', 'thurrock-council']);

      const plainText = await send('package_show', 'text/plain', '{"id": "foodbank-parcels"}');
      assert.equal(plainText.status, 200);
      assert.equal(plainText.body.result.name, 'foodbank-parcels');

      const broken = await fetch(`${server.url}/api/3/action/package_show`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '{"id": ' });
      assert.equal(broken.status, 400);
      assert.match((await broken.json()) as string, /^Bad request - JSON Error/);
    });

    test('POST without a body reads the query', async () => {
      const response = await fetch(`${server.url}/api/3/action/package_show?id=foodbank-parcels`, { method: 'POST' });
      const body = (await response.json()) as Envelope;
      assert.equal(response.status, 200);
      assert.equal(body.result.name, 'foodbank-parcels');

      const withBody = await post('package_show', { id: 'spending-over-500' });
      assert.equal(withBody.body.result.name, 'spending-over-500');
    });

    test('API root gives the version', async () => {
      const root = await fetch(`${server.url}/api`);
      assert.equal(root.status, 200);
      assert.deepEqual(await root.json(), { version: 1 });
      const three = await fetch(`${server.url}/api/3`);
      assert.equal(three.status, 200);
      assert.deepEqual(await three.json(), { version: 3 });
    });

    test('unknown action and malformed JSON are 400', async () => {
      const unknown = await fetch(`${server.url}/api/3/action/package_delete_everything`);
      assert.equal(unknown.status, 400);
      assert.equal(await unknown.json(), 'Bad request - Action name not known: package_delete_everything');
      const malformed = await fetch(`${server.url}/api/3/action/package_show`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id": ' });
      assert.equal(malformed.status, 400);
      assert.match((await malformed.json()) as string, /^Bad request - JSON Error/);
      const list = await fetch(`${server.url}/api/3/action/package_show`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[1]' });
      assert.equal(list.status, 400);
      const empty = await fetch(`${server.url}/api/3/action/package_list`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '' });
      assert.equal(empty.status, 200);
    });

    test('no stack traces reach clients', async () => {
      const responses = await Promise.all([
        get('datastore_search', { resource_id: 'not-a-uuid' }),
        get('datastore_search_sql', { sql: `select 1/0 from "${catalogue.spendingV1.id}"` }),
        get('package_show', { id: '' }),
      ]);
      for (const { body } of responses) assert.doesNotMatch(JSON.stringify(body), /at \w+ \(|\.ts:\d+|node_modules/);
    });
  });
}
