// `data:prompts`: generate the RL writing prompts (train.jsonl + heldout.jsonl, rows of format lwz-writing,
// see prompts/generator.ts) deterministically by seed. Run: npx tsx libs/data/src/cli/prompts.ts --help
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { formatJsonl, writeDirAtomic } from '@lwz/core';
import { DEFAULT_GENERATOR_OPTIONS, DEFAULT_LENGTH_BUDGET, generateWritingPrompts, maxAnswerWords } from '../prompts/generator';
import { numberOption, runCli } from './run-cli';

const opt = (flag: string, integer: boolean) => (v: string) => {
  try {
    return numberOption(flag, integer)(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
};
const d = DEFAULT_GENERATOR_OPTIONS;
const b = DEFAULT_LENGTH_BUDGET;

const program = new Command('data-prompts')
  .description('Generate writing prompts with explicit length requirements (train + held-out, disjoint topics)')
  .requiredOption('--out <dir>', 'output directory (replaced atomically): train.jsonl, heldout.jsonl, manifest.json')
  .option('--seed <n>', 'generator seed', opt('--seed', true), d.seed)
  .option('--train <n>', 'training prompts', opt('--train', true), d.train)
  .option('--heldout <n>', 'held-out prompts', opt('--heldout', true), d.heldout)
  .option(
    '--heldout-topic-fraction <x>',
    "share of each theme's topics held out",
    opt('--heldout-topic-fraction', false),
    d.heldoutTopicFraction,
  )
  .option('--context-tokens <n>', 'policy context (prompt + think + answer)', opt('--context-tokens', true), b.contextTokens)
  .option('--reserved-tokens <n>', 'tokens kept for prompt, template and think', opt('--reserved-tokens', true), b.reservedTokens)
  .option('--tokens-per-word <x>', 'tokenizer tokens per English word', opt('--tokens-per-word', false), b.tokensPerWord)
  .option('--min-words <n>', 'smallest length requirement', opt('--min-words', true), b.minWords);

void runCli(() => {
  program.parse();
  const o = program.opts<{
    out: string;
    seed: number;
    train: number;
    heldout: number;
    heldoutTopicFraction: number;
    contextTokens: number;
    reservedTokens: number;
    tokensPerWord: number;
    minWords: number;
  }>();
  const budget = { contextTokens: o.contextTokens, reservedTokens: o.reservedTokens, tokensPerWord: o.tokensPerWord, minWords: o.minWords };
  const options = { seed: o.seed, train: o.train, heldout: o.heldout, heldoutTopicFraction: o.heldoutTopicFraction, budget };
  const maxWords = maxAnswerWords(budget);
  const out = generateWritingPrompts(options);
  writeDirAtomic(o.out, (tmp) => {
    writeFileSync(join(tmp, 'train.jsonl'), formatJsonl(out.train));
    writeFileSync(join(tmp, 'heldout.jsonl'), formatJsonl(out.heldout));
    writeFileSync(join(tmp, 'manifest.json'), JSON.stringify({ format: 'lwz-writing/1', options, maxWords }, null, 2) + '\n');
  });
  process.stdout.write(`prompts -> ${o.out}: ${out.train.length} train, ${out.heldout.length} held-out, lengths up to ${maxWords} words\n`);
});
