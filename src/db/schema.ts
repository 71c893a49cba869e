import type { AccountsTables } from '../accounts/accounts.tables.ts';
import type { AuditTables } from '../audit/audit.tables.ts';
import type { TenancyTables } from '../tenancy/tenancy.tables.ts';
import type { CatalogueTables } from '../catalogue/catalogue.tables.ts';
import type { PublicationTables } from '../publication/publication.tables.ts';

/**
 * Every table Kysely knows, composed from the table types each feature folder declares next to its repository.
 */
export interface DB extends TenancyTables, AccountsTables, AuditTables, CatalogueTables, PublicationTables {}
