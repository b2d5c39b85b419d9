// The sampler: one token per request from a (R, V) logits tensor (requests may share a row: a prompt's n
// answers draw their first tokens from one prefill). Host processors run on a copy of the row; the fused tail
// and the draw run in the kernels' sample op, driven by the request's uniform. Reports RAW log-probs (below).
import { sample, tensor, tokenLogprobs, type Tensor } from '@lwz/kernels';
import type { ProcessorChain, TokenSet } from './processors';

export interface SampleRequest {
  /** row of the logits this token is drawn from */
  row: number;
  chain: ProcessorChain;
  /** uniform in [0, 1) from the answer's own stream */
  uniform: number;
  /** the row's token history, when the chain needs it (repetition penalty) */
  history: TokenSet | null;
  /** alternatives to report (highest raw log-prob first); 0 = none */
  topLogprobs: number;
}

export interface TokenLogprob {
  id: number;
  logprob: number;
}

export interface SampledToken extends TokenLogprob {
  /** the topLogprobs most likely tokens under the raw distribution */
  top?: TokenLogprob[];
}

/** The k highest entries of a raw logits row's first V as log-probs (lse: the whole row's log-sum-exp). */
function topOf(raw: Float32Array, offset: number, V: number, lse: number, k: number): TokenLogprob[] {
  const best: TokenLogprob[] = [];
  for (let j = 0; j < V; j++) {
    const l = raw[offset + j];
    if (best.length === k && l <= best[k - 1].logprob) continue;
    let i = best.length === k ? k - 1 : best.length;
    if (best.length < k) best.push({ id: j, logprob: l });
    while (i > 0 && best[i - 1].logprob < l) {
      best[i] = best[i - 1];
      i--;
    }
    best[i] = { id: j, logprob: l };
  }
  return best.map((t) => ({ id: t.id, logprob: t.logprob - lse }));
}

/** Group request indices by their fused tail (one kernel call per group). */
function groupByTail(requests: readonly SampleRequest[]): number[][] {
  const groups = new Map<string, number[]>();
  requests.forEach((r, i) => {
    const key = r.chain.fusedKey;
    const g = groups.get(key);
    if (g) g.push(i);
    else groups.set(key, [i]);
  });
  return [...groups.values()];
}

/**
 * Log-probs: `logprob` is log softmax(raw logits)[id], the policy's UNPROCESSED distribution (temperature 1,
 * no top-k/top-p/min-p, no penalty): the pi_old(a|s) of the GRPO/PPO ratio, recomputable by a plain forward
 * of the trainer's model. It is not the probability the token was drawn with (temperature 0.8 draws from
 * softmax(l / 0.8)). Engines differ: vLLM v1 returns raw log-probs by default (`logprobs_mode=raw_logprobs`;
 * `processed_logprobs` after temperature/penalties/top-k/p), v0 returned them after temperature and penalties;
 * verl recomputes old log-probs with its actor after dividing the logits by the rollout temperature.
 *
 * Draw one token per request. logits (R, V) f32 are read, never modified. Returns, per request, the token,
 * its raw log-prob, and the top alternatives when asked.
 */
export function sampleTokens(logits: Tensor, requests: readonly SampleRequest[]): SampledToken[] {
  // the logits lent, not handed out, so their buffer is recycled for the next step's (a fresh (R, V) buffer a
  // decode step was ~3 k pool misses in 12 GRPO steps on tiny); nothing below keeps `raw` past this call
  return logits.readHost((raw) => sampleFrom(logits, raw as Float32Array, requests));
}

function sampleFrom(logits: Tensor, raw: Float32Array, requests: readonly SampleRequest[]): SampledToken[] {
  const [R, V] = logits.shape;
  const device = logits.device;
  const rowTargets = tensor(new Int32Array(R), [R], { device, dtype: 'i32' });
  const { logprobs: unused, lse: lseT } = tokenLogprobs(logits, rowTargets);
  const lse = lseT.toHost(); // (R,) raw log-sum-exp per row
  const out = new Array<SampledToken>(requests.length);
  for (const group of groupByTail(requests)) {
    const chain = requests[group[0]].chain;
    const direct = group.length === R && group.every((i, k) => requests[i].row === k && requests[i].chain.host.length === 0);
    let src = logits;
    if (!direct) {
      const buf = new Float32Array(group.length * V); // (g, V) processed copies
      group.forEach((i, k) => {
        const r = requests[i];
        const row = buf.subarray(k * V, (k + 1) * V);
        row.set(raw.subarray(r.row * V, (r.row + 1) * V));
        for (const p of r.chain.host) p.process(row, r.history);
      });
      src = tensor(buf, [group.length, V], { device });
    }
    const ids = sample(
      src,
      group.map((i) => requests[i].uniform),
      chain.fused,
    );
    const picked = ids.toHost();
    group.forEach((i, k) => {
      const r = requests[i];
      const id = picked[k];
      const token: SampledToken = { id, logprob: raw[r.row * V + id] - lse[r.row] };
      // alternatives among the ids the chain may draw (a padded embedding's extra rows have no text to show)
      const drawable = Math.min(V, r.chain.vocabLimit);
      if (r.topLogprobs > 0) token.top = topOf(raw, r.row * V, drawable, lse[r.row], Math.min(r.topLogprobs, drawable));
      out[i] = token;
    });
    ids.dispose();
    if (src !== logits) src.dispose();
  }
  for (const t of [rowTargets, unused, lseT]) t.dispose();
  return out;
}
