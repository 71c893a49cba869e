import { POSTCODE_PATTERN, URI_PATTERN, type TransparencySchema } from './transparency-schema.ts';

// Local authority land (Local Government Transparency Code 2015, part 2): for every land and building asset, its
// Unique Property Reference Number, name, street address, postcode, map coordinates, tenure (freehold or leasehold)
// and whether it is land or a building. Field names are the LGA land template's, as in Trafford Council's register
// (UPRN, PropertyName, StreetName, PostTown, PostCode, GeoX, GeoY, TenureType, HoldingType); source: Local Government
// Association, "Local transparency guidance – publishing land and social housing asset and parking information",
// version 1.4, June 2015.
export const landSchema: TransparencySchema = {
  name: 'land',
  title: 'Local authority land and assets',
  schema: {
    fields: [
      { name: 'OrganisationLabel', title: 'OrganisationLabel', type: 'string', constraints: { required: true } },
      { name: 'OrganisationURI', title: 'OrganisationURI', type: 'string', constraints: { pattern: URI_PATTERN } },
      { name: 'EffectiveDate', title: 'EffectiveDate', type: 'date' },
      { name: 'UPRN', title: 'UPRN', type: 'string', constraints: { pattern: '^[0-9]{1,12}$' } },
      { name: 'AssetCode', title: 'AssetCode', type: 'string' },
      { name: 'PropertyName', title: 'PropertyName', type: 'string', constraints: { required: true } },
      { name: 'StreetNumber', title: 'StreetNumber', type: 'string' },
      { name: 'StreetName', title: 'StreetName', type: 'string' },
      { name: 'PostTown', title: 'PostTown', type: 'string' },
      { name: 'PostCode', title: 'PostCode', type: 'string', constraints: { pattern: POSTCODE_PATTERN } },
      { name: 'CoordinateReferenceSystem', title: 'CoordinateReferenceSystem', type: 'string' },
      { name: 'GeoX', title: 'GeoX', type: 'number' },
      { name: 'GeoY', title: 'GeoY', type: 'number' },
      { name: 'TenureType', title: 'TenureType', type: 'string', constraints: { required: true } },
      { name: 'TenureDetail', title: 'TenureDetail', type: 'string' },
      { name: 'HoldingType', title: 'HoldingType', type: 'string', constraints: { required: true } },
      { name: 'BuildingSize', title: 'BuildingSize', type: 'number', constraints: { minimum: 0 } },
      { name: 'LandArea', title: 'LandArea', type: 'number', constraints: { minimum: 0 } },
    ],
  },
  // Assets are council property, located by postcode; a postcode there identifies a building, not a person.
  expectedPersonalData: [{ kind: 'postcode' }],
};
