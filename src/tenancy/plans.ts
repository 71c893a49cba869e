import type { Kysely } from 'kysely';
import type { ImportCheck } from '../catalogue/import.types.ts';
import type { DB } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import type { ApplicationId, OrganisationType, PlanId } from './tenancy.tables.ts';

export interface PlanLimits {
  /** Memberships plus open invitations. */
  members: number;
  /** Datasets whose visibility is private. */
  privateDatasets: number;
  /** API tokens not yet revoked or expired. */
  apiTokens: number;
}

export interface Plan {
  id: PlanId;
  name: string;
  /** Monthly price in pounds, excluding VAT; 0 for a free plan. */
  monthlyPricePounds: number;
  limits: PlanLimits;
  /** The applications an organisation on this plan may enable. */
  applications: ApplicationId[];
}

export const PLANS: Record<PlanId, Plan> = {
  community: {
    id: 'community',
    name: 'Free community plan',
    monthlyPricePounds: 0,
    limits: { members: 10, privateDatasets: 5, apiTokens: 2 },
    applications: ['data_workspace', 'publishing'],
  },
  partner: {
    id: 'partner',
    name: 'Partner plan',
    monthlyPricePounds: 0,
    limits: { members: 500, privateDatasets: 200, apiTokens: 50 },
    applications: ['data_workspace', 'exchange', 'publishing', 'partner_wifi'],
  },
  commercial: {
    id: 'commercial',
    name: 'Commercial plan',
    monthlyPricePounds: 250,
    limits: { members: 50, privateDatasets: 50, apiTokens: 20 },
    applications: ['data_workspace', 'publishing'],
  },
};

export const APPLICATION_NAMES: Record<ApplicationId, string> = {
  data_workspace: 'Data workspace',
  exchange: 'Secure data exchange',
  publishing: 'Open data publishing',
  partner_wifi: 'Partner Wi-Fi',
};

export const ORGANISATION_TYPE_NAMES: Record<OrganisationType, string> = {
  charity: 'Charity',
  nhs_body: 'NHS body',
  police: 'Police force',
  fire: 'Fire and rescue service',
  school: 'School',
  council: 'Council',
  icb: 'Integrated care board',
  community_group: 'Community group',
  business: 'Business',
};

/** The plan a registration starts on: public-sector partners get the partner plan, businesses the commercial plan. */
export function planForType(type: OrganisationType): PlanId {
  if (type === 'charity' || type === 'community_group') return 'community';
  if (type === 'business') return 'commercial';
  return 'partner';
}

/** The applications a new organisation on `plan` starts with. */
export function defaultApplications(plan: PlanId): ApplicationId[] {
  return plan === 'partner' ? ['data_workspace', 'exchange'] : ['data_workspace'];
}

export type LimitName = keyof PlanLimits;

export const LIMIT_WORDS: Record<LimitName, string> = { members: 'members and open invitations', privateDatasets: 'private datasets', apiTokens: 'active API tokens' };

/** The step that frees a place under each limit. */
const LIMIT_REMEDIES: Record<LimitName, string> = {
  members: 'Remove a member or withdraw an invitation first',
  privateDatasets: 'Make one of your private datasets open first',
  apiTokens: 'Revoke a token you no longer use first',
};

/** The error for a creation that would pass a plan limit, naming the limit, the plan and what frees a place. */
export function planLimitError(plan: Plan, limit: LimitName): AppError {
  return new AppError(
    'conflict',
    'plan_limit_reached',
    `Your organisation has reached the limit of ${plan.limits[limit]} ${LIMIT_WORDS[limit]} on the ${plan.name}. ${LIMIT_REMEDIES[limit]}, or ask a platform administrator to move your organisation to another plan.`,
  );
}

/**
 * The error for a load that asked for open data but must stay private because the file has personal data or small
 * counts, when the organisation already has as many private datasets as its plan allows.
 */
function flaggedPrivateLimitError(plan: Plan): AppError {
  return new AppError(
    'conflict',
    'plan_limit_reached',
    `The file has personal data or small counts, so the dataset would stay private although open was chosen, and your organisation has reached the limit of ${plan.limits.privateDatasets} ${LIMIT_WORDS.privateDatasets} on the ${plan.name}. Remove the personal data or small counts from the file and load it again, make one of your private datasets open first, or ask a platform administrator to move your organisation to another plan.`,
  );
}

async function planOf(trx: Kysely<DB>, organisationId: string): Promise<Plan> {
  const row = await trx.selectFrom('organisations').select('plan').where('id', '=', organisationId).executeTakeFirst();
  if (!row) throw new AppError('not_found', 'organisation_not_found', 'Organisation not found.');
  return PLANS[row.plan];
}

/**
 * Throws `plan_limit_reached` when the organisation already has as many members and open invitations as its plan
 * allows. Runs in a transaction scoped to the organisation.
 */
export async function checkMemberLimit(trx: Kysely<DB>, organisationId: string): Promise<void> {
  const plan = await planOf(trx, organisationId);
  if ((await countMembers(trx, organisationId)) >= plan.limits.members) throw planLimitError(plan, 'members');
}

/** The plan-limit check the API token service runs before creating a token. */
export async function checkApiTokenLimit(trx: Kysely<DB>, organisationId: string): Promise<void> {
  const plan = await planOf(trx, organisationId);
  if ((await countApiTokens(trx, organisationId)) >= plan.limits.apiTokens) throw planLimitError(plan, 'apiTokens');
}

/**
 * An import check that stops a load which would give the organisation more private datasets than its plan allows.
 * Only a dataset becoming private counts: a new version of a dataset that was already private never fails.
 */
export function privateDatasetLimitCheck(): ImportCheck {
  return {
    name: 'private dataset plan limit',
    async run(context) {
      if (context.visibility !== 'private') return;
      const trx = context.db;
      const versions = await trx.selectFrom('resources').select('id').where('dataset_id', '=', context.datasetId).limit(1).execute();
      const dataset = await trx.selectFrom('datasets').select('visibility').where('id', '=', context.datasetId).executeTakeFirstOrThrow();
      const alreadyPrivate = versions.length > 0 && dataset.visibility === 'private';
      if (alreadyPrivate) return;
      const plan = await planOf(trx, context.organisationId);
      const others = await countPrivateDatasets(trx, context.organisationId, context.datasetId);
      if (others < plan.limits.privateDatasets) return;
      // The personal-data and small-count check runs first and keeps a flagged file private whatever was requested.
      const requested = context.options.visibility ?? (versions.length > 0 ? dataset.visibility : 'private');
      throw requested === 'open' ? flaggedPrivateLimitError(plan) : planLimitError(plan, 'privateDatasets');
    },
  };
}

/** Counts the organisation's private datasets, leaving out `exceptDatasetId` when it is given. */
async function countPrivateDatasets(trx: Kysely<DB>, organisationId: string, exceptDatasetId?: string): Promise<number> {
  let query = trx
    .selectFrom('datasets')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('organisation_id', '=', organisationId)
    .where('visibility', '=', 'private');
  if (exceptDatasetId !== undefined) query = query.where('id', '!=', exceptDatasetId);
  const row = await query.executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Returns a notice when the organisation has more private datasets than its plan allows, or null. Taking a dataset
 * out of public view is never refused, because it is how an organisation withdraws data published by mistake. The
 * notice explains that new private datasets are refused until it is back within the limit.
 */
export async function privateDatasetsOverLimit(trx: Kysely<DB>, organisationId: string): Promise<string | null> {
  const plan = await planOf(trx, organisationId);
  const count = await countPrivateDatasets(trx, organisationId);
  if (count <= plan.limits.privateDatasets) return null;
  return `Your organisation now has ${count} private datasets, more than the ${plan.limits.privateDatasets} the ${plan.name} allows. New private datasets will be refused until you open or remove ${count - plan.limits.privateDatasets} of them, or a platform administrator moves your organisation to another plan.`;
}

/** Counts the organisation's memberships and open invitations, which share the member limit. */
async function countMembers(trx: Kysely<DB>, organisationId: string): Promise<number> {
  const members = await trx.selectFrom('memberships').select((eb) => eb.fn.countAll<string>().as('n')).where('organisation_id', '=', organisationId).executeTakeFirstOrThrow();
  const invitations = await trx
    .selectFrom('invitations')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('organisation_id', '=', organisationId)
    .where('accepted_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', new Date())
    .executeTakeFirstOrThrow();
  return Number(members.n) + Number(invitations.n);
}

/** Counts the organisation's API tokens that are neither revoked nor expired. */
async function countApiTokens(trx: Kysely<DB>, organisationId: string): Promise<number> {
  const tokens = await trx
    .selectFrom('api_tokens')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('organisation_id', '=', organisationId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', new Date())
    .executeTakeFirstOrThrow();
  return Number(tokens.n);
}

/** Counts what each plan limit applies to, for checking a move to another plan. */
export async function planUsage(trx: Kysely<DB>, organisationId: string): Promise<PlanLimits> {
  return {
    members: await countMembers(trx, organisationId),
    privateDatasets: await countPrivateDatasets(trx, organisationId),
    apiTokens: await countApiTokens(trx, organisationId),
  };
}

/** Describes the plan's price: "free", or the monthly price excluding VAT. */
export function planPrice(plan: Plan): string {
  return plan.monthlyPricePounds === 0 ? 'free' : `£${plan.monthlyPricePounds} a month excluding VAT`;
}

/** Describes the plan's limits in words, as the organisation page and plan emails show them. */
export function planLimitsText(plan: Plan): string {
  return `${plan.limits.members} ${LIMIT_WORDS.members}, ${plan.limits.privateDatasets} ${LIMIT_WORDS.privateDatasets} and ${plan.limits.apiTokens} ${LIMIT_WORDS.apiTokens}`;
}

