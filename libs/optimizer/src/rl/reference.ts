// Loop reference of the policy losses and aggregations: rows, then tokens, with each formula written the
// way the papers write it (PPO's min over the two surrogates, GRPO's mean over sequences of token means),
// float64 throughout. It shares no code with the flat versions (aggregation.ts, policy-loss.ts) so that
// tests holding them equal are evidence. Slow on purpose; exported for tests and for readers.
import type { LossNormalizer } from './aggregation';
import type { PolicyLossInput, PolicyLossMetrics, PolicyLossOptions, PolicyLossResult } from './policy-loss';

/** The masked token positions of each row. */
function maskedTokens(rows: number, T: number, mask: ArrayLike<number>): number[][] {
  const out: number[][] = [];
  for (let r = 0; r < rows; r++) {
    const ts: number[] = [];
    for (let t = 0; t < T; t++) if (mask[r * T + t] !== 0) ts.push(t);
    out.push(ts);
  }
  return out;
}

/** The literal aggregation of per-token values, and d(aggregate)/d(value) of a token of a row of `len` tokens. */
function aggregateLoop(name: string, perRow: number[][], norm: LossNormalizer): { value: number; coef: (len: number) => number } {
  const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
  switch (name) {
    case 'token-mean':
      return { value: sum(perRow.map(sum)) / norm.tokens, coef: () => 1 / norm.tokens };
    case 'seq-mean-token-mean':
      return {
        value: sum(perRow.filter((xs) => xs.length > 0).map((xs) => sum(xs) / xs.length)) / norm.sequences,
        coef: (len) => 1 / (len * norm.sequences),
      };
    case 'seq-mean-token-sum-norm':
      return {
        value: sum(perRow.map((xs) => sum(xs) / norm.maxLength)) / norm.sequences,
        coef: () => 1 / (norm.maxLength * norm.sequences),
      };
    default:
      throw new Error(`reference: no loop version of aggregation ${name}`);
  }
}

/** sum over the mask of `values` (R, T), aggregated by `name` the literal way. */
export function aggregateReference(
  name: string,
  values: ArrayLike<number>,
  rows: number,
  T: number,
  mask: ArrayLike<number>,
  norm: LossNormalizer,
): number {
  const perRow = maskedTokens(rows, T, mask).map((ts, r) => ts.map((t) => values[r * T + t]));
  return aggregateLoop(name, perRow, norm).value;
}

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

/** ppo-clip, one token at a time (see policy-loss.ts for the formulas and their sources). */
export function ppoClipReference(x: PolicyLossInput, o: PolicyLossOptions): PolicyLossResult {
  const { rows, T } = x;
  const tokens = maskedTokens(rows, T, x.mask);
  const pg: number[][] = [];
  const kl: number[][] = [];
  const ent: number[][] = [];
  const dPg: number[][] = []; // d pg / d lp per token
  const dKl: number[][] = [];
  const dEnt: number[][] = [];
  const ratios: number[] = [];
  let low = 0;
  let high = 0;
  let dual = 0;
  let klOld = 0;
  for (let r = 0; r < rows; r++) {
    const A = x.advantages[r];
    for (const arr of [pg, kl, ent, dPg, dKl, dEnt]) arr.push([]);
    for (const t of tokens[r]) {
      const i = r * T + t;
      const lp = x.logprobs[i];
      const logRatio = lp - x.oldLogprobs[i];
      const inside = Math.abs(logRatio) <= 20;
      const ratio = Math.exp(clamp(logRatio, -20, 20));
      const clipped = clamp(ratio, 1 - o.epsLow, 1 + o.epsHigh);
      // PPO: maximise min(r A, clip(r) A), i.e. minimise max(-r A, -clip(r) A)
      // dual clip: for A < 0 the loss is at most -A c
      const pgClip = Math.max(-ratio * A, -clipped * A);
      const capped = A < 0 && pgClip > -A * o.clipRatioC;
      pg[r].push(capped ? -A * o.clipRatioC : pgClip);
      const clippedLow = A < 0 && ratio < 1 - o.epsLow;
      const clippedHigh = A > 0 && ratio > 1 + o.epsHigh;
      if (clippedLow) low++;
      if (clippedHigh) high++;
      if (capped) dual++;
      dPg[r].push(clippedLow || clippedHigh || capped || !inside ? 0 : -A * ratio);
      ent[r].push(-ratio * lp);
      dEnt[r].push(-(inside ? ratio : 0) * lp - ratio);
      if (x.refLogprobs) {
        const d = x.refLogprobs[i] - lp;
        const dc = clamp(d, -20, 20);
        const k3 = Math.exp(dc) - dc - 1;
        kl[r].push(Math.min(k3, 10)); // capped as verl's low_var_kl, no gradient above
        dKl[r].push(Math.abs(d) <= 20 && k3 <= 10 ? 1 - Math.exp(dc) : 0);
      } else {
        kl[r].push(0);
        dKl[r].push(0);
      }
      ratios.push(ratio);
      klOld += ratio - 1 - Math.log(ratio);
    }
  }
  const aPg = aggregateLoop(o.aggregation, pg, o.normalizer);
  const aKl = aggregateLoop(o.aggregation, kl, o.normalizer);
  const aEnt = aggregateLoop(o.aggregation, ent, o.normalizer);
  const grad = new Float32Array(rows * T); // (R, T)
  tokens.forEach((ts, r) =>
    ts.forEach((t, k) => {
      const c = aPg.coef(ts.length);
      grad[r * T + t] = c * dPg[r][k] + o.klCoef * c * dKl[r][k] - o.entropyCoef * c * dEnt[r][k];
    }),
  );
  const n = ratios.length;
  const mean = (s: number): number => (n ? s / n : 0);
  const flat = (xs: number[][]): number => xs.flat().reduce((a, b) => a + b, 0);
  const metrics: PolicyLossMetrics = {
    tokens: n,
    pgLoss: aPg.value,
    klLoss: aKl.value,
    entropyLoss: aEnt.value,
    clipFracLow: mean(low),
    clipFracHigh: mean(high),
    clipFracDual: mean(dual),
    approxKlOld: mean(klOld),
    ratioMean: mean(ratios.reduce((a, b) => a + b, 0)),
    klRef: mean(flat(kl)),
    entropyEstimate: mean(flat(ent)),
    ratioMin: n ? ratios.reduce((a, b) => Math.min(a, b)) : 1,
    ratioMax: n ? ratios.reduce((a, b) => Math.max(a, b)) : 1,
  };
  return { loss: aPg.value + o.klCoef * aKl.value - o.entropyCoef * aEnt.value, dLogprobs: grad, metrics };
}
