// ppo-clip against numbers worked out by hand, not against reference.ts: a 3-row batch (a prompt token, padding
// and an empty row masked out) whose five answer tokens sit inside, above and below the asymmetric clip-higher
// bounds (epsLow 0.2, epsHigh 0.28) for both signs of the advantage; the per-token PPO losses and gradients under
// each aggregation's weights; the k3 KL and the entropy estimate with their gradients; the metrics; and the
// metrics of micro-batches merged (the largest and smallest ratio wherever they are).
import { lossNormalizer } from './aggregation';
import { policyLossConfigSchema, policyLossOptions } from './config';
import { getPolicyLoss, mergePolicyLossMetrics, type PolicyLossInput, type PolicyLossOptions } from './policy-loss';

const ppoClip = getPolicyLoss('ppo-clip');
const OLD = -1;
// (row, t, ratio): row 0 has A = +1.5, row 1 A = -0.8, row 2 (A = 2) has no answer token
const TOKENS: [number, number, number][] = [
  [0, 1, 1.25], // A > 0, 1.25 <= 1.28: inside (it would be clipped with epsHigh = epsLow = 0.2)
  [0, 2, 1.5], // A > 0, above 1.28: clipped high, loss -1.5 * 1.28, no gradient
  [0, 3, 0.6], // A > 0 below 0.8: never clipped (its probability should rise): loss -1.5 * 0.6
  [1, 1, 0.7], // A < 0 below 0.8: clipped low, loss 0.8 * 0.8, no gradient
  [1, 2, 1.2], // A < 0 above 1: never clipped (no dual clip): loss 0.8 * 1.2
];
// per token: PPO loss max(-A r, -A clip(r)) and its gradient d/dlp (-A r where not clipped), by hand
const PG = [-1.875, -1.92, -0.9, 0.64, 0.96];
const DPG = [-1.875, 0, -0.9, 0, 0.96];
const T = 4;
const flatIndex = TOKENS.map(([r, t]) => r * T + t);

function input(ref?: number[]): PolicyLossInput {
  const logprobs = new Float64Array(3 * T).fill(-3); // masked-out positions: any value
  const oldLogprobs = new Float64Array(3 * T).fill(OLD);
  const mask = new Uint8Array(3 * T);
  TOKENS.forEach(([r, t, ratio]) => {
    logprobs[r * T + t] = OLD + Math.log(ratio);
    mask[r * T + t] = 1;
  });
  const refLogprobs = ref ? new Float64Array(3 * T).fill(-3) : undefined;
  if (refLogprobs && ref) flatIndex.forEach((i, k) => (refLogprobs[i] = ref[k]));
  return { rows: 3, T, logprobs, oldLogprobs, ...(refLogprobs ? { refLogprobs } : {}), advantages: [1.5, -0.8, 2], mask };
}

function options(aggregation: string, over: Partial<PolicyLossOptions> = {}): PolicyLossOptions {
  const x = input();
  return {
    epsLow: 0.2,
    epsHigh: 0.28,
    clipRatioC: Infinity,
    klCoef: 0,
    entropyCoef: 0,
    aggregation,
    normalizer: lossNormalizer([{ rows: x.rows, T, mask: x.mask }], 8),
    ...over,
  };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('ppo-clip by hand', () => {
  // 5 tokens, 2 non-empty rows of 3 and 2 tokens, L = 8: each aggregation's weight per token
  const WEIGHTS: Record<string, number[]> = {
    'token-mean': [1 / 5, 1 / 5, 1 / 5, 1 / 5, 1 / 5],
    'seq-mean-token-mean': [1 / 6, 1 / 6, 1 / 6, 1 / 4, 1 / 4], // 1 / (N_seq len_r)
    'seq-mean-token-sum-norm': [1 / 16, 1 / 16, 1 / 16, 1 / 16, 1 / 16], // 1 / (N_seq L)
  };
  const LOSS: Record<string, number> = {
    'token-mean': (-1.875 - 1.92 - 0.9 + 0.64 + 0.96) / 5, // -0.619
    'seq-mean-token-mean': ((-1.875 - 1.92 - 0.9) / 3 + (0.64 + 0.96) / 2) / 2, // -0.3825
    'seq-mean-token-sum-norm': (-1.875 - 1.92 - 0.9 + 0.64 + 0.96) / 16,
  };

  for (const aggregation of Object.keys(WEIGHTS))
    it(`gives the clipped PPO loss and gradient of each token under ${aggregation}`, () => {
      const res = ppoClip(input(), options(aggregation));
      expect(res.loss).toBeCloseTo(LOSS[aggregation], 12);
      expect(res.metrics.pgLoss).toBeCloseTo(LOSS[aggregation], 12);
      expect(sum(PG.map((v, k) => v * WEIGHTS[aggregation][k]))).toBeCloseTo(LOSS[aggregation], 12); // the table agrees
      const want = new Array<number>(3 * T).fill(0);
      flatIndex.forEach((i, k) => (want[i] = WEIGHTS[aggregation][k] * DPG[k]));
      expect(Array.from(res.dLogprobs)).toEqual(want.map((v) => expect.closeTo(v, 6)));
    });

  it("takes the config's epsLow and epsHigh as named (DAPO's clip-higher: 0.2 below, 0.28 above)", () => {
    const x = input();
    const cfg = policyLossConfigSchema.parse({ epsLow: 0.2, epsHigh: 0.28 });
    const res = ppoClip(x, policyLossOptions(cfg, [{ rows: x.rows, T, mask: x.mask }]));
    expect(res.loss).toBeCloseTo(LOSS['token-mean'], 12);
    expect([res.metrics.clipFracLow, res.metrics.clipFracHigh]).toEqual([expect.closeTo(1 / 5, 12), expect.closeTo(1 / 5, 12)]);
  });

  it('reports the clip fractions, ratios and the k3 KL to the old policy', () => {
    const m = ppoClip(input(), options('token-mean')).metrics;
    const ratios = TOKENS.map(([, , r]) => r);
    expect(m.tokens).toBe(5);
    expect(m.clipFracHigh).toBeCloseTo(1 / 5, 12);
    expect(m.clipFracLow).toBeCloseTo(1 / 5, 12);
    expect(m.clipFracDual).toBe(0);
    expect(m.ratioMean).toBeCloseTo(5.25 / 5, 12);
    expect(m.ratioMin).toBeCloseTo(0.6, 12);
    expect(m.ratioMax).toBeCloseTo(1.5, 12);
    expect(m.approxKlOld).toBeCloseTo(sum(ratios.map((r) => r - 1 - Math.log(r))) / 5, 12); // (r - 1) - log r
    // with the paper's symmetric 0.2 the first token is clipped high too, and both clipped ones count at 1.2
    const sym = ppoClip(input(), options('token-mean', { epsHigh: 0.2 }));
    expect(sym.metrics.clipFracHigh).toBeCloseTo(2 / 5, 12);
    expect(sym.dLogprobs[flatIndex[0]]).toBe(0);
    expect(sym.loss).toBeCloseTo((-1.5 * 1.2 - 1.5 * 1.2 - 0.9 + 0.64 + 0.96) / 5, 12);
  });

  it('adds klCoef times the k3 KL to the reference, exp(d) - d - 1 with d = lp_ref - lp, with gradient 1 - exp(d)', () => {
    const d = [0.5, -0.5, 0, 1, -1];
    const lp = TOKENS.map(([, , r]) => OLD + Math.log(r));
    const x = input(lp.map((v, k) => v + d[k]));
    const k3 = d.map((v) => Math.exp(v) - v - 1);
    for (const [aggregation, w] of [
      ['token-mean', WEIGHTS['token-mean']],
      ['seq-mean-token-mean', WEIGHTS['seq-mean-token-mean']],
    ] as const) {
      const res = ppoClip(x, options(aggregation, { klCoef: 0.1 }));
      const kl = sum(k3.map((v, k) => v * w[k]));
      expect(res.metrics.klLoss).toBeCloseTo(kl, 12);
      expect(res.metrics.klRef).toBeCloseTo(sum(k3) / 5, 12); // a token mean whatever the aggregation
      expect(res.loss).toBeCloseTo(LOSS[aggregation] + 0.1 * kl, 12);
      flatIndex.forEach((i, k) => expect(res.dLogprobs[i]).toBeCloseTo(w[k] * (DPG[k] + 0.1 * (1 - Math.exp(d[k]))), 6));
    }
  });

  it('subtracts entropyCoef times the estimate H = -r lp, whose gradient is -r (lp + 1)', () => {
    const ratios = TOKENS.map(([, , r]) => r);
    const lp = ratios.map((r) => OLD + Math.log(r));
    const h = ratios.map((r, k) => -r * lp[k]);
    const res = ppoClip(input(), options('token-mean', { entropyCoef: 0.01 }));
    expect(res.metrics.entropyEstimate).toBeCloseTo(sum(h) / 5, 12);
    expect(res.loss).toBeCloseTo(LOSS['token-mean'] - (0.01 * sum(h)) / 5, 12);
    flatIndex.forEach((i, k) => expect(res.dLogprobs[i]).toBeCloseTo((DPG[k] - 0.01 * -ratios[k] * (lp[k] + 1)) / 5, 6));
  });

  it('merges micro-batches: loss parts add, token means weigh by tokens, the ratio range spans all of them', () => {
    // rows 0 and 1 as two micro-batches under the whole batch's normaliser: ratios [1.25, 1.5, 0.6] and [0.7, 1.2]
    const x = input();
    const o = options('token-mean');
    const part = (r: number): PolicyLossInput => ({
      rows: 1,
      T,
      logprobs: Array.from(x.logprobs).slice(r * T, (r + 1) * T),
      oldLogprobs: Array.from(x.oldLogprobs).slice(r * T, (r + 1) * T),
      advantages: [x.advantages[r]],
      mask: Array.from(x.mask).slice(r * T, (r + 1) * T),
    });
    for (const order of [
      [1, 0],
      [0, 1],
    ]) {
      const m = mergePolicyLossMetrics(order.map((r) => ppoClip(part(r), o).metrics));
      expect(m.tokens).toBe(5);
      expect(m.pgLoss).toBeCloseTo(LOSS['token-mean'], 12);
      expect(m.ratioMax).toBeCloseTo(1.5, 12);
      expect(m.ratioMin).toBeCloseTo(0.6, 12);
      expect(m.ratioMean).toBeCloseTo(5.25 / 5, 12);
      expect(m.clipFracHigh).toBeCloseTo(1 / 5, 12); // 1 of row 0's 3 tokens, 0 of row 1's 2
      expect(m.clipFracLow).toBeCloseTo(1 / 5, 12);
    }
  });
});
