// `lwz-train data prompts --out DIR [--seed N] [--train N] [--heldout N] ...`: the RL writing prompts
// (train.jsonl + heldout.jsonl, rows of format lwz-writing, and manifest.json), deterministic by seed,
// written as one directory atomically. The Nx target `data:prompts` runs it. The work is @lwz/data's
// generateWritingPrompts; this file parses options and writes.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { writeJsonlPlain, parseConfig, writeDirAtomic, z } from '@lwz/core';
import { DEFAULT_GENERATOR_OPTIONS as d, DEFAULT_LENGTH_BUDGET as b, generateWritingPrompts, maxAnswerWords } from '@lwz/data';

const count = (def: number) => z.coerce.number().int().nonnegative().default(def);
const positive = (def: number) => z.coerce.number().int().positive().default(def);
const OptionsSchema = z.object({
  out: z.string().min(1),
  seed: z.coerce.number().int().default(d.seed),
  train: count(d.train),
  heldout: count(d.heldout),
  // at least one topic per theme is held out and one kept (splitTopics), so 0 and 1 cannot be honoured
  heldoutTopicFraction: z.coerce
    .number()
    .gt(0, 'must be above 0 (one topic per theme is always held out)')
    .lt(1, 'must be below 1 (one topic per theme always trains)')
    .default(d.heldoutTopicFraction),
  contextTokens: positive(b.contextTokens),
  reservedTokens: count(b.reservedTokens),
  tokensPerWord: z.coerce.number().positive().default(b.tokensPerWord),
  minWords: positive(b.minWords),
});
export type DataPromptsOptions = z.input<typeof OptionsSchema>;

export function run(raw: DataPromptsOptions): { out: string; train: number; heldout: number; maxWords: number } {
  const o = parseConfig(OptionsSchema, raw, 'lwz-train data prompts options', { flags: true });
  const budget = { contextTokens: o.contextTokens, reservedTokens: o.reservedTokens, tokensPerWord: o.tokensPerWord, minWords: o.minWords };
  const options = { seed: o.seed, train: o.train, heldout: o.heldout, heldoutTopicFraction: o.heldoutTopicFraction, budget };
  const maxWords = maxAnswerWords(budget);
  const generated = generateWritingPrompts(options);
  writeDirAtomic(o.out, (tmp) => {
    writeJsonlPlain(join(tmp, 'train.jsonl'), generated.train);
    writeJsonlPlain(join(tmp, 'heldout.jsonl'), generated.heldout);
    writeFileSync(join(tmp, 'manifest.json'), JSON.stringify({ format: 'lwz-writing/1', options, maxWords }, null, 2) + '\n');
  });
  return { out: o.out, train: generated.train.length, heldout: generated.heldout.length, maxWords };
}

export function register(data: Command): void {
  data
    .command('prompts')
    .description('generate writing prompts with explicit length requirements (train + held-out, disjoint topics)')
    .requiredOption(
      '--out <dir>',
      'output directory (replaced atomically; one holding other files is refused): train.jsonl, heldout.jsonl, manifest.json',
    )
    .option('--seed <n>', 'generator seed', String(d.seed))
    .option('--train <n>', 'training prompts', String(d.train))
    .option('--heldout <n>', 'held-out prompts', String(d.heldout))
    .option('--heldout-topic-fraction <x>', "share of each theme's topics held out", String(d.heldoutTopicFraction))
    .option('--context-tokens <n>', 'policy context (prompt + think + answer)', String(b.contextTokens))
    .option('--reserved-tokens <n>', 'tokens kept for prompt, template and think', String(b.reservedTokens))
    .option('--tokens-per-word <x>', 'tokenizer tokens per English word', String(b.tokensPerWord))
    .option('--min-words <n>', 'smallest length requirement', String(b.minWords))
    .action((o: DataPromptsOptions) => {
      const r = run(o);
      process.stdout.write(`prompts -> ${r.out}: ${r.train} train, ${r.heldout} held-out, lengths up to ${r.maxWords} words\n`);
    });
}
