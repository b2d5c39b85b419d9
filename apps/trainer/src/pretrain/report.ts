// The pretraining report: loss curves (train and validation), learning rate and throughput, the final
// numbers beside the unigram baseline, and generated samples (escaped: model text is untrusted).
import { join } from 'node:path';
import { readJsonl, writeFileAtomic } from '@lwz/core';
import { renderReport } from '../report/html';
import { lineChart } from '../report/svg-chart';
import type { PretrainConfig } from './config';
import type { PretrainResult } from './run';

type Row = Record<string, number>;

function series(rows: Row[], key: string): [number, number][] {
  return rows.filter((r) => Number.isFinite(r[key])).map((r) => [r.step, r[key]]);
}

export function writePretrainReport(cfg: PretrainConfig, metricsPath: string, result: PretrainResult): void {
  const rows = readJsonl<Row>(metricsPath).map((r) => r.value);
  const baseline: [number, number][] = rows.length
    ? [
        [rows[0].step, result.unigramEntropy],
        [rows[rows.length - 1].step, result.unigramEntropy],
      ]
    : [];
  const charts = [
    lineChart('loss (nats/token)', [
      { label: 'train', points: series(rows, 'train/loss'), color: '#1f77b4' },
      { label: 'validation', points: series(rows, 'val/loss'), color: '#d62728' },
      { label: 'unigram entropy', points: baseline, color: '#999' },
    ]),
    lineChart('learning rate', [{ label: 'lr', points: series(rows, 'train/lr'), color: '#2ca02c' }]),
    lineChart('gradient norm (before clipping)', [{ label: 'grad norm', points: series(rows, 'train/grad_norm'), color: '#9467bd' }]),
    lineChart('throughput (tokens/s)', [{ label: 'tokens/s', points: series(rows, 'perf/tokens_per_s'), color: '#ff7f0e' }]),
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
    { heading: 'Config', text: JSON.stringify(cfg, null, 2) },
  ]);
  writeFileAtomic(join(cfg.out, 'report.html'), html);
}
