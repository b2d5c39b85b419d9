// `data:prepare`: a corpus directory + a tokenizer.json -> packed token shards (train.bin, val.bin,
// index.json). Run: npx tsx libs/data/src/cli/prepare.ts --help
import { Command } from 'commander';
import { Tokenizer } from '@lwz/tokenizer';
import { prepareShards, tokenizerFileHash } from '../shards/prepare';
import { runCli } from './run-cli';

const program = new Command('data-prepare')
  .description('Tokenize the cleaned corpus and write packed shards (eot-separated ids + index.json)')
  .requiredOption('--corpus <dir>', 'corpus directory written by data:corpus')
  .requiredOption('--tokenizer <file>', 'tokenizer.json')
  .requiredOption('--out <dir>', 'output directory (replaced atomically)')
  .option('--eot <token>', 'document separator token', '<|endoftext|>');

void runCli(() => {
  program.parse();
  const o = program.opts<{ corpus: string; tokenizer: string; out: string; eot: string }>();
  const tokenizer = Tokenizer.fromFile(o.tokenizer);
  const t0 = performance.now();
  const index = prepareShards({
    corpusDir: o.corpus,
    tokenizer,
    tokenizerHash: tokenizerFileHash(o.tokenizer),
    outDir: o.out,
    eotToken: o.eot,
    progress: true,
  });
  const secs = (performance.now() - t0) / 1000;
  const parts = Object.entries(index.splits).map(([k, s]) => `${k} ${s.tokens} tokens / ${s.docs.length} docs`);
  process.stdout.write(
    `shards -> ${o.out} (${index.dtype}, vocab ${index.vocabSize}, eot ${index.eotId}): ${parts.join(', ')} in ${secs.toFixed(1)} s\n`,
  );
});
