// The GRPO report (runs/<name>/report.html, regenerated as training goes): rewards, each reward's share of
// the advantage, lengths, format validity and repetition, policy statistics (clip fraction, KL to the start
// policy, entropy), learning rate, gradient norm, throughput and the time split; sample answers at chosen
// steps; the held-out before/after table when the evaluation has run; the resolved config. All model text is
// escaped by @lwz/report. Reads the metrics file; never imports the loop.
import { join } from 'node:path';
import { readJsonl, writeFileAtomic } from '@lwz/core';
import { details, htmlTable, lineChart, renderReport } from '@lwz/report';
import { bootstrapMeanInterval, mean } from '@lwz/eval';
import type { GrpoConfig } from './config';

type Row = Record<string, number | string | boolean | null> & { step: number };

export interface HeldoutSide {
  label: string;
  /** mean LongBench-Write length score S_l (0-100) */
  sl: number;
  /** 95 % bootstrap interval of that mean over the prompts */
  slLow: number;
  slHigh: number;
  /** S_l of each answer, in the prompts' order (both sides answer the same prompts: the paired difference) */
  slPerAnswer: number[];
  formatValid: number;
  lengthReward: number;
  /** the quality reward as trained on: 0 for a broken format under rewards.formatGate */
  quality: number;
  /** the quality score over the format-valid answers alone (the gate left out; NaN when none is valid) */
  qualityValid: number;
  answerWords: number;
  inRange: number;
  /** share of answers stopped by the token cap (scored on the words they had) */
  truncated: number;
}

export interface HeldoutComparison {
  prompts: number;
  sides: HeldoutSide[];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

function series(rows: Row[], key: string): [number, number][] {
  return rows.filter((r) => typeof r[key] === 'number' && Number.isFinite(r[key])).map((r) => [r.step, r[key] as number]);
}

function chart(rows: Row[], title: string, keys: [string, string][], yLabel?: string): string {
  return lineChart({
    title,
    xLabel: 'step',
    ...(yLabel ? { yLabel } : {}),
    series: keys.map(([label, key], i) => ({ label, points: series(rows, key), color: COLORS[i % COLORS.length] })),
  });
}

/**
 * The last side's S_l minus the first's, prompt by prompt, with a 95 % bootstrap interval over the prompts (null with
 * fewer than two sides or unequal prompt lists).
 */
export function pairedSlDifference(c: HeldoutComparison): { from: string; to: string; mean: number; low: number; high: number } | null {
  const [a, b] = [c.sides[0], c.sides[c.sides.length - 1]];
  if (c.sides.length < 2 || a.slPerAnswer.length !== b.slPerAnswer.length || !a.slPerAnswer.length) return null;
  const diffs = b.slPerAnswer.map((x, i) => x - a.slPerAnswer[i]);
  const [low, high] = bootstrapMeanInterval(diffs, 2000, 0);
  return { from: a.label, to: b.label, mean: mean(diffs), low, high };
}

export function heldoutTable(c: HeldoutComparison): string {
  const d = pairedSlDifference(c);
  const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;
  return htmlTable({
    caption:
      `held-out generated prompts (${c.prompts}, topics never trained on), one answer each; S_l with its 95 % bootstrap interval over the prompts` +
      (d ? `; paired S_l difference ${d.to} - ${d.from}: ${signed(d.mean)} [${signed(d.low)}, ${signed(d.high)}]` : ''),
    columns: [
      'checkpoint',
      'S_l (0-100)',
      'format valid',
      'length reward',
      'in target range',
      'quality reward (gated)',
      'quality, valid answers',
      'truncated at the cap',
      'answer words',
    ],
    rows: c.sides.map((s) => [
      s.label,
      `${s.sl.toFixed(1)} [${s.slLow.toFixed(1)}, ${s.slHigh.toFixed(1)}]`,
      `${(100 * s.formatValid).toFixed(0)} %`,
      s.lengthReward.toFixed(3),
      `${(100 * s.inRange).toFixed(0)} %`,
      s.quality.toFixed(3),
      Number.isFinite(s.qualityValid) ? s.qualityValid.toFixed(3) : '-',
      `${(100 * s.truncated).toFixed(0)} %`,
      s.answerWords.toFixed(0),
    ]),
  });
}

const TREND_KEYS: [string, string][] = [
  ['length reward', 'reward/length/mean'],
  ['format reward', 'reward/format/mean'],
  ['quality reward', 'reward/quality/mean'],
  ['format valid', 'format/valid'],
  ['repetition', 'repetition/rate'],
  ['truncated', 'finish/truncated'],
  ['answer words', 'length/answer_words/mean'],
];

export interface Trend {
  window: number;
  /** per metric key: [mean of the first `window` steps, mean of the last `window` steps] */
  means: Record<string, [number, number]>;
}

/** Means of the learning signals over the first and the last `window` steps (the learnability check). */
export function trend(rows: readonly Record<string, unknown>[], window = 10): Trend {
  const avg = (xs: readonly Record<string, unknown>[], k: string) => {
    const v = xs.map((r) => r[k]).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : Number.NaN;
  };
  const w = Math.min(window, rows.length);
  const head = rows.slice(0, w);
  const tail = rows.slice(rows.length - w);
  return { window: w, means: Object.fromEntries(TREND_KEYS.map(([, k]) => [k, [avg(head, k), avg(tail, k)]])) };
}

export function trendTable(t: Trend): string {
  return htmlTable({
    caption: `batch means over the first and the last ${t.window} steps`,
    columns: ['metric', `first ${t.window}`, `last ${t.window}`],
    // shares and rewards to 3 decimals, word counts to 1
    rows: TREND_KEYS.map(([label, k]) => {
      const digits = k.startsWith('length/') ? 1 : 3;
      return [label, t.means[k][0].toFixed(digits), t.means[k][1].toFixed(digits)];
    }),
  });
}

export function writeGrpoReport(cfg: GrpoConfig, metricsPath: string, origin: string, heldout: HeldoutComparison | null): void {
  const rows = readJsonl<Row>(metricsPath).map((r) => r.value);
  const last = rows[rows.length - 1];
  const charts = [
    chart(rows, 'rewards (batch mean)', [
      ['length', 'reward/length/mean'],
      ['format', 'reward/format/mean'],
      ['quality', 'reward/quality/mean'],
    ]),
    chart(rows, "each reward's share of the advantage", [
      ['length', 'advantage/share/length'],
      ['format', 'advantage/share/format'],
      ['quality', 'advantage/share/quality'],
    ]),
    chart(rows, 'answer length', [
      ['answer words', 'length/answer_words/mean'],
      ['think words', 'length/think_words/mean'],
      ['answer tokens', 'length/answer_tokens/mean'],
      ['think tokens', 'length/think_tokens/mean'],
    ]),
    chart(rows, 'format, repetition, truncation, zero-spread groups', [
      ['format valid', 'format/valid'],
      ['repetition (dup 4-grams)', 'repetition/rate'],
      ['truncated', 'finish/truncated'],
      ['in target range', 'length/in_range'],
      ['zero-spread groups', 'groups/zero_spread/all'],
    ]),
    // entropy (nats, ~4-6 on tiny) has its own chart: on one scale it flattened the clip fraction and the KL to 0
    chart(rows, 'policy drift: clip fraction and KL to the start policy', [
      ['clip fraction', 'policy/clip_frac'],
      ['KL to start', 'policy/kl_start'],
    ]),
    chart(rows, 'policy entropy (nats per token)', [['entropy', 'policy/entropy']]),
    chart(rows, 'learning rate', [['lr', 'train/lr']]),
    chart(rows, 'gradient norm (before clipping)', [['grad norm', 'train/grad_norm']]),
    chart(rows, 'throughput (tokens/s)', [
      ['generation', 'perf/gen_tokens_per_s'],
      ['update', 'perf/update_tokens_per_s'],
    ]),
    chart(
      rows,
      'time split per step',
      [
        ['rollout', 'time/rollout_s'],
        ['reward', 'time/reward_s'],
        ['update', 'time/update_s'],
      ],
      'seconds',
    ),
  ].join('');
  const samples = rows
    .filter((r) => typeof r['sample/response'] === 'string')
    .map((r) =>
      details(
        `step ${r.step}: ${String(r['sample/answer_words'])} words for target ${String(r['sample/target'])}`,
        htmlTable({ columns: ['prompt', 'completion'], rows: [[String(r['sample/prompt']), String(r['sample/response'])]] }),
      ),
    )
    .join('');
  const facts = {
    run: cfg.name,
    steps: `${last?.step ?? 0} / ${cfg.steps}`,
    template: cfg.template,
    prompts: origin,
    'answers per step': `${cfg.prompts.perStep} prompts x G=${cfg.rollout.n}`,
    'quality scorer': cfg.rewards.quality.scorer,
  };
  const sections = [
    ...(heldout ? [{ heading: 'Held-out prompts: base vs RL', html: heldoutTable(heldout) }] : []),
    ...(rows.length ? [{ heading: 'First vs last steps', html: trendTable(trend(rows)) }] : []),
    { heading: 'Curves', html: charts },
    { heading: 'Sample answers (the best-rewarded of the batch at chosen steps)', html: samples || '<p>none yet</p>' },
    { heading: 'Config', text: JSON.stringify(cfg, null, 2), collapsed: true },
  ];
  writeFileAtomic(join(cfg.out, 'report.html'), renderReport(`GRPO: ${cfg.name}`, facts, sections));
}
