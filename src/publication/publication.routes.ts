// Brings the OpenAPI route schema keys (tags, summary) into Fastify's schema type.
import type {} from '@fastify/swagger';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ErrorResponse } from '../api-v1/api-v1.schemas.ts';
import { OPTIONAL_TOKEN } from '../api-v1/openapi.ts';
import { AppError } from '../errors.ts';
import type { Services } from '../services.ts';
import { AggregateService } from './aggregate.service.ts';

const Params = Type.Object({ slug: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{1,99}$', description: 'Dataset slug' }) });
type Params = Static<typeof Params>;

const AggregateQuerystring = Type.Object({
  group_by: Type.Optional(Type.String({ maxLength: 200, description: 'Up to two column names, comma-separated; month:COLUMN groups a date column by calendar month' })),
  measure: Type.Optional(Type.String({ maxLength: 200, default: 'count', description: 'count, or sum:COLUMN' })),
  rule: Type.Optional(Type.String({ maxLength: 20, default: 'default', description: 'default (suppress under 10, round to 5) or nhs (suppress 1 to 7, round to 5)' })),
});
type AggregateQuerystring = Static<typeof AggregateQuerystring>;

const PublishedValue = Type.Object({
  value: Type.Union([Type.Number(), Type.Null()], { description: 'The count or sum, rounded; null when suppressed.' }),
  suppressed: Type.Boolean(),
  reason: Type.Optional(Type.Union([Type.Literal('primary'), Type.Literal('secondary')], { description: 'primary for a small number, secondary for a figure that would reveal one.' })),
});
const AggregateCell = Type.Intersect([Type.Object({ group: Type.Record(Type.String(), Type.Union([Type.String(), Type.Null()])) }), PublishedValue]);

const AggregateResult = Type.Object({
  dataset: Type.String(),
  resource_id: Type.String({ format: 'uuid' }),
  version: Type.Integer({ minimum: 1 }),
  group_by: Type.Array(Type.String()),
  measure: Type.String(),
  rule: Type.String(),
  cells: Type.Array(AggregateCell),
  row_totals: Type.Union([Type.Array(AggregateCell), Type.Null()], { description: 'Totals per value of the first group-by column, for two columns.' }),
  column_totals: Type.Union([Type.Array(AggregateCell), Type.Null()], { description: 'Totals per value of the second group-by column, for two columns.' }),
  total: PublishedValue,
});

const VisibilityResult = Type.Object({
  dataset: Type.String(),
  visibility: Type.Union([Type.Literal('open'), Type.Literal('private')]),
  notice: Type.Optional(Type.String({ description: 'Set when the organisation now has more private datasets than its plan allows.' })),
});

const VisibilityBody = Type.Object({ visibility: Type.Union([Type.Literal('open'), Type.Literal('private')]) }, { additionalProperties: false });
type VisibilityBody = Static<typeof VisibilityBody>;

/** Registers the aggregate endpoint with disclosure control, and the gated visibility change. */
export async function publicationRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const aggregates = new AggregateService(services.db, services.logger);

  app.get<{ Params: Params; Querystring: AggregateQuerystring }>(
    '/api/v1/datasets/:slug/aggregate',
    {
      schema: {
        tags: ['Datastore'],
        summary: 'Counts or sums over a dataset, grouped by up to two columns, with small numbers suppressed',
        // Anonymous callers aggregate open datasets; a token with the read scope adds its organisation's private ones.
        security: OPTIONAL_TOKEN,
        params: Params,
        querystring: AggregateQuerystring,
        response: { 200: AggregateResult, 400: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse },
      },
    },
    async (request) => {
      const groupBy = (request.query.group_by ?? '').split(',').map((name) => name.trim()).filter((name) => name.length > 0);
      return aggregates.aggregate(request.auth, request.params.slug, { groupBy, measure: request.query.measure ?? 'count', rule: request.query.rule ?? 'default' });
    },
  );

  app.put<{ Params: Params; Body: VisibilityBody }>(
    '/api/v1/datasets/:slug/visibility',
    {
      schema: {
        tags: ['Datasets'],
        summary: 'Make a dataset open or private; opening is refused with 409 while personal data is found',
        // The handler, not a guard, turns away anonymous callers, so the document states it here.
        security: [{ bearerAuth: [] }],
        params: Params,
        body: VisibilityBody,
        response: { 200: VisibilityResult, 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse },
      },
    },
    async (request) => {
      if (!request.auth) throw new AppError('unauthenticated', 'sign_in_required', 'Sign in, or send an API token in the Authorization header.');
      return services.publication.setVisibility({ kind: 'user', auth: request.auth, requestId: request.id }, request.params.slug, request.body.visibility);
    },
  );
}
