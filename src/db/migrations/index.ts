import type { Migration, MigrationProvider } from 'kysely';
import * as foundation from './2026-12-04-01-foundation.ts';
import * as catalogue from './2026-12-04-02-catalogue.ts';
import * as catalogueSearch from './2026-12-04-03-catalogue-search.ts';
import * as accounts from './2026-12-04-04-accounts.ts';
import * as auditLog from './2026-12-04-05-audit-log.ts';
import * as signIn from './2026-12-04-06-sign-in.ts';
import * as tenancy from './2026-12-04-07-tenancy.ts';
import * as auditChain from './2026-12-04-30-audit-chain.ts';
import * as publication from './2026-12-04-40-publication.ts';
import * as agreements from './2026-12-04-45-agreements.ts';
import * as tenancySignOn from './2026-12-04-55-tenancy-sign-on.ts';
import * as resourceFileCompression from './2026-12-04-62-resource-file-compression.ts';
import * as gdprRecords from './2026-12-04-70-gdpr-records.ts';
import * as withholdFlaggedVersions from './2026-12-04-80-withhold-flagged-versions.ts';
import * as auditDetailsAsHashed from './2026-12-05-10-audit-details-as-hashed.ts';
import * as deferredSubjectIndex from './2026-12-05-20-deferred-subject-index.ts';
import * as exchangeApplicationDefault from './2026-12-05-30-exchange-application-default.ts';
import * as tokenCaller from './2026-12-05-40-token-caller.ts';
import * as versionInForceIndex from './2026-12-05-50-version-in-force-index.ts';
import * as disclosureSubjectKey from './2026-12-05-60-disclosure-subject-key.ts';
import * as tokenCallerPlanCache from './2026-12-05-70-token-caller-plan-cache.ts';
import * as releaseContext from './2026-12-05-80-release-context.ts';
import * as sessionSecondFactor from './2026-12-06-10-session-second-factor.ts';
import * as emailLength from './2026-12-06-20-email-length.ts';
import * as discardedDrafts from './2026-12-06-30-discarded-drafts.ts';
import * as sqlReader from './2026-12-06-40-sql-reader.ts';
import * as fileUploads from './2026-12-06-50-file-uploads.ts';

/**
 * Every migration, keyed by its dated name; Kysely applies them in name order. A new migration gets a new dated name
 * and a line here.
 */
const migrations: Record<string, Migration> = {
  '2026-12-04-01-foundation': foundation,
  '2026-12-04-02-catalogue': catalogue,
  '2026-12-04-03-catalogue-search': catalogueSearch,
  '2026-12-04-04-accounts': accounts,
  '2026-12-04-05-audit-log': auditLog,
  '2026-12-04-06-sign-in': signIn,
  '2026-12-04-07-tenancy': tenancy,
  '2026-12-04-30-audit-chain': auditChain,
  '2026-12-04-40-publication': publication,
  '2026-12-04-45-agreements': agreements,
  '2026-12-04-55-tenancy-sign-on': tenancySignOn,
  '2026-12-04-62-resource-file-compression': resourceFileCompression,
  '2026-12-04-70-gdpr-records': gdprRecords,
  '2026-12-04-80-withhold-flagged-versions': withholdFlaggedVersions,
  '2026-12-05-10-audit-details-as-hashed': auditDetailsAsHashed,
  '2026-12-05-20-deferred-subject-index': deferredSubjectIndex,
  '2026-12-05-30-exchange-application-default': exchangeApplicationDefault,
  '2026-12-05-40-token-caller': tokenCaller,
  '2026-12-05-50-version-in-force-index': versionInForceIndex,
  '2026-12-05-60-disclosure-subject-key': disclosureSubjectKey,
  '2026-12-05-70-token-caller-plan-cache': tokenCallerPlanCache,
  '2026-12-05-80-release-context': releaseContext,
  '2026-12-06-10-session-second-factor': sessionSecondFactor,
  '2026-12-06-20-email-length': emailLength,
  '2026-12-06-30-discarded-drafts': discardedDrafts,
  '2026-12-06-40-sql-reader': sqlReader,
  '2026-12-06-50-file-uploads': fileUploads,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
