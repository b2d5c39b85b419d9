// Long-answer decode (issue #10) on a random model with Qwen2.5-0.5B's shapes (24 layers, 14 query / 2 KV
// heads, head dim 64, vocabulary 151,936): time per generated token at cache positions 1k, 4k and 16k, and
// the decode attention alone reading the 24 layers' KV caches (head-major (B, Hkv, S, D), the model's layout)
// at those positions, as bytes/s. The caches
// are filled with values instead of prefilled (decode cost does not depend on them; prefilling 16k tokens
// of a 0.5B model takes minutes on two cores). `--baseline membw` times a plain streaming read of the same
// bytes (membw/harness.c), so its ratio is the attention's share of the measured read bandwidth; `--baseline
// bandwidth` times the kernels' own read probe (streamProbe().read: vector loads on the kernels' threads, over
// a cache-line aligned buffer like the KV cache) in this process alternately with each attention case, call by
// call, so machine load that comes and goes hits both sides alike (the C harness runs minutes later in another
// process). Before every timed call of either side the last-level cache is evicted (an untimed read of 4x its size),
// as a real decode step finds it: between two reads of a layer's KV cache the model's weights pass through the
// caches (Qwen2.5-0.5B holds ~60 MB of f32 weights per layer). Without it, at 1k positions (25 MB) the read found part
// of its bytes in a 32 MiB L3 and the attention, after the read's, did not (benchmarks/README.md, "2026-12-03 16:30").
import { fileURLToPath } from 'node:url';
import { attention, defaultDevice, nativeCpuDetails, streamProbe, tensor, zeros, type Tensor } from '@lwz/kernels';
import { KvCache, ParamStore, Qwen2Model, decodeStep, modelPreset, parameterSpecs } from '@lwz/model';
import type { BenchSuite, Measured, MeasuredCase, TimedCase } from '../suite';
import { median } from './timing';

const POSITIONS = [1024, 4096, 16384];
const CONFIG = modelPreset('qwen2.5-0.5b');
const { numLayers: L, numHeads: H, numKvHeads: HKV, headDim: D } = CONFIG;

/** Cheap deterministic values in [-scale, scale) (an LCG: 500 M normals would take minutes in JS). */
function fill(a: Float32Array, seed: number, scale: number): Float32Array {
  let s = seed >>> 0 || 1;
  for (let i = 0; i < a.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = ((s >>> 8) / 8388608 - 1) * scale;
  }
  return a;
}

/** A tensor allocated as the model allocates (the backend's zeros: cache-line aligned on cpu), then filled. */
function filled(shape: number[], seed: number, scale: number): Tensor {
  const t = zeros(shape);
  fill(t.f32, seed, scale);
  return t;
}

let model: Qwen2Model | null = null;
function randomModel(): Qwen2Model {
  if (model) return model;
  const values = new Map<string, Tensor>();
  parameterSpecs(CONFIG).forEach((spec, i) => {
    const t = zeros(spec.shape);
    if (spec.init === 'ones') t.f32.fill(1);
    else if (spec.init !== 'zeros') fill(t.f32, i + 1, 0.04);
    values.set(spec.name, t);
  });
  const store = new ParamStore(CONFIG, defaultDevice(), values);
  model = new Qwen2Model(store);
  return model;
}

const kvBytes = (pos: number): number => L * (pos + 1) * 2 * HKV * D * 4;

/**
 * A function that evicts the last-level cache (reads 4x its size, at least 64 MiB, from a buffer of its own), and
 * how to free that buffer: the decode attention and its read baseline both start from memory, as in a decode step.
 */
function cacheEvictor(): { evict: () => void; dispose: () => void } {
  const llc = nativeCpuDetails()?.caches.l3.bytes ?? 0;
  const buf = zeros([Math.max(4 * llc, 64 * 2 ** 20) / 4]);
  fill(buf.f32, 13, 1); // written once, so its pages exist before the first eviction
  const probe = streamProbe();
  let sink = 0;
  const evict = probe
    ? () => probe.read(buf.f32)
    : () => {
        for (let i = 0; i < buf.f32.length; i += 16) sink += buf.f32[i]; // one value a 64-byte line
      };
  return { evict: () => void evict(), dispose: () => (buf.dispose(), void sink) };
}

function attentionCase(pos: number): TimedCase {
  return {
    name: `decode attention KV read pos=${pos}`,
    params: { layers: L, H, Hkv: HKV, D, position: pos },
    work: { amount: kvBytes(pos), unit: 'B', formula: 'layers*(pos+1)*2(K,V)*Hkv*D*4' },
    baseline: { membw: ['read', String(kvBytes(pos))], bandwidth: ['read', String(kvBytes(pos))] },
    setup() {
      // the model's cache layout: head-major (B, Hkv, S, D), as KvCache holds it and decodeStep reads it
      const layers = Array.from({ length: L }, (_, l) => ({
        k: filled([1, HKV, pos + 8, D], 2 * l + 1, 1),
        v: filled([1, HKV, pos + 8, D], 2 * l + 2, 1),
      }));
      const q = filled([1, 1, H, D], 7, 1);
      // the row offsets as decodeStep passes them: i32 tensors made once per step and shared by the layers
      const qOffset = tensor(Int32Array.from([pos]), [1], { dtype: 'i32' });
      const kvStart = tensor(Int32Array.from([0]), [1], { dtype: 'i32' });
      const opts = { qOffset, kvStart, kvLayout: 'bhsd' as const };
      const call = (k: Tensor, v: Tensor, o: typeof opts) => {
        const r = attention(q, k, v, o);
        r.out.dispose();
        r.lse.dispose();
      };
      // The op's JavaScript warmed to V8's optimised tier first, as a rollout's thousands of calls have it: cold, the
      // op took 17-26 us a call more than its kernel over its first 1000 calls, 4-13 us after (a 16-key cache, Zen 3;
      // benchmarks/README.md), and the 16k case's timing makes only ~300 calls. 2000 calls over 16 keys: 45-61 ms.
      const warm = { k: layers[0].k.view(0, [1, HKV, 16, D]), v: layers[0].v.view(0, [1, HKV, 16, D]) };
      const warmOpts = { qOffset: tensor(Int32Array.from([15]), [1], { dtype: 'i32' }), kvStart, kvLayout: 'bhsd' as const };
      for (let i = 0; i < 2000; i++) call(warm.k, warm.v, warmOpts);
      [warm.k, warm.v, warmOpts.qOffset].forEach((t) => t.dispose());
      const evictor = cacheEvictor();
      return {
        fn: () => {
          for (const { k, v } of layers) call(k, v, opts);
        },
        beforeEach: evictor.evict,
        dispose: () => {
          layers.forEach(({ k, v }) => (k.dispose(), v.dispose()));
          [q, qOffset, kvStart].forEach((t) => t.dispose());
          evictor.dispose();
        },
      };
    },
  };
}

function decodeCase(pos: number): MeasuredCase {
  return {
    name: `decode token at pos=${pos}`,
    params: { model: 'qwen2.5-0.5b shapes (random)', position: pos, B: 1 },
    async measure(ctx): Promise<Measured> {
      const m = randomModel();
      const cache = new KvCache(m, 1, pos + 16);
      cache.layers.forEach((layer, l) => {
        fill(layer.k.f32, 3 * l + 1, 1);
        fill(layer.v.f32, 3 * l + 2, 1);
      });
      cache.lengths[0] = pos;
      const steps = ctx.smoke ? 1 : 5;
      const times: number[] = [];
      for (let i = 0; i <= steps; i++) {
        const ids = tensor(Int32Array.from([100 + i]), [1, 1], { dtype: 'i32' });
        const t0 = performance.now();
        decodeStep(m, cache, ids, [1]).dispose();
        if (i > 0 || ctx.smoke) times.push(performance.now() - t0);
      }
      cache.dispose();
      const ms = median(times);
      return { median_ms: ms, throughput: 1000 / ms, unit: 'tokens/s', extra: { kv_mb: kvBytes(pos) / 2 ** 20 } };
    },
  };
}

const suite: BenchSuite = {
  suite: 'long-context',
  description: 'time per token at cache positions 1k/4k/16k on Qwen2.5-0.5B shapes (random weights), and the decode attention KV read rate',
  cases: () => [...POSITIONS.map(attentionCase), ...POSITIONS.map(decodeCase)],
  baselines: {
    bandwidth: {
      kind: 'in-process',
      description: "native read of the same bytes (the kernels' read probe: vector loads, same threads, aligned buffer)",
      prepare(args) {
        const probe = streamProbe();
        if (!probe) return { skip: 'the native addon is not built (npx nx run kernels:build-native)' };
        const buf = zeros([Math.max(16, Math.floor(Number(args[1]) / 4))]); // the default device: the cpu backend when the probe exists
        const values = fill(buf.f32, 11, 1); // written once, so the pages are in memory before timing
        return { fn: () => void probe.read(values), dispose: () => buf.dispose() };
      },
    },
    membw: {
      kind: 'c-harness',
      source: fileURLToPath(new URL('./membw/harness.c', import.meta.url)),
      header: 'pthread.h',
      library: 'pthread',
      threadsEnv: 'MEMBW_THREADS',
      install: 'a C compiler and the C library headers (build-essential)',
    },
  },
};

export default suite;
