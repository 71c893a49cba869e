import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildUser, signedInClient } from '../../test/helpers/accounts.ts';
import { testEngines } from '../../test/helpers/engines.ts';
import { testServices } from '../../test/helpers/services.ts';
import { checkOrganisationSlug } from '../catalogue/catalogue.metadata.ts';
import { setPlatformScope } from '../db/tenant.ts';
import { buildApp } from '../http/app.ts';
import type { Services } from '../services.ts';

const applicant = (name: string, domains: string, email: string) => ({
  name,
  type: 'community_group',
  emailDomains: domains,
  displayName: 'Amira Khan',
  email,
  password: 'lantern orchard pebble',
});

describe('reserved organisation slugs', () => {
  test('import slug is refused', () => {
    assert.throws(() => checkOrganisationSlug('members'), /the portal uses \/organisation\/members for its own pages/);
    assert.doesNotThrow(() => checkOrganisationSlug('members-club'));
  });
});

for (const engine of testEngines()) {
  describe(`registration review warnings on ${engine.name}`, () => {
    let handle: Awaited<ReturnType<typeof engine.create>>;
    let services: Services;

    before(async () => {
      handle = await engine.create();
      services = testServices(handle.db);
    });
    after(async () => {
      await handle.drop();
    });

    /** Registers with a new applicant account, which returns the organisation. */
    const registerNew = async (input: ReturnType<typeof applicant>) => {
      const registered = await services.tenancy.registration.register(input, null);
      assert.ok(registered, `${input.email} registers a new organisation`);
      return registered;
    };

    test('reserved name gets another slug', async () => {
      const registered = await services.tenancy.registration.register(applicant('Members', 'members-club.org.uk', 'amira@members-club.org.uk'), null);
      assert.equal(registered?.slug, 'members-2');
    });

    test('same name and shared domain warn', async () => {
      // An import created the council before its staff registered it.
      await handle.db.app.transaction().execute(async (trx) => {
        await setPlatformScope(trx);
        await trx.insertInto('organisations').values({ slug: 'devon-county-council', name: 'Devon County Council', status: 'active', email_domains: ['devon.gov.uk'] }).execute();
      });
      const duplicate = await registerNew(applicant('Devon County Council', 'devon.gov.uk', 'officer@devon.gov.uk'));
      const webmail = await registerNew(applicant('Chafford Hundred Knitters', 'gmail.com', 'knitters@gmail.com'));
      const distinct = await registerNew(applicant('Tilbury Allotments', 'tilburyallotments.org.uk', 'chair@tilburyallotments.org.uk'));

      const pending = await services.tenancy.review.list(['pending']);
      const warningsOf = (organisationId: string) => pending.find((organisation) => organisation.id === organisationId)!.warnings;
      const duplicateWarnings = warningsOf(duplicate.organisationId);
      assert.equal(duplicateWarnings.length, 2);
      assert.match(duplicateWarnings[0]!, /Another organisation already has this name: Devon County Council \(devon-county-council, active\)/);
      assert.match(duplicateWarnings[1]!, /devon\.gov\.uk is already an email domain of Devon County Council/);
      assert.deepEqual(warningsOf(webmail.organisationId), ['gmail.com is a public email service, so it does not show that the applicant works for Chafford Hundred Knitters.']);
      assert.deepEqual(warningsOf(distinct.organisationId), []);

      const app = await buildApp(services);
      try {
        const platformAdmin = await buildUser(handle.db, { platformAdmin: true });
        const page = await (await signedInClient(app, services, platformAdmin.id, null)).get('/admin/organisations');
        assert.match(page.body, /govuk-warning-text[\s\S]*?gmail\.com is a public email service/);
      } finally {
        await app.close();
      }
    });
  });
}
