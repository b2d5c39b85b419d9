// ppo-clip: the flat version against the loop reference over random shapes, seeds, aggregations and
// KL/entropy settings; dLoss/dlogprob against central differences of the reference (float64); clip
// behaviour at and beside the bounds for both signs of the advantage; k3 >= 0 and 0 at equality; three
// micro-batches equal one mini-batch; the registry's and config's errors.
import { lossNormalizer, aggregationNames, type LossNormalizer } from './aggregation';
import { policyLossConfigSchema, policyLossOptions } from './config';
import {
  getPolicyLoss,
  mergePolicyLossMetrics,
  policyLossNames,
  registerPolicyLoss,
  type PolicyLossInput,
  type PolicyLossOptions,
} from './policy-loss';
import { ppoClipReference } from './reference';
import { randomLossInput, sliceRows } from './testing';

const ppoClip = getPolicyLoss('ppo-clip');
const SETTINGS = [
  { klCoef: 0, entropyCoef: 0 },
  { klCoef: 0.05, entropyCoef: 0 },
  { klCoef: 0.1, entropyCoef: 0.01 },
];

function opts(x: PolicyLossInput, aggregation: string, over: Partial<PolicyLossOptions> = {}, norm?: LossNormalizer): PolicyLossOptions {
  const normalizer = norm ?? lossNormalizer([{ rows: x.rows, T: x.T, mask: x.mask }], 2 * x.T);
  return { epsLow: 0.2, epsHigh: 0.28, clipRatioC: 3, klCoef: 0, entropyCoef: 0, aggregation, normalizer, ...over };
}

function metricsArray(m: ReturnType<typeof ppoClip>['metrics']): number[] {
  return Object.values(m);
}

describe('ppo-clip', () => {
  it('flat version equals the loop reference over random shapes, seeds and settings', () => {
    let checked = 0;
    for (let seed = 0; seed < 30; seed++) {
      const x = randomLossInput(seed);
      if (!Array.from(x.mask).some((v) => v !== 0)) continue;
      for (const aggregation of aggregationNames())
        for (const s of SETTINGS) {
          const o = opts(x, aggregation, s);
          const got = ppoClip(x, o);
          const want = ppoClipReference(x, o);
          expect(Math.abs(got.loss - want.loss)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(want.loss)));
          expect(got.dLogprobs).toBeAllClose(want.dLogprobs, { atol: 1e-12, rtol: 2e-7 });
          expect(metricsArray(got.metrics)).toBeAllClose(metricsArray(want.metrics), { atol: 1e-12, rtol: 1e-12 });
          checked++;
        }
    }
    expect(checked).toBeGreaterThan(200);
  });

  it('dLoss/dlogprob equals central differences of the float64 loop loss', () => {
    const h = 1e-6;
    for (let seed = 100; seed < 110; seed++) {
      const x = randomLossInput(seed, 5, 9);
      for (const aggregation of aggregationNames()) {
        const o = opts(x, aggregation, { klCoef: 0.1, entropyCoef: 0.02 });
        const grad = ppoClip(x, o).dLogprobs;
        const lp = Float64Array.from(x.logprobs);
        for (let i = 0; i < lp.length; i++) {
          const r = Math.exp(lp[i] - x.oldLogprobs[i]);
          if (Math.abs(r - (1 - o.epsLow)) < 1e-4 || Math.abs(r - (1 + o.epsHigh)) < 1e-4) continue; // not differentiable there
          const at = (v: number): number => ppoClipReference({ ...x, logprobs: lp.map((u, j) => (j === i ? v : u)) }, o).loss;
          const fd = (at(lp[i] + h) - at(lp[i] - h)) / (2 * h);
          expect(Math.abs(grad[i] - fd)).toBeLessThanOrEqual(1e-8 + 1e-6 * Math.abs(fd));
        }
      }
    }
  });

  describe('at the clip bounds', () => {
    // one token, old log-prob -1; ratio r = exp(lp - old) computed exactly as the loss does
    const one = (lp: number, A: number): PolicyLossInput => ({
      rows: 1,
      T: 1,
      logprobs: [lp],
      oldLogprobs: [-1],
      advantages: [A],
      mask: [1],
    });
    const run = (lp: number, A: number, epsLow: number, epsHigh: number) => {
      const x = one(lp, A);
      return ppoClip(x, opts(x, 'token-mean', { epsLow, epsHigh }));
    };
    const up = -1 + 0.18;
    const rUp = Math.exp(up - -1);
    const down = -1 - 0.25;
    const rDown = Math.exp(down - -1);

    it('A > 0: gradient -A r up to and at r = 1 + epsHigh, 0 (clipped high) above', () => {
      const at = run(up, 2, 0.2, rUp - 1); // exactly at the bound ((r - 1) + 1 === r for r in [1, 2])
      expect(at.dLogprobs[0]).toBeCloseTo(-2 * rUp, 6);
      expect(at.metrics.clipFracHigh).toBe(0);
      const above = run(up, 2, 0.2, rUp - 1 - 1e-9);
      expect(above.dLogprobs[0]).toBe(0);
      expect(above.metrics.clipFracHigh).toBe(1);
      expect(above.loss).toBeCloseTo(-2 * (rUp - 1e-9), 12);
      // a ratio below 1 - epsLow is never clipped for A > 0: its probability should rise
      const below = run(down, 2, rDown + 0.1 > 1 ? 0 : 1 - rDown - 1e-9, 0.2);
      expect(below.dLogprobs[0]).toBeCloseTo(-2 * rDown, 6);
      expect(below.metrics.clipFracLow + below.metrics.clipFracHigh).toBe(0);
    });

    it('A < 0: the dual clip caps the loss at -A c above r = c, with no gradient there (verl clip_ratio_c)', () => {
      // A = -1, ratios 0.5, 1.5, 4.0 against c = 3 (the review's case): loss terms 0.8 (clipped low), 1.5, 3 (capped)
      const x: PolicyLossInput = {
        rows: 1,
        T: 3,
        logprobs: [Math.log(0.5), Math.log(1.5), Math.log(4)],
        oldLogprobs: [0, 0, 0],
        advantages: [-1],
        mask: [1, 1, 1],
      };
      const res = ppoClip(x, opts(x, 'token-mean', { epsLow: 0.2, epsHigh: 0.2 }, lossNormalizer([{ rows: 1, T: 3, mask: x.mask }])));
      expect(res.loss).toBeCloseTo((0.8 + 1.5 + 3) / 3, 6);
      expect(Array.from(res.dLogprobs)).toEqual([0, expect.closeTo(1.5 / 3, 6), 0]);
      expect(res.metrics.clipFracDual).toBeCloseTo(1 / 3, 12);
      expect(res.metrics.clipFracLow).toBeCloseTo(1 / 3, 12);
      // without it (c above every ratio) the third token pushes with gradient -A r = 4
      const open = ppoClip(x, opts(x, 'token-mean', { clipRatioC: 10 }, lossNormalizer([{ rows: 1, T: 3, mask: x.mask }])));
      expect(open.dLogprobs[2]).toBeCloseTo(4 / 3, 6);
      expect(() => ppoClip(x, opts(x, 'token-mean', { clipRatioC: 1 }))).toThrow(/clipRatioC must be > 1/);
    });

    it('caps the k3 KL at 10 with no gradient above (verl low_var_kl)', () => {
      // pi = 0.001, ref = 0.5: k3 = e^delta - delta - 1 = 493.1 -> 10, gradient 0; a near token keeps its gradient
      const x: PolicyLossInput = {
        rows: 1,
        T: 2,
        logprobs: [Math.log(0.001), Math.log(0.4)],
        oldLogprobs: [Math.log(0.001), Math.log(0.4)],
        refLogprobs: [Math.log(0.5), Math.log(0.5)],
        advantages: [0],
        mask: [1, 1],
      };
      const res = ppoClip(x, opts(x, 'token-mean', { klCoef: 0.1 }, lossNormalizer([{ rows: 1, T: 2, mask: x.mask }])));
      const delta = Math.log(0.5 / 0.4);
      expect(res.metrics.klRef).toBeCloseTo((10 + Math.exp(delta) - delta - 1) / 2, 6);
      expect(res.dLogprobs[0]).toBeCloseTo(0, 12); // -24.95 uncapped
      expect(res.dLogprobs[1]).toBeCloseTo((0.1 * (1 - Math.exp(delta))) / 2, 6);
    });

    it('A < 0: gradient -A r down to and at r = 1 - epsLow, 0 (clipped low) below; never clipped above', () => {
      const at = run(down, -1.5, 1 - rDown, 0.2); // (1 - (1 - r)) === r for r in [0.5, 1]
      expect(at.dLogprobs[0]).toBeCloseTo(1.5 * rDown, 6);
      expect(at.metrics.clipFracLow).toBe(0);
      const below = run(down, -1.5, 1 - rDown - 1e-9, 0.2);
      expect(below.dLogprobs[0]).toBe(0);
      expect(below.metrics.clipFracLow).toBe(1);
      expect(below.loss).toBeCloseTo(1.5 * (rDown + 1e-9), 12);
      const above = run(up, -1.5, 0.2, 0.1);
      expect(above.dLogprobs[0]).toBeCloseTo(1.5 * rUp, 6);
      expect(above.loss).toBeCloseTo(1.5 * rUp, 12);
    });

    it('clamps log r to [-20, 20] with no gradient outside; inside, A < 0 with no dual clip (the default) keeps pushing', () => {
      // old log-prob -30: lp = -15 is log r = 15 (inside), lp = -5 is log r = 25 (clamped to 20)
      const far = (lp: number, A: number, entropyCoef = 0) => {
        const x: PolicyLossInput = { rows: 1, T: 1, logprobs: [lp], oldLogprobs: [-30], advantages: [A], mask: [1] };
        return ppoClip(x, opts(x, 'token-mean', { clipRatioC: Infinity, entropyCoef }));
      };
      const inside = far(-15, -1);
      expect(inside.loss / Math.exp(15)).toBeCloseTo(1, 12); // -A r
      expect(inside.dLogprobs[0] / Math.exp(15)).toBeCloseTo(1, 6); // -A r, float32
      const outside = far(-5, -1);
      expect(outside.loss / Math.exp(20)).toBeCloseTo(1, 12); // -A e^20
      expect(outside.dLogprobs[0]).toBe(0);
      // entropy bonus H^ = -r lp = 5 e^20, loss -c H^; with r held at e^20 only d(-r lp)/dlp = -r is left: dLoss = c e^20
      const entropy = far(-5, 0, 0.01);
      expect(entropy.loss / (-0.01 * 5 * Math.exp(20))).toBeCloseTo(1, 12);
      expect(entropy.dLogprobs[0] / (0.01 * Math.exp(20))).toBeCloseTo(1, 6);
    });

    it('A = 0 contributes nothing and is never clipped', () => {
      const z = run(up, 0, 0.01, 0.01);
      expect([z.loss, z.dLogprobs[0], z.metrics.clipFracLow, z.metrics.clipFracHigh]).toEqual([0, 0, 0, 0]);
    });
  });

  it('k3 KL to the reference is >= 0, exactly 0 at equality, and e - 2 at lp_ref - lp = 1', () => {
    for (let seed = 0; seed < 20; seed++) {
      const x = randomLossInput(seed);
      const m = ppoClip(x, opts(x, 'token-mean', { klCoef: 0.1 })).metrics;
      expect(m.klRef).toBeGreaterThanOrEqual(0);
      expect(m.klLoss).toBeGreaterThanOrEqual(0);
      expect(m.approxKlOld).toBeGreaterThanOrEqual(0);
      const same = ppoClip({ ...x, refLogprobs: x.logprobs }, opts(x, 'token-mean', { klCoef: 0.1 }));
      const none = ppoClip(x, opts(x, 'token-mean'));
      expect([same.metrics.klRef, same.metrics.klLoss]).toEqual([0, 0]);
      expect(same.dLogprobs).toBeAllClose(none.dLogprobs, { atol: 0, rtol: 0 });
    }
    const x: PolicyLossInput = { rows: 1, T: 1, logprobs: [-2], oldLogprobs: [-2], refLogprobs: [-1], advantages: [0], mask: [1] };
    const r = ppoClip(x, opts(x, 'token-mean', { klCoef: 1 }));
    expect(r.loss).toBeCloseTo(Math.E - 2, 14);
    expect(r.dLogprobs[0]).toBeCloseTo(1 - Math.E, 6);
  });

  it('3 micro-batches with the global normaliser give the one-piece loss, gradient and metrics', () => {
    for (const aggregation of aggregationNames()) {
      const x = randomLossInput(7, 10, 12);
      const cuts = [0, 3, 4, 10];
      const parts = cuts.slice(1).map((c, k) => sliceRows(x, cuts[k], c));
      const cfg = policyLossConfigSchema.parse({ aggregation, maxLength: 12, klCoef: 0.05, entropyCoef: 0.01 });
      const o = policyLossOptions(cfg, parts);
      const whole = ppoClip(x, policyLossOptions(cfg, [x]));
      const each = parts.map((p) => ppoClip(p, o));
      expect(Math.abs(each.reduce((s, r) => s + r.loss, 0) - whole.loss)).toBeLessThan(1e-12);
      const grad = Float32Array.from(each.flatMap((r) => Array.from(r.dLogprobs)));
      expect(Array.from(grad)).toEqual(Array.from(whole.dLogprobs));
      const merged = mergePolicyLossMetrics(each.map((r) => r.metrics));
      expect(metricsArray(merged)).toBeAllClose(metricsArray(whole.metrics), { atol: 1e-12, rtol: 1e-12 });
    }
  });

  it('merges metrics leaving a micro-batch without masked tokens out of the ratio min and max', () => {
    const x: PolicyLossInput = {
      rows: 2,
      T: 1,
      logprobs: [Math.log(1.5), Math.log(2)],
      oldLogprobs: [0, 0],
      advantages: [1, -1],
      mask: [1, 1],
    };
    const o = opts(x, 'token-mean', { epsHigh: 2 });
    const empty = ppoClip({ ...x, mask: [0, 0] }, o).metrics;
    const merged = mergePolicyLossMetrics([ppoClip(x, o).metrics, empty]);
    expect([merged.tokens, merged.ratioMin, merged.ratioMax]).toEqual([2, expect.closeTo(1.5, 12), expect.closeTo(2, 12)]);
    expect(merged.ratioMean).toBeCloseTo(1.75, 12);
  });

  it('checks its inputs and names what is wrong', () => {
    const x = randomLossInput(1, 2, 3);
    expect(() => ppoClip({ ...x, advantages: [1] }, opts(x, 'token-mean'))).toThrow(/advantages has 1 values, expected \(R,\) = 2/);
    expect(() => ppoClip({ ...x, refLogprobs: undefined }, opts(x, 'token-mean', { klCoef: 0.1 }))).toThrow(/needs refLogprobs/);
    const bad = { ...x, mask: new Uint8Array(6).fill(1), logprobs: Float64Array.from([0, 0, Number.NaN, 0, 0, 0]) };
    expect(() => ppoClip(bad, opts(bad, 'token-mean'))).toThrow(/logprobs\[2\] \(row 0\) is NaN/);
    expect(() => ppoClip(x, opts(x, 'token-mean', { epsLow: 1 }))).toThrow(/epsLow must be in \[0, 1\)/);
  });

  it('is registered by name; unknown names list the valid ones; duplicates throw', () => {
    expect(policyLossNames()).toContain('ppo-clip');
    expect(() => getPolicyLoss('grpo')).toThrow(/unknown policy loss "grpo" \(valid: ppo-clip/);
    expect(() => registerPolicyLoss('ppo-clip', ppoClip)).toThrow(/already registered/);
  });
});

describe('policyLossConfigSchema', () => {
  it("defaults to the paper's setting and explains bad fields", () => {
    expect(policyLossConfigSchema.parse({})).toEqual({
      name: 'ppo-clip',
      epsLow: 0.2,
      epsHigh: 0.2,
      klCoef: 0,
      entropyCoef: 0,
      aggregation: 'token-mean',
    });
    // no dual clip unless asked for (the paper has none)
    expect(policyLossOptions(policyLossConfigSchema.parse({}), []).clipRatioC).toBe(Infinity);
    const bad = policyLossConfigSchema.safeParse({ aggregation: 'seq-mean', name: 'x' });
    expect(bad.success).toBe(false);
    const text = JSON.stringify(bad.error?.issues);
    expect(text).toMatch(/unknown loss aggregation \\"seq-mean\\" \(valid: token-mean/);
    expect(text).toMatch(/unknown policy loss \\"x\\"/);
    const noL = policyLossConfigSchema.safeParse({ aggregation: 'seq-mean-token-sum-norm' });
    expect(JSON.stringify(noL.error?.issues)).toMatch(/needs maxLength/);
  });
});
