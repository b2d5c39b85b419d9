// ref sampling: one token per row from softmax(logits / temperature) under top-k then top-p, driven by a
// given uniform so every backend picks the same token. The exact rule is in kernel-signatures.ts
// (sampleForward). Scratch is O(V) per call, reused across rows; only the ranked prefix that can hold kept
// tokens is sorted (a few ids for a peaked row), so a row costs O(V) passes plus a small sort.
// Not a logits-processor chain (repetition penalties etc. belong to the rollout lib).
import type { Tensor } from '../tensor';
import type { Buf, Vec } from './arrays';

export interface SampleOptions {
  temperature: number;
  topK: number;
  topP: number;
}

function argmax(logits: Vec, o: number, v: number): number {
  let best = 0;
  for (let j = 1; j < v; j++) if (logits[o + j] > logits[o + best]) best = j;
  return best;
}

interface Scratch {
  p: Float64Array; // (V,) probabilities of the current row, unnormalised (weights)
  order: Int32Array; // (V,) token ids ranked by p
  kept: Uint8Array; // (V,) 1 where the token survives top-k / top-p
  positive: number; // how many of p are > 0 (a -inf logit's is 0), counted as weights() computes them
}

/**
 * The ranking prefix that holds every kept token: the ids with p >= tau, sorted by (p desc, id asc), for the
 * largest tau (1, 1/8, ...: the weights' maximum is e^0 = 1) whose prefix has >= k ids (top-k) or >= `need` mass
 * (top-p alone). So a peaked row sorts a handful of ids, not all V. Returns the prefix length, ids in s.order.
 */
function rankedPrefix(s: Scratch, v: number, k: number, need: number): number {
  const p = s.p;
  // top-k past the ids of positive weight (min-p or a vocabulary limit left fewer than k finite logits): those are
  // all the kept ids can ever draw, so ranking stops at them (tau walking down to 0 took ~330 passes over the row)
  const want = Math.min(k, s.positive);
  let tau = 1;
  for (;;) {
    let count = 0;
    let mass = 0;
    for (let j = 0; j < v; j++) {
      if (p[j] >= tau) {
        count++;
        mass += p[j];
      }
    }
    if (tau === 0 || (k < v ? count >= want : mass >= need)) break;
    tau = tau < 1e-300 ? 0 : tau / 8;
  }
  let n = 0;
  for (let j = 0; j < v; j++) if (p[j] >= tau) s.order[n++] = j;
  const ranked = s.order.subarray(0, n);
  ranked.sort((a, b) => p[b] - p[a] || a - b);
  return n;
}

/** Marks the kept tokens in s.kept and returns their total weight; `total` is all the weights' sum (weights()). */
function keepTopKTopP(s: Scratch, v: number, topK: number, topP: number, total: number): number {
  const k = topK > 0 ? Math.min(topK, v) : v;
  if (k === v && topP >= 1) {
    s.kept.fill(1);
    return total;
  }
  const n = Math.min(k, rankedPrefix(s, v, k, topP * total));
  const p = s.p;
  let massK = total; // the top-k mass: everything when k = V, else the first k ranked ids (n = k then)
  if (k < v) {
    massK = 0;
    for (let r = 0; r < n; r++) massK += p[s.order[r]];
  }
  s.kept.fill(0);
  let mass = 0;
  for (let r = 0; r < n; r++) {
    s.kept[s.order[r]] = 1;
    mass += p[s.order[r]];
    if (topP < 1 && mass >= topP * massK) break;
  }
  return mass;
}

/**
 * s.p = the row's probabilities left unnormalised, e^(x / t - max) (the rule only compares sums of them, so the
 * division by their sum is never needed; the largest is e^0 = 1); one division and one exponential a value, in
 * the cpu kernel's order. Returns their sum, or NaN when the row has no finite maximum or holds a NaN.
 */
function weights(logits: Vec, o: number, v: number, temperature: number, s: Scratch): number {
  let max = -Infinity;
  for (let j = 0; j < v; j++) {
    const y = logits[o + j] / temperature;
    s.p[j] = y;
    if (y > max) max = y;
  }
  if (!Number.isFinite(max)) return NaN;
  let total = 0;
  s.positive = 0;
  for (let j = 0; j < v; j++) {
    s.p[j] = Math.exp(s.p[j] - max);
    total += s.p[j];
    if (s.p[j] > 0) s.positive++;
  }
  return total;
}

export function sampleRow(logits: Vec, o: number, v: number, u: number, opts: SampleOptions, s: Scratch): number {
  if (opts.temperature === 0) return argmax(logits, o, v);
  const total = weights(logits, o, v, opts.temperature, s);
  if (!Number.isFinite(total)) return argmax(logits, o, v);
  const mass = keepTopKTopP(s, v, opts.topK, opts.topP, total);
  const target = u * mass;
  let run = 0;
  let last = -1;
  for (let j = 0; j < v; j++) {
    if (!s.kept[j] || !(s.p[j] > 0)) continue; // a weight of 0 (a -inf logit) is never drawn, even at u = 1
    run += s.p[j];
    last = j;
    if (run > target) return j;
  }
  return last; // u * mass rounded up to the whole mass (u = 1 after f32 rounding): the last id with weight
}

/**
 * How many ids rankedPrefix sorts for unnormalised weights `p` (largest 1) under top-k `k` or top-p mass `need`:
 * the prefix that can hold the kept tokens. Exposed so tests can check the pruning itself, which no draw shows.
 */
export function rankedPrefixLength(p: Float64Array, k: number, need: number): number {
  const positive = p.reduce((n, x) => n + (x > 0 ? 1 : 0), 0);
  return rankedPrefix({ p, order: new Int32Array(p.length), kept: new Uint8Array(p.length), positive }, p.length, k, need);
}

export function sampleArrays(logits: Vec, uniforms: Vec, ids: Buf, n: number, v: number, opts: SampleOptions): void {
  const s: Scratch = { p: new Float64Array(v), order: new Int32Array(v), kept: new Uint8Array(v), positive: 0 };
  for (let r = 0; r < n; r++) ids[r] = sampleRow(logits, r * v, v, uniforms[r], opts, s);
}

export function sampleForward(args: {
  logits: Tensor;
  uniforms: Tensor;
  temperature: number;
  topK: number;
  topP: number;
  ids: Tensor;
}): void {
  const v = args.logits.shape[args.logits.rank - 1];
  sampleArrays(args.logits.f32, args.uniforms.f32, args.ids.i32, args.ids.size, v, args);
}
