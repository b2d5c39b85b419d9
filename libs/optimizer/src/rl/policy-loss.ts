// Policy losses for GRPO-style updates, registered by name. Each takes one micro-batch's per-token log-probs
// and returns its share of the mini-batch loss, dLoss/dlogprob per token (the `weights` Qwen2Model.backward
// consumes: it accumulates grads of sum(weights * logprobs)) and metrics. Shapes: R = B*G rows, T tokens per
// row, flat row-major (R, T) arrays; advantages (R,), broadcast over the row's masked (answer) tokens. The
// flat version (one pass over R*T tokens, aggregation folded in as per-token weights); reference.ts is the loop.
import { createRegistry } from '@lwz/core';
import { getAggregation, checkTokenMask, type LossNormalizer } from './aggregation';

export interface PolicyLossInput {
  rows: number;
  T: number;
  /** (R, T) log pi_theta of each target token now (forwardLogprobs with grad) */
  logprobs: ArrayLike<number>;
  /** (R, T) log pi_old at sampling time (the rollout's, or recomputed before the first PPO epoch) */
  oldLogprobs: ArrayLike<number>;
  /** (R, T) log pi_ref of the frozen reference; required when klCoef > 0, else optional (metric only) */
  refLogprobs?: ArrayLike<number>;
  /** (R,) one advantage per row (from @lwz/rewards' estimators) */
  advantages: ArrayLike<number>;
  /** (R, T) nonzero = token in the loss (answer tokens); prompt and padding are 0 */
  mask: ArrayLike<number>;
}

export interface PolicyLossOptions {
  /** lower clip: ratios below 1 - epsLow stop pushing tokens with A < 0 down (0 <= epsLow < 1) */
  epsLow: number;
  /** upper clip: ratios above 1 + epsHigh stop pushing tokens with A > 0 up (>= 0) */
  epsHigh: number;
  /** dual clip (> 1; Infinity = off): for A < 0 the token loss is at most -A clipRatioC, so a ratio that ran far
   *  above 1 cannot blow the step up (verl's clip_ratio_c, default 3 there; Ye et al. 2020, arXiv 1912.09729) */
  clipRatioC: number;
  /** beta of the k3 KL to the reference (0 = off) */
  klCoef: number;
  /** coefficient of the entropy bonus (0 = off) */
  entropyCoef: number;
  /** a registered aggregation name (aggregation.ts) */
  aggregation: string;
  /** global normaliser of the whole mini-batch (lossNormalizer over every micro-batch) */
  normalizer: LossNormalizer;
}

export interface PolicyLossMetrics {
  /** masked tokens in this call (the weight when merging token means) */
  tokens: number;
  /** aggregated parts of the loss (this call's share; shares add up over micro-batches) */
  pgLoss: number;
  klLoss: number;
  entropyLoss: number;
  /** token means over this call's masked tokens */
  clipFracLow: number;
  clipFracHigh: number;
  /** share of tokens with A < 0 whose loss the dual clip capped */
  clipFracDual: number;
  /** k3 estimate of KL(pi_old || pi_theta): (r - 1) - log r */
  approxKlOld: number;
  ratioMean: number;
  /** k3 KL to the reference (0 when no refLogprobs) */
  klRef: number;
  /** sampled-token entropy estimate H^ = -r lp */
  entropyEstimate: number;
  ratioMin: number;
  ratioMax: number;
}

export interface PolicyLossResult {
  /** this micro-batch's share of the mini-batch loss */
  loss: number;
  /** (R, T) dLoss/dlogprob, 0 outside the mask: pass as Qwen2Model.backward(weights) */
  dLogprobs: Float32Array;
  metrics: PolicyLossMetrics;
}

export type PolicyLoss = (input: PolicyLossInput, options: PolicyLossOptions) => PolicyLossResult;

export const LOG_RATIO_LIMIT = 20;

/** Shape, finiteness and option checks shared by every loss (and the reference). */
export function checkPolicyLossInput(x: PolicyLossInput, o: PolicyLossOptions, where: string): void {
  checkTokenMask({ rows: x.rows, T: x.T, mask: x.mask }, where);
  const n = x.rows * x.T;
  const arrays: [string, ArrayLike<number> | undefined][] = [
    ['logprobs', x.logprobs],
    ['oldLogprobs', x.oldLogprobs],
    ['refLogprobs', x.refLogprobs],
  ];
  for (const [name, a] of arrays) {
    if (a && a.length !== n) throw new Error(`${where}: ${name} has ${a.length} values, expected (R, T) = ${n}`);
  }
  if (x.advantages.length !== x.rows) throw new Error(`${where}: advantages has ${x.advantages.length} values, expected (R,) = ${x.rows}`);
  if (o.klCoef !== 0 && !x.refLogprobs) throw new Error(`${where}: klCoef = ${o.klCoef} needs refLogprobs (or set klCoef = 0)`);
  if (!(o.epsLow >= 0 && o.epsLow < 1)) throw new Error(`${where}: epsLow must be in [0, 1), got ${o.epsLow}`);
  if (!(o.epsHigh >= 0)) throw new Error(`${where}: epsHigh must be >= 0, got ${o.epsHigh}`);
  if (!(o.clipRatioC > 1)) throw new Error(`${where}: clipRatioC must be > 1, got ${o.clipRatioC}`);
  if (!(Number.isFinite(o.klCoef) && Number.isFinite(o.entropyCoef))) throw new Error(`${where}: klCoef and entropyCoef must be finite`);
  for (let i = 0; i < n; i++) {
    if (x.mask[i] === 0) continue;
    for (const [name, a] of arrays) {
      if (a && !Number.isFinite(a[i])) throw new Error(`${where}: ${name}[${i}] (row ${Math.floor(i / x.T)}) is ${a[i]}`);
    }
    if (!Number.isFinite(x.advantages[Math.floor(i / x.T)])) throw new Error(`${where}: advantages[${Math.floor(i / x.T)}] is not finite`);
  }
}

const clampLog = (v: number): number => (v > LOG_RATIO_LIMIT ? LOG_RATIO_LIMIT : v < -LOG_RATIO_LIMIT ? -LOG_RATIO_LIMIT : v);

/** The k3 KL value is capped here, with no gradient above (verl's low_var_kl clamps to [-10, 10]; k3 >= 0). */
const KL_CAP = 10;

/**
 * ppo-clip (PPO, arXiv 1707.06347; two-sided clip-higher from DAPO, arXiv 2503.14476), per masked token:
 *   r = exp(lp - lp_old),  pg = max(-A r, -A clip(r, 1 - epsLow, 1 + epsHigh)),  for A < 0: min(pg, -A c)
 *   kl = min(exp(lp_ref - lp) - (lp_ref - lp) - 1, 10)   (k3 estimate of KL(pi || ref), >= 0; Schulman 2020;
 *        capped at 10 with no gradient above, as verl's low_var_kl; its expected gradient is that of KL(ref || pi))
 *   H^ = -r lp                                    (sampled-token entropy estimate, see below)
 *   loss = agg(pg) + klCoef * agg(kl) - entropyCoef * agg(H^)
 * The LongWriter-Zero paper uses eps 0.2 on both sides and no KL (klCoef = 0), the defaults (config.ts).
 * A token is clipped when the clipped branch is strictly larger (A > 0 and r > 1 + epsHigh, or A < 0 and
 * r < 1 - epsLow): its pg gradient is 0. At r exactly 1 +- eps both branches are equal and the gradient
 * -A r flows, as torch.clamp's inclusive bounds give in verl. The dual clip (c = clipRatioC, verl's
 * clip_ratio_c) caps a token with A < 0 at -A c when r > c; its gradient is 0 there. log r and lp_ref - lp are
 * clamped to [-20, 20] before exp (as verl does; no gradient outside).
 * Departure (entropy bonus): backward(weights) only differentiates the target tokens' log-probs, so the
 * bonus uses H^ = -r lp, whose value and gradient -r (lp + 1) are unbiased for the full entropy and its
 * gradient under samples from pi_old. The full-distribution entropy (forwardLogprobs({ entropy: true }))
 * is the number to report as a metric.
 */
export const ppoClip: PolicyLoss = (x, o) => {
  checkPolicyLossInput(x, o, 'ppo-clip');
  const n = x.rows * x.T;
  const w = getAggregation(o.aggregation)({ rows: x.rows, T: x.T, mask: x.mask }, o.normalizer); // (R, T)
  const grad = new Float32Array(n); // (R, T)
  const lo = 1 - o.epsLow;
  const hi = 1 + o.epsHigh;
  const cap = o.clipRatioC;
  const ref = x.refLogprobs;
  let tokens = 0;
  let pgLoss = 0;
  let klLoss = 0;
  let entLoss = 0;
  let low = 0;
  let high = 0;
  let dual = 0;
  let klOld = 0;
  let ratioSum = 0;
  let klRefSum = 0;
  let entSum = 0;
  let ratioMin = Infinity;
  let ratioMax = -Infinity;
  for (let i = 0; i < n; i++) {
    if (x.mask[i] === 0) continue;
    const a = x.advantages[(i / x.T) | 0];
    const lp = x.logprobs[i];
    const logR = lp - x.oldLogprobs[i];
    const logRc = clampLog(logR);
    const dr = logR === logRc ? 1 : 0; // d logRc / d lp
    const r = Math.exp(logRc);
    const rc = r < lo ? lo : r > hi ? hi : r;
    const clipped = -a * rc > -a * r;
    const pgClip = clipped ? -a * rc : -a * r;
    const capped = a < 0 && pgClip > -a * cap; // the dual clip
    const pg = capped ? -a * cap : pgClip;
    let d = clipped || capped ? 0 : -a * r * dr;
    const ent = -r * lp;
    d -= o.entropyCoef * -r * (lp * dr + 1);
    let kl = 0;
    if (ref) {
      const delta = ref[i] - lp;
      const deltaC = clampLog(delta);
      const k3 = Math.exp(deltaC) - deltaC - 1;
      kl = Math.min(k3, KL_CAP);
      if (delta === deltaC && k3 <= KL_CAP) d += o.klCoef * (1 - Math.exp(deltaC));
    }
    grad[i] = w[i] * d;
    pgLoss += w[i] * pg;
    klLoss += w[i] * kl;
    entLoss += w[i] * ent;
    tokens++;
    if (clipped && a > 0) high++;
    if (clipped && a < 0) low++;
    if (capped) dual++;
    klOld += r - 1 - logRc;
    ratioSum += r;
    klRefSum += kl;
    entSum += ent;
    if (r < ratioMin) ratioMin = r;
    if (r > ratioMax) ratioMax = r;
  }
  const mean = (s: number): number => (tokens ? s / tokens : 0);
  return {
    loss: pgLoss + o.klCoef * klLoss - o.entropyCoef * entLoss,
    dLogprobs: grad,
    metrics: {
      tokens,
      pgLoss,
      klLoss,
      entropyLoss: entLoss,
      clipFracLow: mean(low),
      clipFracHigh: mean(high),
      clipFracDual: mean(dual),
      approxKlOld: mean(klOld),
      ratioMean: mean(ratioSum),
      klRef: mean(klRefSum),
      entropyEstimate: mean(entSum),
      ratioMin: tokens ? ratioMin : 1,
      ratioMax: tokens ? ratioMax : 1,
    },
  };
};

const registry = createRegistry<PolicyLoss>('policy loss');
registry.register('ppo-clip', ppoClip);

export function registerPolicyLoss(name: string, fn: PolicyLoss): void {
  registry.register(name, fn);
}

/** The policy loss `name`; unknown names fail listing the valid ones. */
export function getPolicyLoss(name: string): PolicyLoss {
  return registry.get(name);
}

export function policyLossNames(): string[] {
  return registry.names();
}

/** Metrics of several micro-batches as one: loss parts add, token means weigh by tokens, min/max combine. */
export function mergePolicyLossMetrics(parts: readonly PolicyLossMetrics[]): PolicyLossMetrics {
  const tokens = parts.reduce((s, p) => s + p.tokens, 0);
  const sum = (f: (p: PolicyLossMetrics) => number): number => parts.reduce((s, p) => s + f(p), 0);
  const mean = (f: (p: PolicyLossMetrics) => number): number => (tokens ? sum((p) => f(p) * p.tokens) / tokens : 0);
  const withTokens = parts.filter((p) => p.tokens > 0);
  return {
    tokens,
    pgLoss: sum((p) => p.pgLoss),
    klLoss: sum((p) => p.klLoss),
    entropyLoss: sum((p) => p.entropyLoss),
    clipFracLow: mean((p) => p.clipFracLow),
    clipFracHigh: mean((p) => p.clipFracHigh),
    clipFracDual: mean((p) => p.clipFracDual),
    approxKlOld: mean((p) => p.approxKlOld),
    ratioMean: mean((p) => p.ratioMean),
    klRef: mean((p) => p.klRef),
    entropyEstimate: mean((p) => p.entropyEstimate),
    ratioMin: withTokens.length ? Math.min(...withTokens.map((p) => p.ratioMin)) : 1,
    ratioMax: withTokens.length ? Math.max(...withTokens.map((p) => p.ratioMax)) : 1,
  };
}
