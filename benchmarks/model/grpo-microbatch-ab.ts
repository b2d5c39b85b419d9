// A/B of the GRPO update's micro-batch budget (`microBatchTokens`) on a real rollout batch of the embedded
// default: the start checkpoint answers `prompts` generated writing prompts G = 8 times each (the tiny preset's
// rollout settings, think template), and grpoUpdate (the trainer's own: reference forward for the KL metric, two
// mini-batches, ppo-clip, AdamW) runs on those rows at each budget in turn, rotating, in one process after a warm-up
// update. Advantages are N(0, 1) per row (the update's cost does not depend on them). Prints the median update time
// and the padded tokens each budget forwards with gradients.
//   npx tsx benchmarks/model/grpo-microbatch-ab.ts INIT_CHECKPOINT [rounds=6] [budgets=8192,4096,2048] [prompts=4]
// e.g. runs/pretrain-tiny after the main job (`npx nx run trainer:train`).
import { Rng } from '@lwz/core';
import { EMBEDDED_LENGTH_BUDGET, generateWritingPrompts } from '@lwz/data';
import { defaultDevice, tensor } from '@lwz/kernels';
import { loadModel } from '@lwz/model';
import { AdamW } from '@lwz/optimizer';
import { LocalRollout } from '@lwz/rollout';
import { THINK_TEMPLATE, Tokenizer, renderPromptFor } from '@lwz/tokenizer';
import { join } from 'node:path';
import { resolveCheckpoint } from '../../apps/trainer/src/checkpoints';
import type { TrainRow } from '../../apps/trainer/src/grpo/batch';
import { resolveGrpoConfig } from '../../apps/trainer/src/grpo/config';
import { grpoUpdate } from '../../apps/trainer/src/grpo/update';

const init = process.argv[2];
if (!init) throw new Error('usage: grpo-microbatch-ab.ts INIT_CHECKPOINT [rounds] [budgets] [prompts]');
const rounds = Number(process.argv[3] ?? 6);
const budgets = (process.argv[4] ?? '8192,4096,2048').split(',').map(Number);
const perStep = Number(process.argv[5] ?? 4);

const dir = resolveCheckpoint(init);
const cfg = resolveGrpoConfig({ preset: 'tiny' }); // the rollout, loss and batch settings; the model is INIT_CHECKPOINT
const device = defaultDevice();
const tokenizer = Tokenizer.fromFile(join(dir, 'tokenizer.json'));
const model = loadModel(dir, device);
const ref = loadModel(dir, device);
const { train } = generateWritingPrompts({
  seed: 0,
  train: perStep,
  heldout: 1,
  heldoutTopicFraction: 0.2,
  budget: EMBEDDED_LENGTH_BUDGET,
});
const ids = train.map((p) => tokenizer.encode(renderPromptFor(tokenizer, THINK_TEMPLATE, p.prompt).text, { addSpecialTokens: false }));
const rollout = new LocalRollout(model, tokenizer, { maxBatch: cfg.rollout.maxBatch });
const room = Math.min(...ids.map((x) => model.config.maxPositionEmbeddings - x.length));
const completions = await rollout.generate(
  ids.map((x, k) => ({ ids: x, index: k })),
  {
    n: cfg.rollout.n,
    temperature: cfg.rollout.temperature,
    maxNewTokens: Math.min(cfg.rollout.maxNewTokens, room),
    seed: 0,
    stop: [...THINK_TEMPLATE.stopStrings],
  },
);
const rng = new Rng(3);
const rows: TrainRow[] = completions.flatMap((cs, p) =>
  cs.map((c) => ({ prompt: ids[p], answer: c.tokenIds, advantage: rng.normal(), group: p, logprobs: c.logprobs })),
);
const lengths = rows.map((r) => r.prompt.length + r.answer.length).sort((a, b) => a - b);
const named = model.trainableParams().map((p) => {
  p.grad ??= tensor(new Float32Array(p.value.size), p.shape, { device });
  return { name: p.name, param: p.value, grad: p.grad };
});
const opt = new AdamW(named, {});
const update = (microBatchTokens: number) =>
  grpoUpdate({
    model,
    ref,
    optimizer: opt,
    grads: named.map((p) => p.grad),
    rows,
    loss: cfg.loss,
    ppoEpochs: cfg.ppoEpochs,
    miniBatches: cfg.miniBatches,
    microBatchTokens,
    recomputeOld: false,
    gradClip: 1,
    lr: 1e-6,
    rng: new Rng(5),
  });
update(budgets[0]); // warm-up: fills the host pool
const ms = new Map<number, number[]>(budgets.map((b) => [b, []]));
const padded = new Map<number, number>();
for (let r = 0; r < rounds; r++)
  budgets.forEach((_, i) => {
    const b = budgets[(r + i) % budgets.length];
    const t0 = performance.now();
    const u = update(b);
    ms.get(b)?.push(performance.now() - t0);
    padded.set(b, u.tokens);
  });
await rollout.close(); // disposes the policy it generated with
ref.dispose();
opt.dispose();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(ms.get(budgets[0]) ?? []);
const text = lengths.reduce((a, n) => a + n, 0);
console.log(
  `${rows.length} rows, lengths ${lengths[0]}-${lengths[lengths.length - 1]} (median ${lengths[lengths.length >> 1]}), ${text} tokens; ${rounds} rounds`,
);
console.log('| microBatchTokens | padded tokens with gradients | text / padded | median update ms | time ratio vs first |');
console.log('|---|---|---|---|---|');
for (const b of budgets) {
  const m = median(ms.get(b) ?? []);
  console.log(`| ${b} | ${padded.get(b)} | ${(text / (padded.get(b) ?? 1)).toFixed(3)} | ${m.toFixed(0)} | ${(base / m).toFixed(3)}x |`);
}
