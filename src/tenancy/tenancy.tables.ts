import type { ColumnType, Generated } from 'kysely';

export const ORGANISATION_TYPES = ['charity', 'nhs_body', 'police', 'fire', 'school', 'council', 'icb', 'community_group', 'business'] as const;
export type OrganisationType = (typeof ORGANISATION_TYPES)[number];

export const PLAN_IDS = ['community', 'partner', 'commercial'] as const;
export type PlanId = (typeof PLAN_IDS)[number];

export const APPLICATIONS = ['data_workspace', 'exchange', 'publishing', 'partner_wifi'] as const;
export type ApplicationId = (typeof APPLICATIONS)[number];

type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

// The tenancy migration adds these columns to the catalogue's organisations table.
declare module '../catalogue/catalogue.tables.ts' {
  interface OrganisationsTable {
    type: Generated<OrganisationType>;
    charity_number: ColumnType<string | null, string | null | undefined, string | null>;
    scottish_charity_number: ColumnType<string | null, string | null | undefined, string | null>;
    company_number: ColumnType<string | null, string | null | undefined, string | null>;
    ods_code: ColumnType<string | null, string | null | undefined, string | null>;
    school_urn: ColumnType<string | null, string | null | undefined, string | null>;
    /** Lower-case domains whose verified email addresses may sign in through the organisation's single sign-on. */
    email_domains: Generated<string[]>;
    plan: Generated<PlanId>;
    applications: Generated<ApplicationId[]>;
    /** The person who registered the organisation and becomes its first administrator. */
    applicant_user_id: ColumnType<string | null, string | null | undefined, string | null>;
    reviewed_at: NullableTimestamp;
    /** The reviewer's reason, sent to the applicant; kept for the record. */
    review_reason: ColumnType<string | null, string | null | undefined, string | null>;
    closed_at: NullableTimestamp;
  }
}

export interface OrganisationSsoTable {
  organisation_id: string;
  issuer: string;
  client_id: string;
  /** Client secret sealed with a key from the key ring. */
  client_secret_encrypted: string;
  enabled: Generated<boolean>;
  /** Whether a first sign-on with a verified email in the organisation's domains creates a viewer membership. */
  just_in_time: Generated<boolean>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface TenancyTables {
  organisation_sso: OrganisationSsoTable;
}
