import type { CatalogueTables } from '../catalogue/catalogue.tables.ts';

/**
 * Every table Kysely knows, composed from the table types each feature folder declares next to its repository.
 */
export interface DB extends CatalogueTables {}
