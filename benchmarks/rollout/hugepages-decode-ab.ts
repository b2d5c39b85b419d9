// Standalone: `npx tsx benchmarks/rollout/hugepages-decode-ab.ts [model] [rounds] [steps]`. Batch-1 decode with
// the weights on 2 MiB against 4 KiB pages in one process (#10): the model as loadModel gives it (its weights
// on huge pages while LWZ_HUGEPAGES is not 0) and a copy of it whose weights sit in one buffer that was never
// marked (pagedF32(.., false); q/k/v and gate/up back to back, so ParamStore keeps them in place), each with
// its own KV cache, timed in alternating blocks of `steps` decode steps (ABBA per round). Prints the median
// ms per step of each and the median of the per-round ratios 4 KiB / 2 MiB (above 1: huge pages faster).
// Everything but the weights (activations, KV cache, scratch) is allocated alike for both.
import { nativeCpuDetails, pagedF32, tensor, type Tensor } from '@lwz/kernels';
import { KvCache, ParamStore, Qwen2Model, decodeStep, loadModel } from '@lwz/model';
import { benchCheckpoint, benchPrompt } from './models';
import { alternate, median } from './timing';

const name = process.argv[2] ?? 'qwen2-100m';
const rounds = Number(process.argv[3] ?? 9);
const steps = Number(process.argv[4] ?? 4);
const ck = benchCheckpoint(name);
const huge = loadModel(ck.dir);

/** The same weights in one unmarked buffer: each back-to-back group (and every other tensor) 64-byte aligned. */
function unmarkedCopy(m: Qwen2Model): Qwen2Model {
  const params = m.store.params;
  const groups: string[][] = [];
  const grouped = new Set<string>();
  for (let l = 0; l < m.config.numLayers; l++) {
    const p = `model.layers.${l}`;
    for (const g of [
      ['q', 'k', 'v'].map((x) => `${p}.self_attn.${x}_proj.weight`),
      ['q', 'k', 'v'].map((x) => `${p}.self_attn.${x}_proj.bias`),
      [`${p}.mlp.gate_proj.weight`, `${p}.mlp.up_proj.weight`],
    ]) {
      if (g.every((n) => m.store.has(n))) {
        groups.push(g);
        g.forEach((n) => grouped.add(n));
      }
    }
  }
  for (const p of params) if (!grouped.has(p.name)) groups.push([p.name]);
  const size = (n: string) => m.store.get(n).value.size;
  const total = groups.reduce((at, g) => Math.ceil((at + g.reduce((s, n) => s + size(n), 0)) / 16) * 16, 0);
  const array = pagedF32(total, false);
  if (!array) throw new Error('the native addon is not built (npx nx run kernels:build-native)');
  const buffer = tensor(array, [total]);
  const values = new Map<string, Tensor>();
  let at = 0;
  for (const g of groups) {
    for (const n of g) {
      const src = m.store.get(n).value;
      const view = buffer.view(at, src.shape);
      view.f32.set(src.f32);
      values.set(n, view);
      at += src.size;
    }
    at = Math.ceil(at / 16) * 16;
  }
  return new Qwen2Model(new ParamStore(m.config, m.device, values));
}

const small = unmarkedCopy(huge);
const capacity = 32 + (rounds + 1) * steps + 8;
const ids = (xs: number[], T: number) => tensor(Int32Array.from(xs), [1, T], { dtype: 'i32' });

/** A model's decode state: prompt prefilled, then `steps` timed steps per call. */
function decoder(m: Qwen2Model): (n: number) => number {
  const cache = new KvCache(m, 1, capacity);
  decodeStep(m, cache, ids(benchPrompt(32, ck.config.vocabSize, 0), 32), [32]).dispose();
  let token = 100;
  return (n) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) decodeStep(m, cache, ids([token++ % (ck.config.vocabSize - 16)], 1), [1]).dispose();
    return (performance.now() - t0) / n;
  };
}

const [runHuge, runSmall] = [decoder(huge), decoder(small)];
runHuge(steps);
runSmall(steps);
const {
  a: h,
  b: s,
  ratios,
} = alternate(
  rounds,
  () => runHuge(steps),
  () => runSmall(steps),
);
const cpu = nativeCpuDetails();
const [mh, ms] = [median(h), median(s)];
console.log(
  `hugepages-decode-ab ${name} B=1 (THP ${cpu?.thp ?? 'n/a'}, advice ${cpu?.hugePages ? 'on' : 'off'}), ${rounds} rounds of ${steps} steps: ` +
    `4 KiB ${ms.toFixed(2)} ms/step (${(1000 / ms).toFixed(1)} tokens/s), 2 MiB ${mh.toFixed(2)} ms/step (${(1000 / mh).toFixed(1)} tokens/s), ` +
    `ratio ${median(ratios).toFixed(3)}x (rounds: ${ratios.map((x) => x.toFixed(2)).join(' ')})`,
);
