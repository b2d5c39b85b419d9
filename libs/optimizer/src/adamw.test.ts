import { type Tensor, tensor } from '@lwz/kernels';
import { Rng } from '@lwz/core';
import { AdamW, type NamedParam } from './adamw';

const f32 = (xs: number[]) => tensor(Float32Array.from(xs), [xs.length], { device: 'ref' });

function params(): NamedParam[] {
  return [
    { name: 'layers.0.mlp.weight', param: f32([1, -2, 0.5]), grad: f32([0, 0, 0]) },
    { name: 'layers.0.input_layernorm.weight', param: f32([1, -2, 0.5]), grad: f32([0, 0, 0]) },
  ];
}

function setGrads(ps: NamedParam[], g: number[]): void {
  for (const p of ps) p.grad.f32.set(g);
}

describe('AdamW', () => {
  it('matches two hand-computed steps with bias correction and decoupled weight decay', () => {
    const ps = params();
    const opt = new AdamW(ps, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 });
    // step 1: m = 0.1 g, v = 0.001 g^2, mhat = g, vhat = g^2, so the Adam direction is sign(g) (eps aside)
    setGrads(ps, [0.1, -0.2, 0.3]);
    opt.step(0.01);
    // decayed: p - 0.01 (sign(g) + 0.1 p): 1 - 0.011 = 0.989; -2 - 0.01 (-1 - 0.2) = -1.988; 0.5 - 0.0105 = 0.4895
    expect(ps[0].param.f32).toBeAllClose([0.989, -1.988, 0.4895], { rtol: 1e-6, atol: 1e-6 });
    // the norm weight gets no decay: p - 0.01 sign(g)
    expect(ps[1].param.f32).toBeAllClose([0.99, -1.99, 0.49], { rtol: 1e-6, atol: 1e-6 });
    // step 2, element 0 by hand: m = 0.9 (0.01) + 0.1 (-0.05) = 0.004, mhat = 0.004 / 0.19 = 0.0210526;
    // v = 0.999 (1e-5) + 0.001 (0.0025) = 1.249e-5, vhat = 1.249e-5 / 0.001999 = 0.00624812, sqrt = 0.0790451;
    // direction 0.266337; p = 0.989 - 0.02 (0.266337 + 0.0989) = 0.9816953
    // element 1: m = -0.018 + 0.04 = 0.022, mhat = 0.115789; v = 3.996e-5 + 1.6e-4 = 1.9996e-4, vhat = 0.1000300,
    // sqrt = 0.3162752, direction 0.366102; p = -1.988 - 0.02 (0.366102 - 0.1988) = -1.9913461
    // element 2: m = 0.027, mhat = 0.142105; v = 8.991e-5, vhat = 0.0449775, sqrt = 0.2120790, direction 0.670058;
    // p = 0.4895 - 0.02 (0.670058 + 0.04895) = 0.4751198
    setGrads(ps, [-0.05, 0.4, 0]);
    opt.step(0.02);
    expect(ps[0].param.f32).toBeAllClose([0.9816953, -1.9913461, 0.4751198], { rtol: 1e-6, atol: 2e-6 });
    // without decay: 0.99 - 0.02 (0.266337) = 0.9846733; -1.99 - 0.02 (0.366102) = -1.9973220; 0.49 - 0.0134012 = 0.4765988
    expect(ps[1].param.f32).toBeAllClose([0.9846733, -1.997322, 0.4765988], { rtol: 1e-6, atol: 2e-6 });
    expect(opt.stepCount).toBe(2);
  });

  it('saves and restores its state so a resumed run is bit-identical', () => {
    const rng = new Rng(7);
    const n = 50;
    const init = Float32Array.from({ length: n }, () => rng.normal());
    const gradsPerStep = Array.from({ length: 5 }, () => Float32Array.from({ length: n }, () => rng.normal() * 0.1));
    const make = (): NamedParam[] => [
      {
        name: 'w',
        param: tensor(new Float32Array(init), [5, 10], { device: 'ref' }),
        grad: tensor(new Float32Array(n), [5, 10], { device: 'ref' }),
      },
    ];
    const run = (ps: NamedParam[], opt: AdamW, from: number, to: number) => {
      for (let s = from; s < to; s++) {
        ps[0].grad.f32.set(gradsPerStep[s]);
        opt.step(1e-2 * (s + 1));
      }
    };
    const a = make();
    const optA = new AdamW(a);
    run(a, optA, 0, 2);
    const saved = optA.state();
    const savedParam = new Float32Array(a[0].param.f32);
    const meta = JSON.parse(JSON.stringify(saved.meta));
    run(a, optA, 2, 5);

    const b = make();
    b[0].param.f32.set(savedParam);
    const optB = new AdamW(b);
    optB.loadState({ tensors: saved.tensors, meta });
    expect(optB.stepCount).toBe(2);
    run(b, optB, 2, 5);
    expect(Buffer.from(b[0].param.f32.buffer).equals(Buffer.from(a[0].param.f32.buffer))).toBe(true);
    expect(Object.keys(saved.tensors).sort()).toEqual(['w.exp_avg', 'w.exp_avg_sq']);
  });

  it('refuses mismatched state and bad inputs with a message naming the problem', () => {
    const ps = params();
    const opt = new AdamW(ps);
    const st = opt.state();
    expect(() => new AdamW(ps, { beta2: 0.999 }).loadState(st)).toThrow(/beta2 was 0.95 when saved, 0.999 now/);
    const missing = { ...st, tensors: { ...st.tensors } };
    delete missing.tensors['layers.0.mlp.weight.exp_avg'];
    expect(() => opt.loadState(missing)).toThrow(/missing tensor layers.0.mlp.weight.exp_avg/);
    expect(() => opt.loadState({ ...st, tensors: { ...st.tensors, 'x.exp_avg': new Float32Array(1) } })).toThrow(
      /unknown tensors x.exp_avg/,
    );
    expect(() => opt.step(Number.NaN)).toThrow(/learning rate/);
    const g: Tensor = f32([1, 2]);
    expect(() => new AdamW([{ name: 'p', param: f32([1, 2, 3]), grad: g }])).toThrow(/grad \(2 on ref\) must match param \(3 on ref\)/);
  });
});
