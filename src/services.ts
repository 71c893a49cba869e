import { CatalogueService } from './catalogue/catalogue.service.ts';
import { ingestFunctions } from './catalogue/import.ingest.ts';
import { ImportService } from './catalogue/import.service.ts';
import { buildFilterIndexes, FILTER_INDEX_JOB, filterIndexRequest } from './catalogue/filter-indexes.ts';
import { createAccountServices, type AccountServices } from './accounts/account-services.ts';
import { ApiTokenService } from './accounts/api-token.service.ts';
import { createAuditServices, type AuditServices } from './audit/audit-services.ts';
import { OpenDataService } from './ckan-api/open-data.service.ts';
import type { Config } from './config.ts';
import type { Database } from './db/database.ts';
import type { KeyRing } from './keys/key-ring.ts';
import type { Logger } from './logger.ts';
import { createExchangeServices, type ExchangeServices } from './exchange/exchange.services.ts';
import { createGdprServices, type GdprServices } from './gdpr/gdpr-services.ts';
import { publicationImportCheck } from './publication/publication.check.ts';
import { checkApiTokenLimit, privateDatasetLimitCheck } from './tenancy/plans.ts';
import { createTenancyServices, type TenancyServices } from './tenancy/tenancy-services.ts';
import { PublicationService } from './publication/publication.service.ts';

/**
 * Everything a request handler or command may use. Built once by the composition root (src/main.ts) and passed down,
 * so tests build the same object on a test database instead of mocking modules.
 */
export interface Services {
  tokens: ApiTokenService;
  accounts: AccountServices;
  config: Config;
  logger: Logger;
  db: Database;
  keys: KeyRing;
  openData: OpenDataService;
  audit: AuditServices;
  catalogue: CatalogueService;
  imports: ImportService;
  /** Information sharing agreements, enforced releases, notifications and the job worker. */
  exchange: ExchangeServices;
  publication: PublicationService;
  /** Organisations as tenants: registration and review, plans, members and invitations, single sign-on, export. */
  tenancy: TenancyServices;
  /** Data protection records: correction and erasure notices, DPIAs and dataset retention. */
  gdpr: GdprServices;
}

export interface ServiceInputs {
  config: Config;
  logger: Logger;
  db: Database;
  keys: KeyRing;
}

export function createServices(inputs: ServiceInputs): Services {
  const { config, logger, db, keys } = inputs;
  const tokens = new ApiTokenService(db, keys, checkApiTokenLimit);
  const accounts = createAccountServices(config, db, keys);
  const imports = new ImportService(db, ingestFunctions, logger);
  imports.addCheck(publicationImportCheck(logger));
  imports.addCheck(privateDatasetLimitCheck());
  const tenancy = createTenancyServices(config, logger, db, keys, accounts);
  const publication = new PublicationService(db, logger, ingestFunctions.columnSqlType);
  const exchange = createExchangeServices({ config, db, keys, logger, mailer: accounts.mailer });
  const audit = createAuditServices(db, keys, logger);
  const gdpr = createGdprServices({ db, keys, audit, exchange, logger });
  exchange.worker.register(FILTER_INDEX_JOB, async (job) => {
    const request = filterIndexRequest(job.payload);
    const built = await buildFilterIndexes(db, request);
    logger.info({ resource_id: request.resourceId, indexes: request.columns.length, built }, built ? 'filter indexes built' : 'filter indexes skipped: the version was removed');
  });
  return { config, logger, db, keys, openData: new OpenDataService(db, config), audit, gdpr, tokens, accounts, catalogue: new CatalogueService(db), imports, publication, exchange, tenancy };
}
