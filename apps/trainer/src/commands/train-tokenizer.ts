// `lwz-train train-tokenizer --corpus F... --vocab-size N --out DIR`: learns a byte-level BPE (vocabulary N
// including 256 bytes and our special tokens) and writes DIR/tokenizer.json + DIR/tokenizer_config.json, each
// atomically. A corpus path is a corpus directory written by `lwz-train data corpus` (its train documents,
// title + text, as data prepare tokenizes them; the validation split stays unseen), or a user's .txt / .md / .jsonl
// file or folder, read by @lwz/data's rules as `data corpus --file` reads it (cleaned text, hidden entries skipped,
// UTF-8 checked). The Nx target data:tokenizer runs it.
import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import { UserError, parseConfig, writeJsonAtomic, z } from '@lwz/core';
import { DEFAULT_SPECIAL_TOKENS, toTokenizerConfig, toTokenizerJson, trainBpe } from '@lwz/tokenizer';
import { documentText, isCorpusDir, isCorpusFileName, loadUserCorpus, readCorpusSplit } from '@lwz/data';
import { hasWeights } from '@lwz/model';

const OptionsSchema = z.object({
  corpus: z.array(z.string().min(1)).min(1),
  vocabSize: z.coerce
    .number()
    .int()
    .min(256 + DEFAULT_SPECIAL_TOKENS.length),
  out: z.string().min(1),
  minFrequency: z.coerce.number().int().min(1).default(2),
});
export type TrainTokenizerOptions = z.input<typeof OptionsSchema>;

export interface TrainTokenizerResult {
  files: string[];
  vocabSize: number;
  merges: number;
  corpusFiles: number;
}

/** Every corpus file (or data corpus directory) under the given paths, in a stable order. */
export function corpusFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  const visit = (p: string, top: boolean): void => {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new UserError(`--corpus ${p}: no such file or directory`);
    }
    if (st.isDirectory() && isCorpusDir(p)) out.push(p);
    else if (st.isDirectory()) {
      // the folder rules of `data corpus` (@lwz/data): hidden entries skipped, .txt, .md and .jsonl in any case
      for (const name of readdirSync(p).sort())
        if (!name.startsWith('.') && (isCorpusFileName(name) || statSync(join(p, name)).isDirectory())) visit(join(p, name), false);
    } else if (top || isCorpusFileName(basename(p))) out.push(p);
  };
  for (const p of paths) visit(p, true);
  if (out.length === 0) throw new UserError(`--corpus ${paths.join(' ')}: no .txt, .md or .jsonl files found`);
  return out;
}

function* corpusTexts(files: readonly string[]): Generator<string> {
  for (const f of files) {
    // a corpus directory: its train split; a user's file: read as `data corpus` reads it (cleaned, UTF-8 checked), so
    // the tokenizer learns from the text it will encode
    const docs = isCorpusDir(f) ? readCorpusSplit(f, 'train') : loadUserCorpus(f);
    for (const doc of docs) yield documentText(doc);
  }
}

export function run(raw: TrainTokenizerOptions): TrainTokenizerResult {
  const opts = parseConfig(OptionsSchema, raw, 'command-line options', { flags: true });
  // a model checkpoint's tokenizer.json is the one its weights were trained with: replacing it would lose it and leave
  // weights beside a vocabulary they do not embed (a tokenizer directory, or a new one, is rewritten as before)
  if (hasWeights(opts.out))
    throw new UserError(
      `--out ${opts.out} is a model checkpoint: writing a new tokenizer.json there would replace the one its weights were trained with. ` +
        'Give the tokenizer a directory of its own (--out), and copy it into a new checkpoint with `lwz-train init --tokenizer`',
    );
  const files = corpusFiles(opts.corpus);
  const trained = trainBpe(corpusTexts(files), { vocabSize: opts.vocabSize, minFrequency: opts.minFrequency });
  const vocabSize = trained.vocab.length + trained.specialTokens.length;
  if (vocabSize < opts.vocabSize) {
    console.warn(`warning: the corpus supports only ${vocabSize} ids at min frequency ${opts.minFrequency} (asked ${opts.vocabSize})`);
  }
  const written = [join(opts.out, 'tokenizer.json'), join(opts.out, 'tokenizer_config.json')];
  writeJsonAtomic(written[0], toTokenizerJson(trained));
  writeJsonAtomic(written[1], toTokenizerConfig(trained));
  return { files: written, vocabSize, merges: trained.merges.length, corpusFiles: files.length };
}

export function register(program: Command): void {
  program
    .command('train-tokenizer')
    .description('train a byte-level BPE and write tokenizer.json + tokenizer_config.json')
    .requiredOption('--corpus <paths...>', '.txt / .jsonl files, directories of them, or a corpus directory from `lwz-train data corpus`')
    .requiredOption('--vocab-size <n>', 'total ids: 256 bytes + merges + special tokens')
    .requiredOption('--out <dir>', 'output directory')
    .option('--min-frequency <n>', 'never merge pairs seen fewer times', '2')
    .action((o: TrainTokenizerOptions) => {
      const r = run(o);
      console.error(`trained ${r.vocabSize} ids (${r.merges} merges) from ${r.corpusFiles} files -> ${r.files.join(', ')}`);
    });
}
