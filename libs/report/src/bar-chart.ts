// Vertical bar chart over named categories (e.g. each model's arena rating with its confidence interval):
// the value axis always includes 0, bars grow up or down from it, optional [low, high] whiskers, the
// value printed on each bar. A bar whose value is not finite is left out; with none left: "no data".
import { escapeHtml } from './escape';
import { PAD, axisLabels, colorAt, extent, linear, noData, sizeOf, svgOpen, valueGrid, type ChartOptions } from './frame';
import { formatValue } from './format';

export interface Bar {
  label: string;
  value: number;
  /** interval drawn as a whisker (both ends needed) */
  low?: number;
  high?: number;
  color?: string;
}

export function barChart(o: ChartOptions & { bars: readonly Bar[] }): string {
  const size = sizeOf(o);
  const { W, H } = size;
  const bars = o.bars.filter((b) => Number.isFinite(b.value));
  const whisker = (b: Bar) => (Number.isFinite(b.low) && Number.isFinite(b.high) ? [b.low as number, b.high as number] : []);
  const ys = extent([0, ...bars.flatMap((b) => [b.value, ...whisker(b)])]);
  if (!bars.length || !ys) return noData(o, size);
  const sy = linear(ys[0], ys[1], H - PAD.bottom, PAD.top);
  const slot = (W - PAD.left - PAD.right) / bars.length;
  const out = [svgOpen(o, size)];
  out.push(...valueGrid(sy, ys[0], ys[1], W));
  const zero = sy(0);
  const rotate = bars.length > 6;
  bars.forEach((b, i) => {
    const x = PAD.left + i * slot + slot * 0.15;
    const w = slot * 0.7;
    const top = Math.min(zero, sy(b.value));
    const c = escapeHtml(colorAt(i, b.color));
    const label = escapeHtml(b.label);
    out.push(
      `<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${w.toFixed(1)}" height="${Math.abs(sy(b.value) - zero).toFixed(1)}" fill="${c}"><title>${label}: ${formatValue(b.value)}</title></rect>`,
    );
    const [lo, hi] = whisker(b);
    if (lo !== undefined) {
      const cx = (x + w / 2).toFixed(1);
      out.push(`<path d="M${cx},${sy(lo).toFixed(1)}L${cx},${sy(hi).toFixed(1)}" stroke="#333" stroke-width="1.2"/>`);
    }
    // the value over the bar, on a white halo so a whisker through it does not cross the digits
    out.push(
      `<text x="${(x + w / 2).toFixed(1)}" y="${(top - 3).toFixed(1)}" font-size="10" text-anchor="middle" paint-order="stroke" stroke="#fff" stroke-width="3" stroke-linejoin="round">${formatValue(b.value)}</text>`,
    );
    const ly = H - PAD.bottom + 14;
    const lx = (x + w / 2).toFixed(1);
    out.push(
      rotate
        ? `<text x="${lx}" y="${ly}" font-size="10" text-anchor="end" transform="rotate(-30 ${lx} ${ly})">${label}</text>`
        : `<text x="${lx}" y="${ly}" font-size="10" text-anchor="middle">${label}</text>`,
    );
  });
  out.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${zero.toFixed(1)}" y2="${zero.toFixed(1)}" stroke="#555"/>`);
  out.push(...axisLabels(o, size), '</svg>');
  return out.join('');
}
