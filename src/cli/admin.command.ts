import { parseArgs } from 'node:util';
import { ORGANISATION_ROLES } from '../accounts/accounts.tables.ts';
import { findUserIdByEmail } from '../accounts/account-scope.ts';
import { checkEmailArgument, createPlatformAdmin } from '../accounts/platform-admin.ts';
import { setPlatformScope } from '../db/tenant.ts';
import { notFound } from '../errors.ts';
import type { Services } from '../services.ts';
import { describePlanChange } from '../tenancy/plan-change.ts';
import { PLANS } from '../tenancy/plans.ts';
import { PLAN_IDS } from '../tenancy/tenancy.tables.ts';
import { UsageError, type Command } from './command.ts';
import { openServices } from './runtime.ts';

const USAGE = `civic admin create-platform-admin EMAIL
       civic admin invite ORGANISATION EMAIL [--role ROLE]   (ROLE: administrator, the default, data_steward,
                                                               data_protection_officer, analyst or viewer)
       civic admin reset-two-factor EMAIL                    (for someone who has lost their authenticator app)
       civic admin set-plan ORGANISATION PLAN --reason TEXT  (PLAN: community, partner or commercial; the reason is
                                                               emailed to the organisation's administrators)

Exit status: 0 when done, 2 for wrong arguments, 1 for any other failure (the message says what and why).`;

const ACTIONS = 'create-platform-admin, invite, reset-two-factor or set-plan';

/**
 * Prints what was done and how the person gets the link: by email, or, with no SMTP server, the link itself. The
 * outbox is readable only by a signed-in platform administrator, so the operator at the terminal (who already
 * controls the server) is shown it.
 */
async function reportLink(services: Services, email: string, done: string, next: string): Promise<void> {
  if (!services.accounts.mailer.usesOutbox) {
    process.stdout.write(`${done} The link was emailed to ${email}. ${next}\n`);
    return;
  }
  const message = await services.db.owner.selectFrom('outbox').select('text_body').where('recipient', '=', email).orderBy('created_at', 'desc').executeTakeFirst();
  const link = message?.text_body.match(/https?:\/\/\S+/)?.[0];
  process.stdout.write(`${done} ${next} Open this single-use link:\n${link ?? '(the link is in the outbox table)'}\n`);
}

async function createAdmin(services: Services, emailText: string): Promise<void> {
  const email = emailText.trim().toLowerCase();
  const { created } = await createPlatformAdmin(services.db, email);
  await services.accounts.links.requestPasswordReset(email, undefined, { firstPassword: created });
  await reportLink(services, email, `${created ? 'Created' : 'Promoted'} platform administrator ${email}.`, 'Within 1 hour, set the password with the link, then set up two-factor authentication.');
}

async function invite(services: Services, organisation: string, emailText: string, role: string): Promise<void> {
  if (!(ORGANISATION_ROLES as readonly string[]).includes(role)) throw new UsageError(`--role is "${role}"; use one of ${ORGANISATION_ROLES.join(', ')}.`);
  const email = emailText.trim().toLowerCase();
  await services.tenancy.members.inviteAsPlatform(organisation, email, role);
  await reportLink(services, email, `Invited ${email} to ${organisation} as ${role}.`, 'Within 7 days, accept the invitation with the link.');
}

async function resetTwoFactor(services: Services, emailText: string): Promise<void> {
  const email = emailText.trim().toLowerCase();
  checkEmailArgument(email);
  const userId = await services.db.app.transaction().execute(async (trx) => {
    await setPlatformScope(trx);
    return findUserIdByEmail(trx, email);
  });
  if (userId === null) throw notFound('user_not_found', `No account uses the email address ${email}. Check the address.`);
  await services.tenancy.secondFactor.asPlatform(userId);
  process.stdout.write(`Reset two-factor authentication for ${email}. Their sessions have ended, and they set up an authenticator app again at their next sign-in. We have emailed them.\n`);
}

async function setPlan(services: Services, organisation: string, plan: string, reason: string): Promise<void> {
  const change = await services.tenancy.plans.changePlan(null, { slug: organisation }, plan, reason);
  process.stdout.write(`Moved ${change.organisationName} from the ${PLANS[change.from].name} to the ${PLANS[change.to].name}. ${describePlanChange(change)}\n`);
}

export const adminCommand: Command = {
  name: 'admin',
  usage: USAGE,
  async run(argv) {
    const { positionals, values } = parseArgs({ args: argv, options: { role: { type: 'string' }, reason: { type: 'string' } }, allowPositionals: true });
    const [action, ...rest] = positionals;
    if (values.reason !== undefined && action !== 'set-plan') throw new UsageError('--reason is for the set-plan action.');
    if (values.role !== undefined && action === 'set-plan') throw new UsageError('--role is for the invite action.');
    if (action === 'create-platform-admin') {
      if (rest.length !== 1) throw new UsageError('Give create-platform-admin one email address.');
      if (values.role !== undefined) throw new UsageError('--role is for the invite action.');
    } else if (action === 'invite') {
      if (rest.length !== 2) throw new UsageError('Give invite the organisation slug and one email address.');
    } else if (action === 'reset-two-factor') {
      if (rest.length !== 1) throw new UsageError('Give reset-two-factor one email address.');
      if (values.role !== undefined) throw new UsageError('--role is for the invite action.');
    } else if (action === 'set-plan') {
      if (rest.length !== 2) throw new UsageError('Give set-plan the organisation slug and the plan: community, partner or commercial.');
      if (!(PLAN_IDS as readonly string[]).includes(rest[1]!)) throw new UsageError(`The plan is "${rest[1]}". Use community, partner or commercial.`);
      if (values.reason === undefined || values.reason.trim() === '') throw new UsageError('Give set-plan --reason "…": the reason is emailed to the organisation\'s administrators.');
    } else {
      throw new UsageError(action === undefined ? `Give an action: ${ACTIONS}.` : `Unknown action "${action}"; use ${ACTIONS}.`);
    }
    const services = await openServices();
    try {
      if (action === 'invite') await invite(services, rest[0]!, rest[1]!, values.role ?? 'administrator');
      else if (action === 'reset-two-factor') await resetTwoFactor(services, rest[0]!);
      else if (action === 'set-plan') await setPlan(services, rest[0]!, rest[1]!, values.reason!);
      else await createAdmin(services, rest[0]!);
      return 0;
    } finally {
      await services.db.close();
    }
  },
};
