// The train-rm report: loss and batch/held-out accuracy curves, the held-out accuracy per corruption type
// before and after training, and one held-out pair of each type (escaped by @lwz/report: corpus and policy
// text is untrusted). Takes the run's summary as data; it never imports the training loop.
import { join } from 'node:path';
import { readJsonl, writeFileAtomic } from '@lwz/core';
import { htmlTable, lineChart, renderReport, type Series } from '@lwz/report';
import type { RmConfig } from './config';
import { CORRUPTIONS, type Corruption, type PreferencePair, type RuleBaselines } from './pairs';

type Row = Record<string, number>;

export interface RmAccuracy {
  /** held-out pairwise accuracy over all types (ties count half) */
  all: number;
  /** by corruption type: accuracy and pair count */
  byType: Partial<Record<Corruption, { accuracy: number; pairs: number }>>;
  /** mean raw score of the held-out chosen (real) and rejected texts */
  meanChosen: number;
  meanRejected: number;
}

export interface RmSummary {
  runDir: string;
  steps: number;
  resumedFrom: number | null;
  /** <out>/model: the final Qwen2ForSequenceClassification directory the `builtin-rm` scorer loads */
  checkpoint: string | null;
  before: RmAccuracy | null;
  after: RmAccuracy | null;
  /** the same on a sample of the training pairs (trainSamplePerType per type; null when off) */
  trainSampleBefore: RmAccuracy | null;
  trainSampleAfter: RmAccuracy | null;
}

const series = (rows: Row[], key: string): [number, number][] => rows.filter((r) => Number.isFinite(r[key])).map((r) => [r.step, r[key]]);
const pct = (x: number | undefined) => (x === undefined ? '' : `${(100 * x).toFixed(1)} %`);

export function writeRmReport(
  cfg: RmConfig,
  metricsPath: string,
  s: RmSummary,
  heldout: readonly PreferencePair[],
  rules: RuleBaselines,
): void {
  const rows = readJsonl<Row>(metricsPath).map((r) => r.value);
  const palette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
  // the held-out curves start at step 0 with the accuracy before training (the summary's, not a metrics row)
  const fromStart = (points: [number, number][], before: number | undefined): [number, number][] =>
    before === undefined ? points : [[0, before], ...points];
  const perType: Series[] = CORRUPTIONS.map((t, i) => ({
    label: t,
    points: fromStart(series(rows, `val/accuracy/${t}`), s.before?.byType[t]?.accuracy),
    color: palette[i],
  })).filter((x) => x.points.length);
  const charts = [
    lineChart({
      xLabel: 'step',
      title: 'Bradley-Terry loss',
      series: [{ label: 'train', points: series(rows, 'train/loss'), color: '#1f77b4' }],
    }),
    lineChart({
      xLabel: 'step',
      title: 'pairwise accuracy',
      series: [
        { label: 'train batch', points: series(rows, 'train/accuracy'), color: '#aaa' },
        { label: 'held-out', points: fromStart(series(rows, 'val/accuracy'), s.before?.all), color: '#d62728' },
      ],
    }),
    perType.length ? lineChart({ xLabel: 'step', title: 'held-out accuracy by corruption type', series: perType }) : '',
  ].join('');
  // the training-pair sample's columns only when the run scored one (trainSamplePerType > 0)
  const tb = s.trainSampleBefore;
  const ta = s.trainSampleAfter;
  const withTrain = !!(tb ?? ta);
  const trainCols = (t: Corruption | 'all') => {
    if (!withTrain) return [];
    if (t !== 'all') return [(ta ?? tb)?.byType[t]?.pairs ?? 0, pct(tb?.byType[t]?.accuracy), pct(ta?.byType[t]?.accuracy)];
    const scored = Object.values((ta ?? tb)?.byType ?? {}).reduce((n, v) => n + v.pairs, 0);
    return [scored, pct(tb?.all), pct(ta?.all)];
  };
  // what two rules blind to writing quality score on the same pairs: an RM no better on a type learnt it through them
  const ruleCols = (t: Corruption | 'all') => [pct(rules[t]?.longer), pct(rules[t]?.ending)];
  const table = htmlTable({
    columns: [
      'type',
      'held-out pairs',
      'accuracy before',
      'accuracy after',
      'rule: longer wins',
      'rule: finished ending wins',
      ...(withTrain ? ['training pairs scored', 'training-pair accuracy before', 'training-pair accuracy after'] : []),
    ],
    rows: [
      ...CORRUPTIONS.filter((t) => s.after?.byType[t] ?? s.before?.byType[t]).map((t) => [
        t,
        (s.after?.byType[t] ?? s.before?.byType[t])?.pairs ?? 0,
        pct(s.before?.byType[t]?.accuracy),
        pct(s.after?.byType[t]?.accuracy),
        ...ruleCols(t),
        ...trainCols(t),
      ]),
      ['all', heldout.length, pct(s.before?.all), pct(s.after?.all), ...ruleCols('all'), ...trainCols('all')],
    ],
  });
  const examples = CORRUPTIONS.map((t) => heldout.find((p) => p.type === t))
    .filter((p): p is PreferencePair => !!p)
    .map((p) => `=== ${p.type}: chosen ===\n${p.chosen}\n\n=== ${p.type}: rejected ===\n${p.rejected}`)
    .join('\n\n');
  const facts = {
    run: cfg.name,
    steps: s.steps,
    'pairs per step': cfg.pairsPerStep,
    'held-out accuracy': pct(s.after?.all),
    ...(ta ? { 'training-pair sample accuracy': pct(ta.all) } : {}),
    ...(cfg.distinctPairs > 0 ? { 'distinct training pairs (cycled)': cfg.distinctPairs } : {}),
    'mean score, held-out real / corrupted': s.after ? `${s.after.meanChosen.toFixed(3)} / ${s.after.meanRejected.toFixed(3)}` : '',
    checkpoint: s.checkpoint ?? '',
  };
  const html = renderReport(`Reward model: ${cfg.name}`, facts, [
    { heading: 'Held-out pairwise accuracy', html: table },
    { heading: 'Curves', html: charts },
    { heading: 'One held-out pair per type', text: examples, collapsed: true },
    { heading: 'Config', text: JSON.stringify(cfg, null, 2), collapsed: true },
  ]);
  writeFileAtomic(join(cfg.out, 'report.html'), html);
}
