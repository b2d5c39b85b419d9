// `lwz-train data corpus --out DIR [--builtin sotu,moby-dick|none] [--file PATH...] [--val-fraction X] [--seed N]`:
// embedded npm corpora plus users' files -> cleaned documents split by document, written as a corpus
// directory (train.jsonl, val.jsonl, manifest.json) atomically. The Nx target `data:corpus` runs it.
// The work is @lwz/data's buildCorpus/writeCorpus; this file parses options.
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { Command } from 'commander';
import { UserError, parseConfig, z } from '@lwz/core';
import { BUILTIN_CORPORA, DEFAULT_CORPUS_OPTIONS, buildCorpus, writeCorpus, type CorpusManifest } from '@lwz/data';

const builtinList = z.preprocess(
  (v) => (typeof v === 'string' ? (v.trim() === 'none' ? [] : v.split(',').map((s) => s.trim())) : v),
  z.array(z.enum(BUILTIN_CORPORA)),
);

const OptionsSchema = z.object({
  out: z.string().min(1),
  builtin: builtinList.default([...DEFAULT_CORPUS_OPTIONS.builtin]),
  file: z.array(z.string().min(1)).default([]),
  valFraction: z.coerce.number().min(0).lt(1).default(DEFAULT_CORPUS_OPTIONS.valFraction),
  seed: z.coerce.number().int().default(DEFAULT_CORPUS_OPTIONS.seed),
});
export type DataCorpusOptions = z.input<typeof OptionsSchema>;

export function run(raw: DataCorpusOptions): { out: string; manifest: CorpusManifest } {
  const o = parseConfig(OptionsSchema, raw, 'lwz-train data corpus options', { flags: true });
  // an output inside a folder given as --file is read back by the next run as the user's own documents: its train.jsonl
  // and val.jsonl would join the corpus again (the corpus growing every run, held-out documents in train)
  for (const file of o.file) {
    const rel = relative(resolve(file), resolve(o.out));
    if (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel))
      throw new UserError(
        `--out ${o.out} is --file ${file} or lies inside it: the next run would read the corpus it writes back as your documents (every run larger, held-out documents in train); choose an --out outside ${file}`,
      );
  }
  const { split, manifest } = buildCorpus({ builtin: o.builtin, files: o.file, valFraction: o.valFraction, seed: o.seed });
  writeCorpus(o.out, split, manifest);
  return { out: o.out, manifest };
}

export function register(data: Command): void {
  data
    .command('corpus')
    .description('build the cleaned corpus: embedded npm corpora plus your .txt/.md/.jsonl ({"text": ...}) files, split by document')
    .requiredOption('--out <dir>', 'output directory (replaced atomically; one holding other files than the corpus is refused)')
    .option(
      '--builtin <names>',
      `embedded corpora, comma-separated (${BUILTIN_CORPORA.join(', ')}) or none`,
      DEFAULT_CORPUS_OPTIONS.builtin.join(','),
    )
    .option('--file <path...>', 'your own corpus files or folders', [])
    .option('--val-fraction <x>', 'share of documents held out for validation', String(DEFAULT_CORPUS_OPTIONS.valFraction))
    .option('--seed <n>', 'split seed', String(DEFAULT_CORPUS_OPTIONS.seed))
    .action((o: DataCorpusOptions) => {
      const { out, manifest: m } = run(o);
      process.stdout.write(
        `corpus -> ${out}: train ${m.train.documents} docs / ${m.train.words} words, val ${m.val.documents} docs / ${m.val.words} words\n`,
      );
    });
}
