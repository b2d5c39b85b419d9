// The parts every SVG chart shares: the <svg> element with its title, a linear plot area with grid lines,
// tick labels and axis labels, a legend, the "no data" placeholder, and the default colour cycle.
// Internal to the charts; callers use line-chart.ts, scatter-plot.ts, bar-chart.ts and heatmap.ts.
import { escapeHtml } from './escape';
import { formatTicks, niceTicks } from './format';

/** Options every chart takes. All strings are escaped. */
export interface ChartOptions {
  title: string;
  xLabel?: string;
  yLabel?: string;
  /** pixels (default 560 x 280) */
  width?: number;
  height?: number;
}

/** Ten distinguishable colours (the d3 "category10" cycle); series without a colour take the next one. */
export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

export const colorAt = (i: number, given?: string): string => given ?? PALETTE[i % PALETTE.length];

export const PAD = { left: 64, right: 14, top: 28, bottom: 44 };

export interface Size {
  W: number;
  H: number;
}

export function sizeOf(o: ChartOptions): Size {
  return { W: o.width ?? 560, H: o.height ?? 280 };
}

/** Estimated width of a bold 13-pixel title character (DejaVu Sans Bold, as headless Chromium draws it), for fitting titles. */
export const TITLE_CHAR_PX = 8.2;

/**
 * Where the title starts and its font size: over the plot from its left edge when it fits there, else from the
 * chart's left edge, in a smaller font when even that is too narrow, so a long title is never cut off.
 */
export function titleFit(title: string, s: Size): { x: number; fontSize: number } {
  const width = title.length * TITLE_CHAR_PX;
  if (width <= s.W - PAD.left - PAD.right) return { x: PAD.left, fontSize: 13 };
  const room = s.W - 16;
  return { x: 8, fontSize: width <= room ? 13 : Math.max(8, Math.floor((13 * room) / width)) };
}

/** The opening <svg> with an accessible name and the bold title (titleFit). */
export function svgOpen(o: ChartOptions, s: Size): string {
  const t = escapeHtml(o.title);
  const { x, fontSize } = titleFit(o.title, s);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${s.W} ${s.H}" width="${s.W}" height="${s.H}" role="img" aria-label="${t}">` +
    `<text x="${x}" y="17" font-size="${fontSize}" font-weight="bold">${t}</text>`
  );
}

export function noData(o: ChartOptions, s: Size): string {
  return `${svgOpen(o, s)}<text x="${s.W / 2}" y="${s.H / 2}" text-anchor="middle">no data</text></svg>`;
}

/** Linear map of [d0, d1] onto [r0, r1]; a zero-width domain is widened so the map stays finite. */
export function linear(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  if (!(d1 > d0)) [d0, d1] = d1 === d0 ? [d0 - 0.5, d0 + 0.5] : [d1, d0];
  return (v) => r0 + ((v - d0) / (d1 - d0)) * (r1 - r0);
}

/** [min, max] of finite values, or null when there are none. */
export function extent(values: Iterable<number>): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : null;
}

export interface Axes {
  sx: (x: number) => number;
  sy: (y: number) => number;
  parts: string[];
}

/**
 * The value axis of a chart W wide: about five round ticks over [lo, hi] (`sy` maps a value to its y), each a grid
 * line across the plot and a label left of it, the labels in one notation (formatTicks).
 */
export function valueGrid(sy: (v: number) => number, lo: number, hi: number, W: number): string[] {
  const ticks = niceTicks(lo, hi, 5);
  const labels = formatTicks(ticks);
  return ticks.flatMap((t, i) => {
    const py = sy(t).toFixed(1);
    return [
      `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${py}" y2="${py}" stroke="#ddd"/>`,
      `<text x="${PAD.left - 6}" y="${(sy(t) + 4).toFixed(1)}" font-size="10" text-anchor="end">${labels[i]}</text>`,
    ];
  });
}

/**
 * Grid lines, tick labels and axis labels for numeric x and y domains; returns the scales and SVG parts. `top` is
 * the plot area's upper edge (lower than PAD.top when a legend sits above the plot: legendAbove).
 */
export function numericAxes(o: ChartOptions, s: Size, x: [number, number], y: [number, number], top = PAD.top): Axes {
  const [x0, x1] = x[1] > x[0] ? x : [x[0] - 0.5, x[0] + 0.5];
  const [y0, y1] = y[1] > y[0] ? y : [y[0] - 0.5, y[0] + 0.5];
  const sx = linear(x0, x1, PAD.left, s.W - PAD.right);
  const sy = linear(y0, y1, s.H - PAD.bottom, top);
  const parts = valueGrid(sy, y0, y1, s.W);
  const xTicks = niceTicks(x0, x1, 6);
  const xLabels = formatTicks(xTicks);
  xTicks.forEach((t, i) => {
    parts.push(`<text x="${sx(t).toFixed(1)}" y="${s.H - PAD.bottom + 14}" font-size="10" text-anchor="middle">${xLabels[i]}</text>`);
  });
  parts.push(...axisLabels(o, s));
  return { sx, sy, parts };
}

/** The x label under the plot and the y label rotated along the left edge (when given). */
export function axisLabels(o: ChartOptions, s: Size): string[] {
  const parts: string[] = [];
  if (o.xLabel) {
    const cx = (s.W + PAD.left - PAD.right) / 2;
    parts.push(`<text x="${cx}" y="${s.H - 8}" font-size="11" text-anchor="middle">${escapeHtml(o.xLabel)}</text>`);
  }
  if (o.yLabel) {
    const cy = (s.H + PAD.top - PAD.bottom) / 2;
    parts.push(
      `<text x="14" y="${cy}" font-size="11" text-anchor="middle" transform="rotate(-90 14 ${cy})">${escapeHtml(o.yLabel)}</text>`,
    );
  }
  return parts;
}

/** Estimated width in pixels of a legend label (font size 11, sans-serif: about 6.2 px a character at most). */
const LEGEND_CHAR_PX = 6.2;
const LEGEND_GAP_PX = 14;
const LEGEND_ROW_PX = 13;

/**
 * The legend above the plot, under the title, so it never covers a curve: labels in their series' colour, left to
 * right from the plot's left edge, wrapping to a new row before the right edge. Returns the SVG parts and the
 * plot area's top (PAD.top without entries, lower by the rows the legend takes), for numericAxes.
 */
export function legendAbove(entries: readonly { label: string; color: string }[], s: Size): { parts: string[]; top: number } {
  if (entries.length === 0) return { parts: [], top: PAD.top };
  const right = s.W - PAD.right;
  const parts: string[] = [];
  let row = 0;
  let x = PAD.left;
  for (const e of entries) {
    const w = e.label.length * LEGEND_CHAR_PX;
    if (x > PAD.left && x + w > right) {
      row++;
      x = PAD.left;
    }
    const y = PAD.top + 2 + row * LEGEND_ROW_PX;
    parts.push(`<text x="${x.toFixed(1)}" y="${y}" font-size="11" fill="${escapeHtml(e.color)}">${escapeHtml(e.label)}</text>`);
    x += w + LEGEND_GAP_PX;
  }
  return { parts, top: PAD.top + 14 + row * LEGEND_ROW_PX }; // 12 px under the last row's baseline
}

/**
 * The opening of a chart with numeric axes and a legend of its series (line and scatter charts): the <svg> and
 * title, the axes under the legend (legendAbove), the legend; returns the scales and those SVG parts.
 */
export function legendAndAxes(
  o: ChartOptions,
  s: Size,
  entries: readonly { label: string; color: string }[],
  x: [number, number],
  y: [number, number],
): Omit<Axes, 'parts'> & { head: string[] } {
  const key = legendAbove(entries, s);
  const { sx, sy, parts } = numericAxes(o, s, x, y, key.top);
  return { sx, sy, head: [svgOpen(o, s), ...parts, ...key.parts] };
}
