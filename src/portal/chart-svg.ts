import type { ChartPoint, ChartType } from './chart.service.ts';

/**
 * Draws charts as SVG on the server, so they show without JavaScript. Each chart has a <title> and <desc> for screen
 * readers, text labels on every bar or point, and GOV.UK colours that contrast with white by more than 4.5:1.
 */
const TEXT = '#0b0c0c';
const BAR = '#1d70b8';
const GRID = '#b1b4b6';
const FONT = 'font-family="arial, sans-serif" font-size="14"';
const WIDTH = 760;

const figures = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 2 });

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function formatFigure(value: number): string {
  return figures.format(value);
}

/** The multiples of a power of ten that an axis may end at. The steps are fine, so little of the plot is left empty. */
const NICE_STEPS = [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10];
/** The multiples of a power of ten that a gap between ticks may be, so every tick label is a short figure. */
const TICK_STEPS = [1, 2, 2.5, 5];

/** Rounds away floating-point noise such as 0.30000000000000004. */
function tidy(value: number): number {
  return Number(value.toPrecision(12));
}

/** Returns the smallest nice number (a multiple in NICE_STEPS of a power of ten) at or above `max`; 1 when `max` is 0 or less. */
export function niceMaximum(max: number): number {
  if (!(max > 0) || !Number.isFinite(max)) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of NICE_STEPS) {
    const candidate = tidy(step * power);
    if (candidate >= max) return candidate;
  }
  return tidy(10 * power);
}

/** Returns the gap between ticks for an axis up to `span`: 3 to 6 equal gaps, each 1, 2, 2.5 or 5 times a power of ten. */
export function tickInterval(span: number): number {
  const nice = niceMaximum(span);
  for (const count of [5, 4, 6, 3]) {
    const gap = nice / count;
    const power = 10 ** Math.floor(Math.log10(gap));
    if (TICK_STEPS.some((step) => Math.abs(step * power - gap) < power * 1e-9)) return tidy(gap);
  }
  return tidy(nice / 4);
}

/** The bounds and tick values of a value axis that includes zero and every value. */
export interface AxisScale {
  minimum: number;
  maximum: number;
  ticks: number[];
}

/**
 * Chooses a value axis for figures from `low` to `high`. The axis starts at zero, or at a multiple of the tick gap
 * below the smallest negative figure, and ends at the smallest nice number at or above the largest figure.
 */
export function axisScale(low: number, high: number): AxisScale {
  const bottom = Number.isFinite(low) ? Math.min(0, low) : 0;
  const top = Number.isFinite(high) ? Math.max(0, high) : 0;
  if (bottom === 0) {
    const maximum = niceMaximum(top);
    const gap = tickInterval(maximum);
    return { minimum: 0, maximum, ticks: tickValues(0, maximum, gap) };
  }
  const gap = tickInterval(top - bottom);
  const minimum = tidy(Math.floor(bottom / gap) * gap);
  const maximum = top === 0 ? 0 : tidy(Math.ceil(top / gap) * gap);
  return { minimum, maximum, ticks: tickValues(minimum, maximum, gap) };
}

/** Axes reaching this far are labelled in compact form ("200m", "1.2bn"), because full figures would not fit the margin. */
const COMPACT_FROM = 10_000_000;
const compactFigures = new Intl.NumberFormat('en-GB', { notation: 'compact', maximumFractionDigits: 2 });

/** Formats a tick label with as many decimal places as the tick gap needs, so 0.0025 is not shown as 0. */
export function formatTick(value: number, scale: AxisScale): string {
  const largest = Math.max(Math.abs(scale.minimum), Math.abs(scale.maximum));
  if (largest >= COMPACT_FROM) return compactFigures.format(value);
  const gap = scale.ticks.length > 1 ? tidy(scale.ticks[1]! - scale.ticks[0]!) : 1;
  const decimals = (gap.toFixed(10).replace(/0+$/, '').split('.')[1] ?? '').length;
  return new Intl.NumberFormat('en-GB', { maximumFractionDigits: decimals }).format(value);
}

function tickValues(minimum: number, maximum: number, gap: number): number[] {
  const count = Math.round((maximum - minimum) / gap);
  return Array.from({ length: count + 1 }, (_, index) => tidy(minimum + index * gap));
}

export interface ChartText {
  /** Short name, read first by screen readers. */
  title: string;
  /** One or two sentences describing what the chart shows. */
  description: string;
  /** Unique per page, for the aria-labelledby references. */
  id: string;
}

function frame(height: number, text: ChartText, body: string): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="civic-chart" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-labelledby="${text.id}-title ${text.id}-desc">`,
    `<title id="${text.id}-title">${escapeXml(text.title)}</title>`,
    `<desc id="${text.id}-desc">${escapeXml(text.description)}</desc>`,
    `<rect x="0" y="0" width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    body,
    '</svg>',
  ].join('\n');
}

/** Horizontal bars, one per group, with the group name on the left and the figure at the end of each bar. */
export function barChartSvg(points: ChartPoint[], text: ChartText): string {
  const labelWidth = 230;
  const valueWidth = 110;
  const rowHeight = 30;
  const top = 10;
  const barArea = WIDTH - labelWidth - valueWidth - 20;
  const maximum = Math.max(0, ...points.map((point) => point.value));
  const minimum = Math.min(0, ...points.map((point) => point.value));
  const span = maximum - minimum || 1;
  const zeroX = labelWidth + ((0 - minimum) / span) * barArea;
  const parts: string[] = [];
  for (const [index, point] of points.entries()) {
    const y = top + index * rowHeight;
    const width = (Math.abs(point.value) / span) * barArea;
    const x = point.value >= 0 ? zeroX : zeroX - width;
    parts.push(
      `<text x="${labelWidth - 10}" y="${y + 19}" text-anchor="end" fill="${TEXT}" ${FONT}>${escapeXml(shorten(point.label || '(blank)', 30))}</text>`,
      `<rect x="${x.toFixed(1)}" y="${y + 4}" width="${Math.max(width, 1).toFixed(1)}" height="${rowHeight - 8}" fill="${BAR}"/>`,
      `<text x="${(Math.max(x + width, zeroX) + 6).toFixed(1)}" y="${y + 19}" fill="${TEXT}" ${FONT}>${escapeXml(formatFigure(point.value))}</text>`,
    );
  }
  const height = top * 2 + Math.max(points.length, 1) * rowHeight;
  parts.push(`<line x1="${zeroX.toFixed(1)}" y1="${top}" x2="${zeroX.toFixed(1)}" y2="${height - top}" stroke="${TEXT}" stroke-width="1"/>`);
  return frame(height, text, parts.join('\n'));
}

/** Draws a line through the points in order, with a labelled value axis and every label under its point. */
export function lineChartSvg(points: ChartPoint[], text: ChartText): string {
  const height = 380;
  const left = 90;
  const right = 30;
  const top = 20;
  const bottom = 90;
  const plotWidth = WIDTH - left - right;
  const plotHeight = height - top - bottom;
  const values = points.map((point) => point.value);
  const scale = axisScale(Math.min(...values), Math.max(...values));
  const { minimum, maximum, ticks } = scale;
  const span = maximum - minimum || 1;
  const xOf = (index: number) => left + (points.length <= 1 ? plotWidth / 2 : (index / (points.length - 1)) * plotWidth);
  const yOf = (value: number) => top + plotHeight - ((value - minimum) / span) * plotHeight;
  const parts: string[] = [];
  for (const value of ticks) {
    const y = yOf(value);
    parts.push(
      `<line x1="${left}" y1="${y.toFixed(1)}" x2="${WIDTH - right}" y2="${y.toFixed(1)}" stroke="${GRID}" stroke-width="1"/>`,
      `<text x="${left - 8}" y="${(y + 5).toFixed(1)}" text-anchor="end" fill="${TEXT}" ${FONT}>${escapeXml(formatTick(value, scale))}</text>`,
    );
  }
  const path = points.map((point, index) => `${index === 0 ? 'M' : 'L'}${xOf(index).toFixed(1)},${yOf(point.value).toFixed(1)}`).join(' ');
  if (points.length > 1) parts.push(`<path d="${path}" fill="none" stroke="${BAR}" stroke-width="3"/>`);
  // Every label is drawn when they fit; with many points, every n-th one, so labels never overlap.
  const every = Math.max(1, Math.ceil(points.length / 12));
  for (const [index, point] of points.entries()) {
    const x = xOf(index);
    parts.push(`<circle cx="${x.toFixed(1)}" cy="${yOf(point.value).toFixed(1)}" r="4" fill="${BAR}"/>`);
    if (index % every === 0 || index === points.length - 1) {
      parts.push(`<text x="${x.toFixed(1)}" y="${height - bottom + 20}" text-anchor="end" transform="rotate(-40 ${x.toFixed(1)} ${height - bottom + 20})" fill="${TEXT}" ${FONT}>${escapeXml(shorten(point.label, 20))}</text>`);
    }
  }
  parts.push(`<line x1="${left}" y1="${top + plotHeight}" x2="${WIDTH - right}" y2="${top + plotHeight}" stroke="${TEXT}" stroke-width="1"/>`);
  return frame(height, text, parts.join('\n'));
}

export function chartSvg(type: ChartType, points: ChartPoint[], text: ChartText): string {
  return type === 'line' ? lineChartSvg(points, text) : barChartSvg(points, text);
}
