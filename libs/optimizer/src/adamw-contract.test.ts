// AdamW's contract beyond the two hand-computed steps in adamw.test.ts, each checked against the update of
// Loshchilov & Hutter written out by hand: p <- p - lr * (mhat / (sqrt(vhat) + eps) + wd * p), with the
// documented defaults (beta1 0.9, beta2 0.95, eps 1e-8, wd 0.1; no decay for norms and biases), lr 0 allowed
// (a schedule can reach it), and loadState refusing every kind of mismatched state by name.
import { tensor } from '@lwz/kernels';
import { AdamW, type AdamWState, type NamedParam } from './adamw';

const f32 = (xs: number[]) => tensor(Float32Array.from(xs), [xs.length], { device: 'ref' });
const named = (name: string, p: number[], g: number[]): NamedParam => ({ name, param: f32(p), grad: f32(g) });

describe('AdamW contract', () => {
  it('decays matrices by lr * wd * p and leaves norms and biases undecayed (zero grads isolate the decay)', () => {
    const names = ['model.layers.0.mlp.up_proj.weight', 'lm_head.weight', 'model.layers.0.self_attn.q_proj.bias', 'model.norm.weight'];
    const ps = names.map((n) => named(n, [2, -4], [0, 0]));
    // zero grad: m = v = 0, so the Adam direction is 0 / (0 + eps) = 0 and only the decay moves p
    new AdamW(ps).step(0.5);
    // decayed: p (1 - 0.5 * 0.1) = 0.95 p
    expect(ps[0].param.f32).toBeAllClose([1.9, -3.8], { rtol: 1e-6 });
    expect(ps[1].param.f32).toBeAllClose([1.9, -3.8], { rtol: 1e-6 });
    expect(Array.from(ps[2].param.f32)).toEqual([2, -4]);
    expect(Array.from(ps[3].param.f32)).toEqual([2, -4]);
  });

  it('uses the documented default betas: exp_avg = (1 - 0.9) g and exp_avg_sq = (1 - 0.95) g^2 after one step', () => {
    const ps = [named('w', [1, 1], [0.5, -0.25])];
    const opt = new AdamW(ps);
    opt.step(1e-3);
    const st = opt.state();
    expect(st.tensors['w.exp_avg']).toBeAllClose([0.05, -0.025], { rtol: 1e-6 });
    expect(st.tensors['w.exp_avg_sq']).toBeAllClose([0.0125, 0.003125], { rtol: 1e-6 });
    expect(st.meta).toEqual({ format: 'lwz-adamw/1', step: 1, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 });
  });

  it('adds the default eps 1e-8 to sqrt(vhat), outside the root: a grad of 1e-8 moves p by lr / 2', () => {
    // step 1: mhat = g, sqrt(vhat) = |g| = 1e-8, direction = 1e-8 / (1e-8 + 1e-8) = 0.5 (eps inside the root,
    // sqrt(1e-16 + 1e-8) = 1e-4, would give 1e-4; eps 1e-6 would give 0.0099)
    const ps = [named('input_layernorm.weight', [1], [1e-8])];
    new AdamW(ps).step(1);
    expect(ps[0].param.f32[0]).toBeCloseTo(0.5, 4);
  });

  it('takes lr 0 (a schedule with minLrRatio 0 ends there): parameters stay, moments and the step count advance', () => {
    const ps = [named('w', [1, -2], [0.5, 0.5])];
    const opt = new AdamW(ps);
    opt.step(0);
    expect(Array.from(ps[0].param.f32)).toEqual([1, -2]);
    expect(opt.stepCount).toBe(1);
    expect(opt.state().tensors['w.exp_avg']).toBeAllClose([0.05, 0.05], { rtol: 1e-6 });
    for (const bad of [Infinity, -1e-3, Number.NaN]) expect(() => opt.step(bad)).toThrow(/learning rate must be finite and >= 0/);
  });

  it('loads the state of a fresh optimizer (step 0) and refuses every mismatch by name', () => {
    const ps = () => [named('w', [1, 2, 3], [0.1, 0.2, 0.3])];
    const fresh = new AdamW(ps());
    const st0 = fresh.state();
    const other = new AdamW(ps());
    other.step(0.1);
    other.loadState(st0);
    expect(other.stepCount).toBe(0);

    fresh.step(0.1);
    const st = fresh.state();
    for (const [key, value] of [
      ['beta1', 0.8],
      ['beta2', 0.9],
      ['eps', 1e-6],
      ['weightDecay', 0],
    ] as const) {
      expect(() => new AdamW(ps(), { [key]: value }).loadState(st)).toThrow(new RegExp(`${key} was .* when saved, ${value} now`));
    }
    const meta = (m: Partial<Record<keyof AdamWState['meta'], unknown>>) => ({ ...st, meta: { ...st.meta, ...m } as AdamWState['meta'] });
    expect(() => new AdamW(ps()).loadState(meta({ format: 'lwz-adamw/0' }))).toThrow(/format "lwz-adamw\/0", expected "lwz-adamw\/1"/);
    for (const step of [-1, 1.5]) expect(() => new AdamW(ps()).loadState(meta({ step }))).toThrow(/step must be an integer >= 0/);
    const short = { ...st, tensors: { ...st.tensors, 'w.exp_avg_sq': new Float32Array(2) } };
    expect(() => new AdamW(ps()).loadState(short)).toThrow(/w.exp_avg_sq has 2 values, the parameter has 3/);
  });

  it('refuses a parameter name given twice, and a parameter or grad that is not f32', () => {
    const p = named('w', [1], [0]);
    expect(() => new AdamW([p, named('w', [2], [0])])).toThrow(/parameter name w appears twice/);
    const ids = tensor(Int32Array.from([1]), [1], { device: 'ref' });
    expect(() => new AdamW([{ name: 'ids', param: ids, grad: f32([0]) }])).toThrow(/ids: param and grad must be f32/);
    expect(() => new AdamW([{ name: 'ids', param: f32([0]), grad: ids }])).toThrow(/ids: param and grad must be f32/);
  });
});
