import type { AccountsTables } from '../accounts/accounts.tables.ts';
import type { AgreementsTables } from '../agreements/agreements.tables.ts';
import type { AuditTables } from '../audit/audit.tables.ts';
import type { TenancyTables } from '../tenancy/tenancy.tables.ts';
import type { CatalogueTables } from '../catalogue/catalogue.tables.ts';
import type { ExchangeTables } from '../exchange/exchange.tables.ts';
import type { GdprTables } from '../gdpr/gdpr.tables.ts';
import type { JobsTables } from '../jobs/jobs.tables.ts';
import type { PublicationTables } from '../publication/publication.tables.ts';

/**
 * Every table Kysely knows, composed from the table types each feature folder declares next to its repository.
 */
export interface DB extends TenancyTables, AccountsTables, AgreementsTables, AuditTables, CatalogueTables, ExchangeTables, GdprTables, JobsTables, PublicationTables {}
