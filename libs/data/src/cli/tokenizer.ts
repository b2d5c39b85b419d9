// `data:tokenizer`: train the default byte-level BPE (4096 ids by default) on the cleaned corpus's TRAIN
// documents (title + text, as data:prepare tokenizes them) and write tokenizer.json + tokenizer_config.json.
// The training itself is @lwz/tokenizer's trainBpe. Run: npx tsx libs/data/src/cli/tokenizer.ts --help
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { writeDirAtomic } from '@lwz/core';
import { toTokenizerConfig, toTokenizerJson, trainBpe } from '@lwz/tokenizer';
import { readCorpusSplit } from '../corpus/build';
import { documentText } from '../shards/prepare';
import { numberOption, runCli } from './run-cli';

const int = (flag: string) => (v: string) => {
  try {
    return numberOption(flag, true)(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
};

const program = new Command('data-tokenizer')
  .description("Train the default byte-level BPE tokenizer on the corpus's training documents")
  .requiredOption('--corpus <dir>', 'corpus directory written by data:corpus')
  .requiredOption('--out <dir>', 'output directory (replaced atomically): tokenizer.json, tokenizer_config.json')
  .option('--vocab-size <n>', 'total ids: 256 bytes + merges + special tokens', int('--vocab-size'), 4096)
  .option('--min-frequency <n>', 'never merge pairs seen fewer times', int('--min-frequency'), 2);

void runCli(() => {
  program.parse();
  const o = program.opts<{ corpus: string; out: string; vocabSize: number; minFrequency: number }>();
  const texts = readCorpusSplit(o.corpus, 'train').map(documentText);
  const t0 = performance.now();
  const trained = trainBpe(texts, { vocabSize: o.vocabSize, minFrequency: o.minFrequency });
  writeDirAtomic(o.out, (tmp) => {
    writeFileSync(join(tmp, 'tokenizer.json'), JSON.stringify(toTokenizerJson(trained), null, 2) + '\n');
    writeFileSync(join(tmp, 'tokenizer_config.json'), JSON.stringify(toTokenizerConfig(trained), null, 2) + '\n');
  });
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  process.stdout.write(
    `tokenizer -> ${o.out}: ${trained.vocab.length + trained.specialTokens.length} ids (${trained.merges.length} merges) from ${texts.length} documents in ${secs} s\n`,
  );
});
