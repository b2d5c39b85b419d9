// `data:corpus`: embedded corpora and users' files -> cleaned documents split by document, written as a
// corpus directory (train.jsonl, val.jsonl, manifest.json). Run: npx tsx libs/data/src/cli/corpus.ts --help
import { Command, InvalidArgumentError } from 'commander';
import { UserError } from '@lwz/core';
import { BUILTIN_CORPORA, type BuiltinCorpus } from '../corpus/builtin';
import { DEFAULT_CORPUS_OPTIONS, buildCorpus, writeCorpus } from '../corpus/build';
import { numberOption, runCli } from './run-cli';

function builtinList(v: string): BuiltinCorpus[] {
  if (v === 'none') return [];
  const names = v.split(',').map((s) => s.trim());
  for (const n of names) {
    if (!(BUILTIN_CORPORA as readonly string[]).includes(n))
      throw new InvalidArgumentError(`unknown corpus "${n}"; valid: ${BUILTIN_CORPORA.join(', ')}, or none`);
  }
  return names as BuiltinCorpus[];
}

const wrap = (f: (v: string) => number) => (v: string) => {
  try {
    return f(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
};

const program = new Command('data-corpus')
  .description('Build the cleaned corpus: embedded npm corpora plus your .txt/.md/.jsonl ({"text": ...}) files, split by document')
  .requiredOption('--out <dir>', 'output directory (replaced atomically)')
  .option('--builtin <names>', `embedded corpora, comma-separated (${BUILTIN_CORPORA.join(', ')}) or none`, builtinList, [
    ...DEFAULT_CORPUS_OPTIONS.builtin,
  ])
  .option('--file <path...>', 'your own corpus files or folders', [])
  .option(
    '--val-fraction <x>',
    'share of documents held out for validation',
    wrap(numberOption('--val-fraction')),
    DEFAULT_CORPUS_OPTIONS.valFraction,
  )
  .option('--seed <n>', 'split seed', wrap(numberOption('--seed', true)), DEFAULT_CORPUS_OPTIONS.seed);

void runCli(() => {
  program.parse();
  const o = program.opts<{ out: string; builtin: BuiltinCorpus[]; file: string[]; valFraction: number; seed: number }>();
  if (!(o.valFraction >= 0 && o.valFraction < 1)) throw new UserError(`--val-fraction must be in [0, 1), got ${o.valFraction}`);
  const { split, manifest } = buildCorpus({ builtin: o.builtin, files: o.file, valFraction: o.valFraction, seed: o.seed });
  writeCorpus(o.out, split, manifest);
  process.stdout.write(
    `corpus -> ${o.out}: train ${manifest.train.documents} docs / ${manifest.train.words} words, val ${manifest.val.documents} docs / ${manifest.val.words} words\n`,
  );
});
