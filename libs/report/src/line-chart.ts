// Multi-series line chart (metrics over steps): linear axes with grid, tick and axis labels, a legend.
// Points with a non-finite coordinate are dropped, a series with no points left is left out (legend too),
// and a chart with nothing to draw says "no data". A one-point series is drawn as a dot.
import { escapeHtml } from './escape';
import { colorAt, extent, legendAndAxes, noData, sizeOf, type ChartOptions } from './frame';

export interface Series {
  label: string;
  /** (x, y) pairs */
  points: readonly (readonly [number, number])[];
  /** CSS colour; default: the next palette colour */
  color?: string;
  /** draw dashed (baselines, reference levels) */
  dashed?: boolean;
}

const finitePoints = (s: Series) => s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));

export function lineChart(o: ChartOptions & { series: readonly Series[] }): string {
  const size = sizeOf(o);
  const drawn = o.series.map((s, i) => ({ s, color: colorAt(i, s.color), pts: finitePoints(s) })).filter((d) => d.pts.length > 0);
  const xs = extent(drawn.flatMap((d) => d.pts.map((p) => p[0])));
  const ys = extent(drawn.flatMap((d) => d.pts.map((p) => p[1])));
  if (!xs || !ys) return noData(o, size);
  const entries = drawn.map((d) => ({ label: d.s.label, color: d.color }));
  const { sx, sy, head } = legendAndAxes(o, size, entries, xs, ys);
  const out = [...head];
  for (const { s, color, pts } of drawn) {
    const c = escapeHtml(color);
    const d = pts.map(([x, y], j) => `${j ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('');
    out.push(`<path d="${d}" fill="none" stroke="${c}" stroke-width="1.6"${s.dashed ? ' stroke-dasharray="5 4"' : ''}/>`);
    if (pts.length === 1) out.push(`<circle cx="${sx(pts[0][0]).toFixed(1)}" cy="${sy(pts[0][1]).toFixed(1)}" r="3" fill="${c}"/>`);
  }
  out.push('</svg>');
  return out.join('');
}
