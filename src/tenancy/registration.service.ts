import { randomUUID } from 'node:crypto';
import { hash } from '@node-rs/argon2';
import { sql, type Kysely } from 'kysely';
import { setCurrentUser, findUserIdByEmail } from '../accounts/account-scope.ts';
import type { AccountLinkService } from '../accounts/account-link.service.ts';
import { emailAddressProblem } from '../accounts/email-address.ts';
import type { AuthContext } from '../accounts/auth-context.ts';
import type { Mailer } from '../accounts/mailer.ts';
import { checkNewPassword } from '../accounts/password-policy.ts';
import { appendAuditEvent } from '../audit/audit.repository.ts';
import { hasIdForm, RESERVED_ORGANISATION_SLUGS } from '../catalogue/catalogue.metadata.ts';
import type { DB } from '../db/schema.ts';
import { setPlatformScope } from '../db/tenant.ts';
import { AppError, validationError, type FieldError } from '../errors.ts';
import { defaultApplications, ORGANISATION_TYPE_NAMES, planForType } from './plans.ts';
import { checkRegistrationNumbers, type RegistrationField } from './registration-numbers.ts';
import { ORGANISATION_TYPES, type OrganisationType } from './tenancy.tables.ts';

const DOMAIN_PATTERN = /^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** The registration form as posted; every value is the raw text the applicant typed. */
export interface RegistrationInput extends Partial<Record<RegistrationField, string>> {
  name: string;
  type: string;
  emailDomains: string;
  /** The applicant's account; ignored when the applicant is already signed in. */
  displayName?: string;
  email?: string;
  password?: string;
}

export interface RegisteredOrganisation {
  organisationId: string;
  slug: string;
  applicantUserId: string;
}

/** Splits a list of domains typed with commas, spaces or new lines, lower-cased and without duplicates. */
export function parseDomains(text: string): string[] {
  return [...new Set(text.split(/[\s,;]+/).map((domain) => domain.trim().toLowerCase().replace(/^@/, '')).filter((domain) => domain !== ''))];
}

/** A slug from the organisation's name, such as "thurrock-food-bank". */
export function slugFromName(name: string): string {
  const slug = name.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 80);
  return slug.length >= 2 ? slug : `organisation-${slug}`.replace(/-+$/, '');
}

/**
 * Self-registration of community and partner organisations. A registration creates the organisation as pending with
 * the applicant as its first administrator; a platform administrator then approves or declines it (ReviewService).
 */
export class RegistrationService {
  constructor(
    private readonly db: { app: Kysely<DB> },
    private readonly links: AccountLinkService,
    private readonly mailer: Mailer,
    private readonly publicUrl: string,
  ) {}

  /** Checks the form and returns every field error at once, with the values to store. */
  check(input: RegistrationInput, signedIn: boolean): { errors: FieldError[]; type: OrganisationType | null; domains: string[]; numbers: ReturnType<typeof checkRegistrationNumbers>['numbers'] | null } {
    const errors: FieldError[] = [];
    const name = input.name.trim();
    if (name === '') errors.push({ field: 'name', message: 'Enter the name of the organisation' });
    else if (name.length > 200) errors.push({ field: 'name', message: 'Organisation name must be 200 characters or fewer' });
    const type = (ORGANISATION_TYPES as readonly string[]).includes(input.type) ? (input.type as OrganisationType) : null;
    if (type === null) errors.push({ field: 'type', message: 'Select the type of organisation' });
    const numbers = type === null ? null : checkRegistrationNumbers(type, input);
    if (numbers) errors.push(...numbers.errors);

    const domains = parseDomains(input.emailDomains);
    const badDomain = domains.find((domain) => !DOMAIN_PATTERN.test(domain));
    if (domains.length === 0) errors.push({ field: 'emailDomains', message: 'Enter the email domain your organisation uses, like thurrockfoodbank.org.uk' });
    else if (badDomain !== undefined) errors.push({ field: 'emailDomains', message: `"${badDomain}" is not an email domain. Enter domains like thurrockfoodbank.org.uk, separated by commas` });
    else if (domains.length > 10) errors.push({ field: 'emailDomains', message: 'Enter 10 email domains or fewer' });

    if (!signedIn) {
      const displayName = (input.displayName ?? '').trim();
      const email = (input.email ?? '').trim().toLowerCase();
      if (displayName === '') errors.push({ field: 'displayName', message: 'Enter your full name' });
      else if (displayName.length > 200) errors.push({ field: 'displayName', message: 'Your name must be 200 characters or fewer' });
      const emailProblem = emailAddressProblem(email);
      if (email === '') errors.push({ field: 'email', message: 'Enter your work email address' });
      else if (emailProblem !== null) errors.push({ field: 'email', message: emailProblem });
      else if (domains.length > 0 && badDomain === undefined && !domains.includes(email.split('@')[1]!)) {
        errors.push({ field: 'email', message: `Enter an email address in one of the organisation's domains (${domains.join(', ')})` });
      }
      errors.push(...checkNewPassword(input.password ?? '', 'password', email));
    }
    return { errors, type, domains, numbers: numbers?.numbers ?? null };
  }

  /**
   * Registers an organisation as pending with the applicant as its administrator, in the platform scope because no
   * tenant exists yet, and audits it. An anonymous applicant gets a new account and an email to confirm the address.
   * When an account already uses the email, nothing is registered and null is returned. That address is emailed how
   * to sign in and register, so the page the caller shows need not reveal whether the account exists. A repeat of the
   * applicant's own pending registration of the same name registers nothing new and sends no email.
   */
  async register(input: RegistrationInput, auth: AuthContext | null, requestId?: string): Promise<RegisteredOrganisation | null> {
    const checked = this.check(input, auth !== null);
    if (checked.errors.length > 0) throw validationError('invalid_registration', checked.errors[0]!.message, checked.errors);
    const type = checked.type!;
    const email = (input.email ?? '').trim().toLowerCase();
    const passwordHash = auth === null ? await hash(input.password ?? '') : null;
    const plan = planForType(type);

    return this.db.app.transaction().execute(async (trx) => {
      await setPlatformScope(trx);
      let applicantUserId = auth?.userId ?? null;
      // The same form sent twice, as after a double click, registers the organisation once.
      if (applicantUserId !== null) {
        const repeated = await this.pendingRegistration(trx, applicantUserId, input.name.trim());
        if (repeated !== undefined) return repeated;
      }
      if (applicantUserId === null) {
        const existingUserId = await findUserIdByEmail(trx, email);
        if (existingUserId !== null) {
          // A repeat of the applicant's own registration gets no email saying that nothing was registered.
          if ((await this.pendingRegistration(trx, existingUserId, input.name.trim())) !== undefined) return null;
          await this.tellExistingAccount(trx, existingUserId, email, input.name.trim(), requestId);
          return null;
        }
        applicantUserId = randomUUID();
        await setCurrentUser(trx, applicantUserId);
        await trx.insertInto('users').values({ id: applicantUserId, email, display_name: input.displayName!.trim(), password_hash: passwordHash }).execute();
      }
      const slug = await this.uniqueSlug(trx, slugFromName(input.name.trim()));
      const organisation = await trx
        .insertInto('organisations')
        .values({
          slug,
          name: input.name.trim(),
          kind: ORGANISATION_TYPE_NAMES[type].toLowerCase(),
          status: 'pending',
          type,
          ...checked.numbers!,
          email_domains: checked.domains,
          plan,
          applications: defaultApplications(plan),
          applicant_user_id: applicantUserId,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await trx.insertInto('memberships').values({ organisation_id: organisation.id, user_id: applicantUserId, role: 'administrator' }).execute();
      await appendAuditEvent(trx, {
        organisationId: organisation.id,
        actorUserId: applicantUserId,
        actorKind: 'user',
        action: 'organisation.registered',
        subjectType: 'organisation',
        subjectId: organisation.id,
        requestId,
        details: { slug, type, plan, domains: checked.domains.length, new_account: auth === null },
      });
      if (auth === null) {
        await setCurrentUser(trx, applicantUserId);
        await this.links.sendVerification(trx, applicantUserId, email);
      }
      const applicant = await trx.selectFrom('users').select('email').where('id', '=', applicantUserId).executeTakeFirstOrThrow();
      await this.mailer.send(
        {
          to: applicant.email,
          subject: `We have received the registration of ${input.name.trim()}`,
          text: `Thank you for registering ${input.name.trim()} with Thurrock Data Exchange.\n\nA council administrator will review it, usually within 5 working days, and email you the decision.`,
        },
        trx,
      );
      return { organisationId: organisation.id, slug, applicantUserId };
    });
  }

  /** Finds the applicant's registration of an organisation of this name (in any letter case) that waits for review. */
  private async pendingRegistration(trx: Kysely<DB>, applicantUserId: string, name: string): Promise<RegisteredOrganisation | undefined> {
    const row = await trx
      .selectFrom('organisations')
      .select(['id', 'slug'])
      .where('applicant_user_id', '=', applicantUserId)
      .where('status', '=', 'pending')
      .where(sql<string>`lower(name)`, '=', name.toLowerCase())
      .executeTakeFirst();
    return row === undefined ? undefined : { organisationId: row.id, slug: row.slug, applicantUserId };
  }

  /** Emails an existing account that someone tried to register an organisation with its address, and audits it. */
  private async tellExistingAccount(trx: Kysely<DB>, userId: string, email: string, organisationName: string, requestId?: string): Promise<void> {
    await appendAuditEvent(trx, { organisationId: null, actorUserId: null, actorKind: 'system', action: 'user.registration_with_existing_email', subjectType: 'user', subjectId: userId, requestId });
    await this.mailer.send(
      {
        to: email,
        subject: 'Someone tried to register with your email address',
        text:
          `Someone tried to register ${organisationName} on Thurrock Data Exchange with this email address, which already has an account. Nothing was registered.\n\n` +
          `If it was you, sign in first and then register the organisation:\n\n${this.publicUrl}/sign-in\n\n` +
          `If you have forgotten your password, reset it here:\n\n${this.publicUrl}/account/reset-password\n\n` +
          'If it was not you, you can ignore this email. Your account has not changed.',
      },
      trx,
    );
  }

  private async uniqueSlug(trx: Kysely<DB>, base: string): Promise<string> {
    const taken = await trx.selectFrom('organisations').select('slug').where('slug', 'like', `${base}%`).execute();
    // A reserved slug counts as taken, so "Members" registers as members-2 rather than hiding behind a portal page.
    // A name in the form of a UUID gets a suffix too, because the API finds organisations by id as well as by slug.
    const used = new Set([...taken.map((row) => row.slug), ...RESERVED_ORGANISATION_SLUGS]);
    if (!used.has(base) && !hasIdForm(base)) return base;
    for (let suffix = 2; suffix < 1000; suffix += 1) {
      if (!used.has(`${base}-${suffix}`)) return `${base}-${suffix}`;
    }
    throw new AppError('conflict', 'slug_exhausted', `Too many organisations are named like "${base}". Choose a more distinctive name.`);
  }
}
