// Scatter plot (e.g. each answer's length against its reward, or predicted against target length): one dot
// per point, a tooltip per labelled point, an optional y = x reference line. Non-finite points are dropped;
// with nothing left the chart says "no data". Not a density plot: thousands of points draw thousands of dots.
import { escapeHtml } from './escape';
import { colorAt, extent, legendAndAxes, noData, sizeOf, type ChartOptions } from './frame';
import { formatValue } from './format';

export interface ScatterPoint {
  x: number;
  y: number;
  /** shown as the dot's tooltip (escaped) */
  label?: string;
}

export interface ScatterSeries {
  label: string;
  points: readonly ScatterPoint[];
  color?: string;
}

/** The domain widened by 5 % of its span on each side, so the extreme points are not drawn on the plot's border. */
function padded(d: [number, number] | null): [number, number] | null {
  if (!d) return null;
  const m = 0.05 * (d[1] - d[0]);
  return [d[0] - m, d[1] + m];
}

export function scatterPlot(o: ChartOptions & { series: readonly ScatterSeries[]; diagonal?: boolean }): string {
  const size = sizeOf(o);
  const drawn = o.series
    .map((s, i) => ({ s, color: colorAt(i, s.color), pts: s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)) }))
    .filter((d) => d.pts.length > 0);
  const xs = padded(extent(drawn.flatMap((d) => d.pts.map((p) => p.x))));
  const ys = padded(extent(drawn.flatMap((d) => d.pts.map((p) => p.y))));
  if (!xs || !ys) return noData(o, size);
  const entries = drawn.map((d) => ({ label: d.s.label, color: d.color }));
  const { sx, sy, head } = legendAndAxes(o, size, entries, xs, ys);
  const out = [...head];
  if (o.diagonal) {
    const lo = Math.max(xs[0], ys[0]);
    const hi = Math.min(xs[1], ys[1]);
    if (hi > lo) {
      const [a, b] = [`${sx(lo).toFixed(1)},${sy(lo).toFixed(1)}`, `${sx(hi).toFixed(1)},${sy(hi).toFixed(1)}`];
      out.push(`<path d="M${a}L${b}" stroke="#999" stroke-dasharray="4 4" fill="none"/>`);
    }
  }
  for (const { color, pts } of drawn) {
    const c = escapeHtml(color);
    for (const p of pts) {
      const tip = `${p.label !== undefined ? `${p.label}: ` : ''}(${formatValue(p.x)}, ${formatValue(p.y)})`;
      out.push(
        `<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3" fill="${c}" fill-opacity="0.7"><title>${escapeHtml(tip)}</title></circle>`,
      );
    }
  }
  out.push('</svg>');
  return out.join('');
}
