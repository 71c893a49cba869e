// Brings the OpenAPI route schema keys (tags, summary) into Fastify's schema type.
import type {} from '@fastify/swagger';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
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

const VisibilityBody = Type.Object({ visibility: Type.Union([Type.Literal('open'), Type.Literal('private')]) }, { additionalProperties: false });
type VisibilityBody = Static<typeof VisibilityBody>;

/** Registers the aggregate endpoint with disclosure control, and the gated visibility change. */
export async function publicationRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const aggregates = new AggregateService(services.db, services.logger);

  app.get<{ Params: Params; Querystring: AggregateQuerystring }>(
    '/api/v1/datasets/:slug/aggregate',
    {
      schema: {
        tags: ['publication'],
        summary: 'Counts or sums over a dataset, grouped by up to two columns, with small numbers suppressed',
        params: Params,
        querystring: AggregateQuerystring,
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
        tags: ['publication'],
        summary: 'Make a dataset open or private; opening is refused with 409 while personal data is found',
        // The handler, not a guard, turns away anonymous callers, so the document states it here.
        security: [{ bearerAuth: [] }],
        params: Params,
        body: VisibilityBody,
      },
    },
    async (request) => {
      if (!request.auth) throw new AppError('unauthenticated', 'sign_in_required', 'Sign in, or send an API token in the Authorization header.');
      return services.publication.setVisibility({ kind: 'user', auth: request.auth, requestId: request.id }, request.params.slug, request.body.visibility);
    },
  );
}
