// Heatmap of a (rows, cols) matrix, e.g. the arena's win-rate matrix (row model beats column model): one
// coloured cell per entry with its value printed, row labels on the left, column labels on top. A
// sequential scale by default, or a diverging one around `center` (0.5 for win rates). Missing or
// non-finite entries (the diagonal, pairs never judged) are empty grey cells.
import { escapeHtml } from './escape';
import { formatValue } from './format';
import { TITLE_CHAR_PX, extent } from './frame';

export interface HeatmapOptions {
  title: string;
  rowLabels: readonly string[];
  colLabels: readonly string[];
  /** (rows, cols); null or non-finite: no value */
  values: readonly (readonly (number | null)[])[];
  /** colour range (default: the finite values' range) */
  min?: number;
  max?: number;
  /** diverging colours around this value; sequential when absent */
  center?: number;
  /** cell text (default formatValue) */
  format?: (v: number) => string;
  xLabel?: string;
  yLabel?: string;
  /** cell size in pixels (default 44) */
  cell?: number;
}

type Rgb = [number, number, number];
const WHITE: Rgb = [247, 247, 247];
const BLUE: Rgb = [33, 102, 172];
const RED: Rgb = [178, 24, 43];

const mix = (a: Rgb, b: Rgb, t: number): Rgb => [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * t)) as Rgb;

/** Fill colour and whether the text on it should be white. t in [0, 1] along the scale. */
function colour(v: number, lo: number, hi: number, center: number | undefined): { fill: string; dark: boolean } {
  const clamp = (x: number) => Math.min(1, Math.max(0, x));
  let rgb: Rgb;
  let depth: number;
  if (center === undefined) {
    depth = hi > lo ? clamp((v - lo) / (hi - lo)) : 0.5;
    rgb = mix(WHITE, BLUE, depth);
  } else {
    const span = Math.max(hi - center, center - lo) || 1;
    const t = clamp(Math.abs(v - center) / span);
    depth = t;
    rgb = mix(WHITE, v >= center ? BLUE : RED, t);
  }
  return { fill: `rgb(${rgb.join(',')})`, dark: depth > 0.6 };
}

export function heatmap(o: HeatmapOptions): string {
  const rows = o.rowLabels.length;
  const cols = o.colLabels.length;
  if (o.values.length !== rows || o.values.some((r) => r.length !== cols)) {
    throw new Error(`heatmap "${o.title}": values must be ${rows} rows of ${cols} (one per row and column label)`);
  }
  const fmt = o.format ?? formatValue;
  const cell = o.cell ?? 44;
  const left = 16 + Math.min(200, Math.max(0, ...o.rowLabels.map((l) => l.length)) * 6.5) + (o.yLabel ? 18 : 0);
  const top = 30 + Math.min(120, Math.max(0, ...o.colLabels.map((l) => l.length)) * 4.6) + (o.xLabel ? 16 : 0);
  const W = Math.max(left + cols * cell + 16, 16 + o.title.length * TITLE_CHAR_PX); // wide enough for the title
  const H = top + rows * cell + 12;
  const range = extent(o.values.flat().map((v) => v ?? NaN));
  const lo = o.min ?? range?.[0] ?? 0;
  const hi = o.max ?? range?.[1] ?? 1;
  const t = escapeHtml(o.title);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${t}">`,
    `<text x="8" y="17" font-size="13" font-weight="bold">${t}</text>`,
  ];
  if (o.xLabel) out.push(`<text x="${left + (cols * cell) / 2}" y="34" font-size="11" text-anchor="middle">${escapeHtml(o.xLabel)}</text>`);
  if (o.yLabel) {
    const cy = top + (rows * cell) / 2;
    out.push(`<text x="12" y="${cy}" font-size="11" text-anchor="middle" transform="rotate(-90 12 ${cy})">${escapeHtml(o.yLabel)}</text>`);
  }
  o.colLabels.forEach((label, c) => {
    const x = left + c * cell + cell / 2;
    out.push(`<text x="${x}" y="${top - 6}" font-size="10" transform="rotate(-40 ${x} ${top - 6})">${escapeHtml(label)}</text>`);
  });
  o.rowLabels.forEach((label, r) => {
    const y = top + r * cell + cell / 2 + 4;
    out.push(`<text x="${left - 6}" y="${y}" font-size="10" text-anchor="end">${escapeHtml(label)}</text>`);
    for (let c = 0; c < cols; c++) {
      const v = o.values[r][c];
      const x = left + c * cell;
      const yy = top + r * cell;
      const tip = `${o.rowLabels[r]} / ${o.colLabels[c]}: ${v === null || !Number.isFinite(v) ? 'n/a' : fmt(v)}`;
      if (v === null || !Number.isFinite(v)) {
        out.push(
          `<rect x="${x}" y="${yy}" width="${cell}" height="${cell}" fill="#e6e6e6" stroke="#fff"><title>${escapeHtml(tip)}</title></rect>`,
        );
        continue;
      }
      const { fill, dark } = colour(v, lo, hi, o.center);
      out.push(
        `<rect x="${x}" y="${yy}" width="${cell}" height="${cell}" fill="${fill}" stroke="#fff"><title>${escapeHtml(tip)}</title></rect>`,
      );
      out.push(
        `<text x="${x + cell / 2}" y="${yy + cell / 2 + 4}" font-size="10" text-anchor="middle" fill="${dark ? '#fff' : '#222'}">${escapeHtml(fmt(v))}</text>`,
      );
    }
  });
  out.push('</svg>');
  return out.join('');
}
