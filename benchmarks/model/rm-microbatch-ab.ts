// A/B of train-rm's pair micro-batches (`microBatchTokens`): one Bradley-Terry update (forward + backward, no
// optimizer step) of the default's own batches, whole (one right-padded batch of 2 x pairsPerStep sequences, as
// before) against length-sorted groups of at most N padded tokens, the budgets rotating batch by batch in one
// process so all see the same machine state. Also counts the padded tokens each forwards.
//   npx tsx benchmarks/model/rm-microbatch-ab.ts INIT_CHECKPOINT CORPUS_DIR [batches=24] [budgets=inf,4096,2048,1024]
// e.g. runs/pretrain-tiny dist/data/corpus after the main job (`npx nx run trainer:train`).
import { join } from 'node:path';
import { Rng } from '@lwz/core';
import { documentSentences, readCorpusSplit } from '@lwz/data';
import { rmEndId, rmInputIds } from '@lwz/judges';
import { addValueHead, loadModel } from '@lwz/model';
import { Tokenizer } from '@lwz/tokenizer';
import { checkpointFingerprint, resolveCheckpoint } from '../../apps/trainer/src/checkpoints';
import { resolveRmConfig } from '../../apps/trainer/src/rm/config';
import { CORRUPTIONS } from '../../apps/trainer/src/rm/pairs';
import { bradleyTerryStep, pairMicroBatches } from '../../apps/trainer/src/rm/objective';
import { trainingPairs } from '../../apps/trainer/src/rm/run';

const [init, corpus] = process.argv.slice(2, 4);
if (!init || !corpus) throw new Error('usage: rm-microbatch-ab.ts INIT_CHECKPOINT CORPUS_DIR [batches] [budgets]');
const batches = Number(process.argv[4] ?? 24);
const budgets = (process.argv[5] ?? 'inf,4096,2048,1024').split(',').map((b) => (b === 'inf' ? Infinity : Number(b)));

const dir = resolveCheckpoint(init);
const cfg = resolveRmConfig({ overrides: { init, corpus } });
const tokenizer = Tokenizer.fromFile(join(dir, 'tokenizer.json'));
// "policy" pairs need the start checkpoint's samples; the corpus types alone are what this measures
const types = CORRUPTIONS.filter((t) => t !== 'policy');
const train = documentSentences(readCorpusSplit(cfg.corpus, 'train'));
const { batchAt } = trainingPairs(cfg, train, types, { words: cfg.words, dropShare: cfg.dropShare }, []);
const model = addValueHead(loadModel(dir), new Rng(cfg.seed).split('value-head'));
const endId = rmEndId(tokenizer, model.config.eosTokenId);
const seqsAt = (step: number) =>
  batchAt(step).flatMap((p) => [p.chosen, p.rejected].map((t) => rmInputIds(tokenizer, t, endId, cfg.maxTokens)));

const ms = new Map<number, number[]>(budgets.map((b) => [b, []]));
const padded = new Map<number, number>(budgets.map((b) => [b, 0]));
let text = 0;
bradleyTerryStep(model, seqsAt(batches), endId, cfg.centerCoef); // warm-up: fills the host pool
for (let s = 0; s < batches; s++) {
  const seqs = seqsAt(s);
  text += seqs.reduce((a, x) => a + x.length, 0);
  budgets.forEach((_, i) => {
    const b = budgets[(s + i) % budgets.length]; // rotating order
    for (const g of pairMicroBatches(seqs, b))
      padded.set(b, (padded.get(b) ?? 0) + 2 * g.length * Math.max(...g.flatMap((p) => [seqs[2 * p].length, seqs[2 * p + 1].length])));
    model.zeroGrad();
    const t0 = performance.now();
    bradleyTerryStep(model, seqs, endId, cfg.centerCoef, b);
    ms.get(b)?.push(performance.now() - t0);
  });
}
model.dispose();
const sum = (xs: number[]) => xs.reduce((a, x) => a + x, 0);
const base = sum(ms.get(budgets[0]) ?? []);
console.log(`init ${checkpointFingerprint(dir).slice(0, 12)}, ${batches} batches of ${cfg.pairsPerStep} pairs (${types.join(', ')})`);
console.log('| microBatchTokens | text / padded tokens | total ms | mean ms a step | time ratio vs first |');
console.log('|---|---|---|---|---|');
for (const b of budgets) {
  const t = sum(ms.get(b) ?? []);
  console.log(
    `| ${b} | ${(text / (padded.get(b) ?? 1)).toFixed(3)} | ${t.toFixed(0)} | ${(t / batches).toFixed(0)} | ${(base / t).toFixed(3)}x |`,
  );
}
