import type { FastifyInstance } from 'fastify';
import type { Services } from '../services.ts';
import { chartSvg, formatFigure } from './chart-svg.ts';
import { columnProfiles } from './column-profile.ts';
import { chartData, dateFields, groupFields, numericFields, readChartRequest, MAX_GROUPS, MAX_MONTHS, type ChartRequest } from './chart.service.ts';
import { pickVersion, type PortalService } from './portal.service.ts';
import { versionParameter } from './preview.routes.ts';
import type { QueryValues } from './query-params.ts';
import { viewerOf } from './viewer.ts';

const AGGREGATE_WORDS = { sum: 'Total', mean: 'Average', count: 'Number of rows' } as const;

/** Describes a chart in words, for its title, its <desc> and the table caption. */
export function chartTitle(request: ChartRequest): string {
  const measure = request.aggregate === 'count' || !request.value ? AGGREGATE_WORDS.count : `${AGGREGATE_WORDS[request.aggregate]} ${request.value.title}`;
  const by = request.group.kind === 'month' ? `by month of ${request.group.field.title}` : `by ${request.group.field.title}`;
  return `${measure} ${by}`;
}

export async function chartRoutes(app: FastifyInstance, services: Services & { portal: PortalService }): Promise<void> {
  const { portal, db } = services;

  app.get<{ Params: { slug: string }; Querystring: QueryValues }>('/dataset/:slug/chart', async (request, reply) => {
    const viewer = viewerOf(request);
    const dataset = await portal.dataset(viewer, request.params.slug);
    const version = pickVersion(dataset, versionParameter(request.query));
    const profiles = await columnProfiles(db, viewer, version, version.tableSchema.fields);
    const chart = readChartRequest(version, request.query, profiles);
    const data = await chartData(db, viewer, version, chart);
    const title = chartTitle(chart);
    const largest = [...data.points].sort((a, b) => b.value - a.value)[0];
    const description =
      data.points.length === 0
        ? `${title}: there are no rows to chart.`
        : `${chart.type === 'line' ? 'Line' : 'Bar'} chart of ${title.toLowerCase()} for ${data.points.length} ${chart.group.kind === 'month' ? 'months' : 'groups'}. The largest is ${largest!.label || '(blank)'} at ${formatFigure(largest!.value)}.`;
    return reply.page('chart.njk', {
      dataset,
      version,
      chart,
      title,
      data,
      maxGroups: data.timeOrder ? MAX_MONTHS : MAX_GROUPS,
      svg: data.points.length > 0 ? chartSvg(chart.type, data.points, { title, description, id: 'chart' }) : null,
      numeric: numericFields(version),
      groups: groupFields(version),
      dates: dateFields(version),
      groupValue: chart.group.kind === 'month' ? `month:${chart.group.field.name}` : chart.group.field.name,
      versionParam: request.query.version === undefined ? undefined : version.version,
      formatFigure,
      breadcrumbs: [
        { text: 'Home', href: '/' },
        { text: 'Datasets', href: '/datasets' },
        { text: dataset.title, href: `/dataset/${dataset.slug}` },
      ],
    });
  });
}
