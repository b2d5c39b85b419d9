// Number formatting for axis ticks, table cells and chart labels: short, locale-free, and honest about
// magnitude (exponent notation outside [1e-3, 1e4); an axis's ticks share one notation). Not a units library.

/** A compact label: 4 significant digits, exponent notation for very large or small magnitudes. */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? 'inf' : '-inf';
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(1) : String(Number(v.toPrecision(4)));
}

/** About `count` round tick values (1, 2 or 5 times a power of ten apart) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count: number): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  // the same tolerance at both ends: from 1e-4 to 3e-4 the step is 4.9999999999999996e-5 and a bare ceil lost 1e-4
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/**
 * The labels of one axis's ticks, all in one notation: plain while every tick reads plainly (below 1e6, a step of
 * at least 1e-3), else exponent notation with the fewest digits (at least one) that keep the labels apart. Tick by
 * tick, formatValue mixed the two on one axis (6000, 8000, 1.0e+4, 1.2e+4).
 */
export function formatTicks(ticks: readonly number[]): string[] {
  const big = Math.max(0, ...ticks.map(Math.abs));
  const step = ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) : big;
  if (big < 1e6 && (big === 0 || step >= 1e-3)) return ticks.map((t) => String(Number(t.toPrecision(12))));
  let labels: string[] = [];
  for (let digits = 1; digits <= 6; digits++) {
    labels = ticks.map((t) => (t === 0 ? '0' : t.toExponential(digits)));
    if (new Set(labels).size === ticks.length) break;
  }
  return labels;
}
