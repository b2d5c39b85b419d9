// The model never touches host memory to compute or move data: on a device whose tensors have no host view
// (@lwz/kernels/testing's hostless device, running the ref kernels) the grad forward with entropy and last
// logits in 3-row vocabulary chunks, backward with recomputation, zeroGrad, KV-cache decoding with row
// selection, and LoRA (enable, train, merge) all work and give exactly the ref device's numbers.
import { Rng } from '@lwz/core';
import { tensor, toDevice, type Device } from '@lwz/kernels';
import { withHostlessDevice } from '@lwz/kernels/testing';
import { KvCache, decodeStep } from './kv-cache';
import { enableLora, mergeLora } from './lora';
import { Qwen2Model } from './model';
import { ParamStore } from './params';
import type { ModelRuntimeInput } from './runtime';
import { padBatch, randomIds, randomModel, VARIANTS } from './testing/fixtures';

const cfg = VARIANTS[0][1];
const runtime: ModelRuntimeInput = { recompute: true, logitBudget: 3 * cfg.vocabSize };

/** The same weights as randomModel(cfg, 4) on `device`. */
function modelOn(device: Device): Qwen2Model {
  const base = randomModel(cfg, 4, 'ref', 0.3);
  const values = new Map(base.store.params.map((p) => [p.name, toDevice(p.value, device)]));
  return new Qwen2Model(new ParamStore(cfg, device, values), runtime);
}

const host = (t: { toHost(): ArrayLike<number> } | null | undefined): number[] => Array.from(t?.toHost() ?? []);

/** Everything the model does, returning host copies of every result. */
function exercise(device: Device): number[][] {
  const rng = new Rng(8);
  const seqs = [randomIds(rng, 7, cfg.vocabSize), randomIds(rng, 4, cfg.vocabSize)];
  const batch = padBatch(seqs, device);
  const w = tensor(
    Float32Array.from({ length: 2 * batch.T }, () => rng.normal()),
    [2, batch.T],
    { device },
  );
  const model = modelOn(device);
  const results: number[][] = [];
  const step = () => {
    const { logprobs, entropy } = model.forwardLogprobs(batch, { grad: true, entropy: true, lastLogits: true });
    results.push(host(logprobs), host(entropy), host(model.lastLogits));
    model.backward(w);
  };
  step();
  model.zeroGrad();
  step();
  results.push(...model.store.params.map((p) => host(p.grad)));
  let cache = new KvCache(model, 2, 12);
  const ids = (rows: number[][], T: number) =>
    tensor(Int32Array.from(rows.flatMap((r) => [...r, ...new Array(T - r.length).fill(0)])), [rows.length, T], { device, dtype: 'i32' });
  results.push(host(decodeStep(model, cache, ids([seqs[0].slice(0, 5), seqs[1].slice(0, 3)], 5), [5, 3])));
  cache = cache.select([1, -1, 0]);
  results.push(host(decodeStep(model, cache, ids([[3], [7, 8], []], 2), [1, 2, 0])));
  cache.dispose();
  enableLora(model, { rank: 2, alpha: 4, targets: ['q', 'v', 'down'] }, new Rng(1));
  model.forwardLogprobs(batch, { grad: true });
  model.backward(w);
  results.push(...(model.loraState?.params ?? []).map((p) => host(p.grad)));
  mergeLora(model);
  results.push(host(model.forwardLogprobs(batch).logprobs));
  return results;
}

it('runs on a device without host memory and matches the ref device exactly', () => {
  const want = exercise('ref');
  const got = withHostlessDevice((device) => exercise(device));
  expect(got).toHaveLength(want.length);
  got.forEach((g, i) => expect(g).toEqual(want[i]));
  expect(want[0].some((v) => v !== 0)).toBe(true);
});
