import type { TableSchema } from '../../ingest/table-schema.ts';
import type { ExpectedPersonalData } from '../../privacy/scanner.ts';

/** A built-in Frictionless Table Schema for one Local Government Transparency Code 2015 dataset. */
export interface TransparencySchema {
  name: string;
  title: string;
  schema: TableSchema;
  /** Personal-data kinds the dataset is meant to hold, which the publication gate then does not flag. */
  expectedPersonalData?: ExpectedPersonalData[];
}

/** UK VAT registration number: 9 digits, 12 for a branch, or GD/HA and 3 digits for government bodies and health authorities. */
export const VAT_NUMBER_PATTERN = '^(GB ?)?([0-9]{3} ?[0-9]{4} ?[0-9]{2}( ?[0-9]{3})?|GD[0-9]{3}|HA[0-9]{3})$';

/** A full UK postcode, or an outward code alone (the Code publishes only the outward code for some assets). */
export const POSTCODE_PATTERN = '^[A-Za-z]{1,2}[0-9][A-Za-z0-9]?( ?[0-9][A-Za-z]{2})?$';

/** http or https URI, as the LGA schemas use for OrganisationURI. */
export const URI_PATTERN = '^https?://\\S+$';
