import { Type, type Static } from '@sinclair/typebox';

/** JSON Schemas of the native API's requests and responses; Fastify validates with them and OpenAPI is built from them. */

const Timestamp = Type.String({ format: 'date-time' });
const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable machine-readable code.' }),
      message: Type.String(),
      fields: Type.Array(Type.Object({ field: Type.String(), message: Type.String() })),
      request_id: Type.String(),
    }),
  },
  { description: 'An error, naming the fields or parameters at fault.' },
);

export const OrganisationSummary = Type.Object({ id: Type.String({ format: 'uuid' }), slug: Type.String(), name: Type.String() });

export const Organisation = Type.Object({
  id: Type.String({ format: 'uuid' }),
  slug: Type.String(),
  name: Type.String(),
  description: Type.String(),
  website: Nullable(Type.String()),
  dataset_count: Type.Integer({ description: 'Datasets of the organisation that the caller can see.' }),
  created_at: Timestamp,
});

export const Resource = Type.Object({
  id: Type.String({ format: 'uuid' }),
  dataset_id: Type.String({ format: 'uuid' }),
  version: Type.Integer({ minimum: 1 }),
  name: Type.String(),
  description: Type.String(),
  format: Type.String(),
  media_type: Type.String(),
  byte_size: Type.Integer(),
  sha256: Type.String(),
  row_count: Type.Integer({ description: 'Exact number of rows in the datastore table.' }),
  created_at: Timestamp,
  download_url: Type.String({ description: 'The original file.' }),
  records_url: Type.String({ description: 'The rows, through GET /api/v1/resources/{id}/records.' }),
});

export const Dataset = Type.Object({
  id: Type.String({ format: 'uuid' }),
  slug: Type.String(),
  title: Type.String(),
  description: Type.String(),
  licence: Type.Object({ id: Type.String(), title: Type.String(), url: Type.String() }),
  tags: Type.Array(Type.String()),
  theme: Nullable(Type.String()),
  update_frequency: Nullable(Type.String()),
  temporal_coverage: Type.Object({ start: Nullable(Type.String({ format: 'date' })), end: Nullable(Type.String({ format: 'date' })) }),
  spatial_coverage: Nullable(Type.String()),
  retention_months: Type.Union([Type.Integer({ description: 'Months after loading that a version is kept, counted from its load. Older versions are removed by the daily retention run, and the dataset is withdrawn when its current version is that old. null keeps every version.' }), Type.Null()]),
  visibility: Type.Union([Type.Literal('open'), Type.Literal('private')]),
  organisation: OrganisationSummary,
  current_resource: Type.Union([Resource, Type.Null()]),
  created_at: Timestamp,
  modified_at: Timestamp,
});

const PageQuery = {
  page: Type.Integer({ minimum: 1, default: 1, description: 'Page number, from 1.' }),
  per_page: Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Items per page, 1 to 100.' }),
};

export const DatasetListQuery = Type.Object(
  {
    ...PageQuery,
    q: Type.Optional(Type.String({ maxLength: 500, description: 'Free text over titles, descriptions, tags and organisation names.' })),
    organisation: Type.Optional(Type.String({ maxLength: 100, description: 'Only datasets of this organisation (slug).' })),
    tag: Type.Optional(Type.String({ maxLength: 100, description: 'Only datasets carrying this tag.' })),
  },
  { additionalProperties: false },
);
export type DatasetListQuery = Static<typeof DatasetListQuery>;

export const DatasetList = Type.Object({ items: Type.Array(Dataset), page: Type.Integer(), per_page: Type.Integer(), total: Type.Integer() });

export const SlugParams = Type.Object({ slug: Type.String({ minLength: 1, maxLength: 100 }) });
export type SlugParams = Static<typeof SlugParams>;

export const ResourceParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
export type ResourceParams = Static<typeof ResourceParams>;

export const VersionList = Type.Object({ items: Type.Array(Resource, { description: 'Every version, newest first.' }) });

export const OrganisationListQuery = Type.Object(PageQuery, { additionalProperties: false });
export type OrganisationListQuery = Static<typeof OrganisationListQuery>;

export const OrganisationList = Type.Object({ items: Type.Array(Organisation), page: Type.Integer(), per_page: Type.Integer(), total: Type.Integer() });

export const RecordsQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 0, maximum: 32000, default: 100, description: 'Rows per page, 0 to 32000.' }),
    offset: Type.Integer({ minimum: 0, default: 0 }),
    filters: Type.Optional(Type.String({ description: 'JSON object of column to value or list of values.' })),
    q: Type.Optional(Type.String({ description: 'Full-text search over the text columns, or a JSON object of column to text.' })),
    fields: Type.Optional(Type.String({ description: 'Columns to return, comma-separated.' })),
    sort: Type.Optional(Type.String({ description: 'Such as "amount desc, _id asc".' })),
    distinct: Type.Optional(Type.Boolean()),
    include_total: Type.Optional(Type.Boolean({ default: true })),
    cursor: Type.Optional(Type.String({ description: 'Continuation token from links.next.' })),
  },
  { additionalProperties: false },
);
export type RecordsQuery = Static<typeof RecordsQuery>;

export const RecordsPage = Type.Object({
  resource_id: Type.String({ format: 'uuid' }),
  fields: Type.Array(
    Type.Object({
      id: Type.String(),
      type: Type.String({ description: 'int, text, numeric, bool, date or timestamp.' }),
      info: Type.Optional(Type.Object({ label: Type.String({ description: 'The exact original header.' }) })),
    }),
  ),
  records: Type.Array(Type.Record(Type.String(), Type.Unknown()), { description: 'Rows with _id in source order from 1.' }),
  total: Type.Optional(Type.Integer({ description: 'Exact number of matching rows.' })),
  limit: Type.Integer(),
  offset: Type.Integer(),
  links: Type.Object({ next: Nullable(Type.String()) }),
});

export const errorResponses = {
  400: ErrorResponse,
  403: ErrorResponse,
  404: ErrorResponse,
};
