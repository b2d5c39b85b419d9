// The pretraining report: loss curves (train and validation) against the unigram baseline, learning rate,
// gradient norm and throughput, the final numbers, and generated samples (escaped by @lwz/report: model
// text is untrusted). Takes the run's summary as data; it never imports the training loop.
import { join } from 'node:path';
import { readJsonl, writeFileAtomic } from '@lwz/core';
import { lineChart, renderReport } from '@lwz/report';
import type { PretrainConfig } from './config';

type Row = Record<string, number>;

/** What the report shows besides the metrics file. */
export interface PretrainSummary {
  steps: number;
  valLoss: number;
  unigramEntropy: number;
  samples: { prompt: string; text: string }[];
}

function series(rows: Row[], key: string): [number, number][] {
  return rows.filter((r) => Number.isFinite(r[key])).map((r) => [r.step, r[key]]);
}

export function writePretrainReport(cfg: PretrainConfig, metricsPath: string, result: PretrainSummary): void {
  const rows = readJsonl<Row>(metricsPath).map((r) => r.value);
  const baseline: [number, number][] = rows.length
    ? [
        [rows[0].step, result.unigramEntropy],
        [rows[rows.length - 1].step, result.unigramEntropy],
      ]
    : [];
  const step = { xLabel: 'step' };
  const charts = [
    lineChart({
      ...step,
      title: 'loss (nats/token)',
      yLabel: 'nats/token',
      series: [
        { label: 'train', points: series(rows, 'train/loss'), color: '#1f77b4' },
        { label: 'validation', points: series(rows, 'val/loss'), color: '#d62728' },
        { label: 'unigram entropy', points: baseline, color: '#999', dashed: true },
      ],
    }),
    lineChart({ ...step, title: 'learning rate', series: [{ label: 'lr', points: series(rows, 'train/lr'), color: '#2ca02c' }] }),
    lineChart({
      ...step,
      title: 'gradient norm (before clipping)',
      series: [{ label: 'grad norm', points: series(rows, 'train/grad_norm'), color: '#9467bd' }],
    }),
    lineChart({
      ...step,
      title: 'throughput (tokens/s)',
      series: [{ label: 'tokens/s', points: series(rows, 'perf/tokens_per_s'), color: '#ff7f0e' }],
    }),
  ].join('');
  const facts = {
    run: cfg.name,
    steps: result.steps,
    'tokens per step': cfg.batchSize * cfg.seqLen,
    'final validation loss': result.valLoss.toFixed(4),
    'validation perplexity': Math.exp(result.valLoss).toFixed(2),
    'unigram entropy (train split)': result.unigramEntropy.toFixed(4),
  };
  const samples = result.samples.map((s) => `>>> ${s.prompt}\n${s.prompt}${s.text}`).join('\n\n');
  const html = renderReport(`Pretraining: ${cfg.name}`, facts, [
    { heading: 'Curves', html: charts },
    { heading: 'Samples from the final checkpoint', text: samples },
    { heading: 'Config', text: JSON.stringify(cfg, null, 2), collapsed: true },
  ]);
  writeFileAtomic(join(cfg.out, 'report.html'), html);
}
