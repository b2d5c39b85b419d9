// Benchmark records (the JSON contract: {suite, name, params, median_ms, throughput, unit} plus device,
// threads, work and baseline) and the Markdown table printed for them. Pure formatting: no timing here.
import type { Params, Work } from './suite-format';

export interface BaselineResult {
  /** baseline name, e.g. "openblas" */
  name: string;
  median_ms: number;
  /** baseline_ms / ours_ms: > 1 means ours is faster; for an in-process baseline, the median of the pairs' ratios */
  ratio: number;
  /** in-process baselines: the (ours, baseline) pairs timed alternately (measure.ts timePaired) */
  pairs?: number;
}

export interface BenchRecord {
  suite: string;
  name: string;
  params: Params;
  median_ms: number;
  throughput: number;
  unit: string;
  device: string;
  threads: number;
  iterations: number;
  smoke: boolean;
  work?: Work;
  extra?: Record<string, number | string>;
  baseline?: BaselineResult;
  /** Markdown a measured case printed under the table */
  details?: string;
}

export interface SkippedCase {
  suite: string;
  name: string;
  params: Params;
  reason: string;
}

const SCALE: Record<Work['unit'], { factor: number; unit: string }> = {
  FLOP: { factor: 1e9, unit: 'GFLOP/s' },
  B: { factor: 1e9, unit: 'GB/s' },
  token: { factor: 1, unit: 'tokens/s' },
};

/** Throughput of `work` done in `medianMs`, in the unit tables use (GFLOP/s, GB/s, tokens/s). */
export function throughputOf(work: Work, medianMs: number): { throughput: number; unit: string } {
  const { factor, unit } = SCALE[work.unit];
  return { throughput: work.amount / (medianMs / 1000) / factor, unit };
}

/** ratio = baseline_ms / ours_ms (> 1: we are faster). */
export function baselineRatio(baselineMs: number, oursMs: number): number {
  if (!(baselineMs > 0) || !(oursMs > 0)) throw new Error(`ratio needs positive times, got ${baselineMs} / ${oursMs}`);
  return baselineMs / oursMs;
}

/** A number with 3-4 significant digits, no exponent for the sizes tables show. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const abs = Math.abs(x);
  if (abs >= 1000) return Math.round(x).toLocaleString('en-US');
  if (abs >= 100) return x.toFixed(1);
  if (abs >= 1) return x.toFixed(2);
  if (abs === 0) return '0';
  return x.toPrecision(3);
}

/** "2.15 GFLOP (2*M*N*K)", "140.0 MB (28*P)", "1,000 tokens (N)". */
export function formatWork(work: Work): string {
  const prefixes: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  if (work.unit === 'token') return `${formatNumber(work.amount)} tokens (${work.formula})`;
  const [scale, prefix] = prefixes.find(([s]) => work.amount >= s) ?? [1, ''];
  return `${formatNumber(work.amount / scale)} ${prefix}${work.unit} (${work.formula})`;
}

export function formatParams(params: Params): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

/** The Markdown table for one run; a baseline column pair appears when any record has a baseline. */
export function markdownTable(records: readonly BenchRecord[], skipped: readonly SkippedCase[] = []): string {
  const baselineName = records.find((r) => r.baseline)?.baseline?.name;
  const head = ['case', 'params', 'work', 'median ms', 'throughput'];
  if (baselineName) head.push(`${baselineName} ms`, `ratio ${baselineName}/ours`);
  head.push('notes');
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of records) {
    const row = [
      r.name,
      formatParams(r.params),
      r.work ? formatWork(r.work) : '',
      formatNumber(r.median_ms),
      `${formatNumber(r.throughput)} ${r.unit}`,
    ];
    if (baselineName) {
      row.push(r.baseline ? formatNumber(r.baseline.median_ms) : '', r.baseline ? `${formatNumber(r.baseline.ratio)}x` : '');
    }
    const extra = Object.entries(r.extra ?? {}).map(([k, v]) => `${k}=${typeof v === 'number' ? formatNumber(v) : v}`);
    row.push(extra.join(', '));
    lines.push(`| ${row.map(cell).join(' | ')} |`);
  }
  for (const s of skipped) {
    const row = [s.name, formatParams(s.params), '', '', ''];
    if (baselineName) row.push('', '');
    row.push(`SKIPPED: ${s.reason}`);
    lines.push(`| ${row.map(cell).join(' | ')} |`);
  }
  return lines.join('\n');
}
