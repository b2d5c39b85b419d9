// Inline SVG line charts for run reports: self-contained (no scripts, no external assets), so a report
// opens offline. Not a plotting library: linear axes, a few series, tick labels at nice round values.

export interface Series {
  label: string;
  points: readonly [number, number][]; // (x, y)
  color: string;
}

const W = 560;
const H = 260;
const PAD = { left: 56, right: 12, top: 24, bottom: 34 };

function niceTicks(lo: number, hi: number, count: number): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(1) : String(Number(v.toPrecision(4)));
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** One chart; empty series are skipped, and a chart with no points says so. */
export function lineChart(title: string, series: readonly Series[], xLabel = 'step'): string {
  const pts = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const head = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeXml(title)}">`;
  const titleEl = `<text x="${PAD.left}" y="16" font-size="13" font-weight="bold">${escapeXml(title)}</text>`;
  if (pts.length === 0) return `${head}${titleEl}<text x="${W / 2}" y="${H / 2}" text-anchor="middle">no data</text></svg>`;
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (const [x, y] of pts) [x0, x1, y0, y1] = [Math.min(x0, x), Math.max(x1, x), Math.min(y0, y), Math.max(y1, y)];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const sx = (x: number) => PAD.left + ((x - x0) / (x1 - x0)) * (W - PAD.left - PAD.right);
  const sy = (y: number) => H - PAD.bottom - ((y - y0) / (y1 - y0)) * (H - PAD.top - PAD.bottom);
  const parts: string[] = [head, titleEl];
  for (const t of niceTicks(y0, y1, 5)) {
    parts.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="#ddd"/>`);
    parts.push(`<text x="${PAD.left - 6}" y="${(sy(t) + 4).toFixed(1)}" font-size="10" text-anchor="end">${fmt(t)}</text>`);
  }
  for (const t of niceTicks(x0, x1, 6)) {
    parts.push(`<text x="${sx(t).toFixed(1)}" y="${H - PAD.bottom + 14}" font-size="10" text-anchor="middle">${fmt(t)}</text>`);
  }
  parts.push(`<text x="${(W + PAD.left) / 2}" y="${H - 4}" font-size="11" text-anchor="middle">${escapeXml(xLabel)}</text>`);
  series.forEach((s, i) => {
    const valid = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (!valid.length) return;
    const d = valid.map(([x, y], j) => `${j ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('');
    parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.6"/>`);
    if (valid.length === 1)
      parts.push(`<circle cx="${sx(valid[0][0]).toFixed(1)}" cy="${sy(valid[0][1]).toFixed(1)}" r="3" fill="${s.color}"/>`);
    parts.push(
      `<text x="${W - PAD.right - 4}" y="${PAD.top + 12 + i * 13}" font-size="11" text-anchor="end" fill="${s.color}">${escapeXml(s.label)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}
