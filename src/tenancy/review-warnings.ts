import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';

/**
 * Public email services. A registration that claims one of these as its organisation's domain gives no sign that the
 * applicant works for the organisation, and the domain would then match everyone who uses that service.
 */
const PUBLIC_EMAIL_DOMAINS = new Set([
  'aol.com', 'btinternet.com', 'gmail.com', 'gmx.com', 'googlemail.com', 'hotmail.co.uk', 'hotmail.com', 'icloud.com',
  'live.co.uk', 'live.com', 'mail.com', 'me.com', 'msn.com', 'ntlworld.com', 'outlook.com', 'proton.me', 'protonmail.com',
  'sky.com', 'talktalk.net', 'virginmedia.com', 'yahoo.co.uk', 'yahoo.com',
]);

/** The fields of a pending registration that the checks read. */
export interface RegistrationToCheck {
  id: string;
  name: string;
  emailDomains: string[];
}

/**
 * Builds the warnings shown to a platform administrator beside each pending registration. A warning names another
 * organisation with the same name, which an import often created before its staff registered. It names a domain that
 * another active organisation already uses, because approving would stop single sign-on finding either by that
 * domain. It also names public email services.
 */
export async function reviewWarnings(trx: Kysely<DB>, pending: RegistrationToCheck[]): Promise<Map<string, string[]>> {
  const warnings = new Map<string, string[]>(pending.map((registration) => [registration.id, []]));
  if (pending.length === 0) return warnings;
  const others = await trx
    .selectFrom('organisations')
    .select(['id', 'slug', 'name', 'status', 'email_domains'])
    .where('status', '!=', 'declined')
    .where((eb) =>
      eb.or([
        eb(eb.fn('lower', ['name']), 'in', pending.map((registration) => registration.name.trim().toLowerCase())),
        eb('email_domains', '&&', eb.val(pending.flatMap((registration) => registration.emailDomains))),
      ]),
    )
    .execute();
  for (const registration of pending) {
    const found = warnings.get(registration.id)!;
    const name = registration.name.trim().toLowerCase();
    for (const other of others) {
      if (other.id === registration.id) continue;
      if (other.name.trim().toLowerCase() === name) {
        found.push(`Another organisation already has this name: ${other.name} (${other.slug}, ${other.status}). If it is the same organisation, decline this registration and invite the applicant to that one instead.`);
      }
      const shared = other.status === 'active' ? registration.emailDomains.filter((domain) => other.email_domains.includes(domain)) : [];
      for (const domain of shared) {
        found.push(`${domain} is already an email domain of ${other.name} (${other.slug}). Approving this registration would stop single sign-on finding either organisation by that domain.`);
      }
    }
    for (const domain of registration.emailDomains.filter((candidate) => PUBLIC_EMAIL_DOMAINS.has(candidate))) {
      found.push(`${domain} is a public email service, so it does not show that the applicant works for ${registration.name}.`);
    }
  }
  return warnings;
}
