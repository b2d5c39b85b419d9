// `lwz-train data prepare --corpus DIR --tokenizer FILE --out DIR [--eot TOKEN]`: a corpus directory and a
// tokenizer.json -> packed token shards (train.bin, val.bin, index.json), written atomically. The Nx target
// `data:prepare` runs it. The work is @lwz/data's prepareShards; this file parses options.
import type { Command } from 'commander';
import { parseConfig, z } from '@lwz/core';
import { DEFAULT_FORMAT_SAMPLES, prepareShards, tokenizerFileHash, type ShardIndex, type FormatSampleReport } from '@lwz/data';
import { Tokenizer } from '@lwz/tokenizer';
import { resolveTokenizerFile } from './tokenize';

const OptionsSchema = z.object({
  corpus: z.string().min(1),
  tokenizer: z.string().min(1),
  out: z.string().min(1),
  eot: z.string().min(1).default('<|endoftext|>'),
  progress: z.boolean().default(false),
  /** share of train tokens that are formatted <think>/<answer> writing samples (0 = none) */
  formatShare: z.coerce.number().min(0).lt(0.5).default(DEFAULT_FORMAT_SAMPLES.share),
  formatDirectShare: z.coerce.number().min(0).max(1).default(DEFAULT_FORMAT_SAMPLES.directShare),
  formatWindow: z.coerce.number().int().min(16).default(DEFAULT_FORMAT_SAMPLES.window),
});
export type DataPrepareOptions = z.input<typeof OptionsSchema>;

export function run(raw: DataPrepareOptions): { index: ShardIndex; seconds: number; formatSamples?: FormatSampleReport } {
  const o = parseConfig(OptionsSchema, raw, 'lwz-train data prepare options', { flags: true });
  const file = resolveTokenizerFile(o.tokenizer);
  const t0 = performance.now();
  let formatSamples: FormatSampleReport | undefined;
  const index = prepareShards({
    corpusDir: o.corpus,
    tokenizer: Tokenizer.fromFile(file),
    tokenizerHash: tokenizerFileHash(file),
    outDir: o.out,
    eotToken: o.eot,
    progress: o.progress,
    formatSamples: { ...DEFAULT_FORMAT_SAMPLES, share: o.formatShare, directShare: o.formatDirectShare, window: o.formatWindow },
    onFormatSamples: (r) => (formatSamples = r),
  });
  return { index, seconds: (performance.now() - t0) / 1000, ...(formatSamples ? { formatSamples } : {}) };
}

export function register(data: Command): void {
  data
    .command('prepare')
    .description('tokenize the cleaned corpus and write packed shards (eot-separated ids + index.json)')
    .requiredOption('--corpus <dir>', 'corpus directory written by `lwz-train data corpus`')
    .requiredOption('--tokenizer <file>', 'tokenizer.json (or a directory holding one)')
    .requiredOption('--out <dir>', 'output directory (replaced atomically; one holding other files than shards is refused)')
    .option('--eot <token>', 'document separator token', '<|endoftext|>')
    .option(
      '--format-share <s>',
      'share of train tokens that are formatted writing samples (generated train prompt, plan, corpus passage of the asked length); 0 = none',
      String(DEFAULT_FORMAT_SAMPLES.share),
    )
    .option('--format-direct-share <s>', 'share of those samples under the direct template', String(DEFAULT_FORMAT_SAMPLES.directShare))
    .option(
      '--format-window <n>',
      'pretraining window length (the pretrain seqLen): each format sample is placed whole inside one window',
      String(DEFAULT_FORMAT_SAMPLES.window),
    )
    .action((o: Omit<DataPrepareOptions, 'progress'>) => {
      const { index, seconds, formatSamples: f } = run({ ...o, progress: true });
      // what the format samples came to: samples longer than a window are left out, and a small corpus gives few
      if (f) {
        const line = `format samples: ${f.kept} of ${f.built} built fit a ${o.formatWindow ?? DEFAULT_FORMAT_SAMPLES.window}-token window, ${(100 * f.achievedShare).toFixed(1)} % of the train tokens (asked ${(100 * f.share).toFixed(1)} %)`;
        console.error(
          f.kept === 0 || f.achievedShare < f.share / 2 ? `warning: ${line}; raise --format-window or give a larger corpus` : line,
        );
      }
      const parts = Object.entries(index.splits).map(([k, s]) => `${k} ${s.tokens} tokens / ${s.docs.length} docs`);
      process.stdout.write(
        `shards -> ${o.out} (${index.dtype}, vocab ${index.vocabSize}, eot ${index.eotId}): ${parts.join(', ')} in ${seconds.toFixed(1)} s\n`,
      );
    });
}
