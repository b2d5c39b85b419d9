// cpu kernels on sizes above their threading thresholds (the conformance suite uses small shapes), against
// the ref kernels, plus thread-count invariance of the sum of squares and the id checks before any write.
import { Rng } from '@lwz/core';
import { tensor, tryBackend, zeros, type Device, type Tensor } from '../index';
import { getKernel } from '../registry';
import { loadAddon } from './native';

function randn(rng: Rng, shape: number[], device: Device, scale = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * scale;
  return tensor(a, shape, { device });
}

const load = loadAddon();
// REQUIRE_NATIVE=1: tryBackend throws when the addon is missing, so the suite fails instead of skipping
const built = tryBackend('cpu') !== null && 'addon' in load;
const maybe = built ? describe : describe.skip;

maybe('cpu kernels at threaded sizes', () => {
  const both = (fn: (device: Device) => Float32Array[]) => {
    const want = fn('ref');
    const got = fn('cpu');
    return { want, got };
  };

  it('add with a broadcast bias, swiglu and rmsnorm over (150, 1000)', () => {
    const { want, got } = both((device) => {
      const rng = new Rng(3);
      const x = randn(rng, [150, 1000], device);
      const bias = randn(rng, [1000], device);
      const up = randn(rng, [150, 1000], device);
      const sum = zeros([150, 1000], { device });
      getKernel('addForward', device)({ a: x, b: bias, out: sum });
      const act = zeros([150, 1000], { device });
      getKernel('swigluForward', device)({ gate: sum, up, out: act });
      const y = zeros([150, 1000], { device });
      const rstd = zeros([150], { device });
      getKernel('rmsnormForward', device)({ x: act, w: bias, eps: 1e-6, y, rstd });
      return [sum.f32, act.f32, y.f32, rstd.f32];
    });
    got.forEach((g, i) => expect(g).toBeAllClose(want[i], { atol: 1e-5, rtol: 1e-4 }));
  });

  it('log-softmax, token log-probs and entropy over (12, 32000) logits', () => {
    const { want, got } = both((device) => {
      const rng = new Rng(5);
      const logits = randn(rng, [12, 32000], device, 3);
      const targets = tensor(
        Int32Array.from({ length: 12 }, (_, i) => ((i * 7919) % 32000) - (i === 3 ? 32000 : 0)),
        [12],
        {
          device,
          dtype: 'i32',
        },
      );
      const logp = zeros([12, 32000], { device });
      getKernel('softmaxForward', device)({ x: logits, out: logp, log: true });
      const lp = zeros([12], { device });
      const lse = zeros([12], { device });
      getKernel('tokenLogprobsForward', device)({ logits, targets, logprobs: lp, lse });
      const ent = zeros([12], { device });
      getKernel('entropyForward', device)({ logits, entropy: ent });
      return [logp.f32, lp.f32, lse.f32, ent.f32];
    });
    got.forEach((g, i) => expect(g).toBeAllClose(want[i], { atol: 5e-5, rtol: 1e-5 }));
  });

  it('sum of squares is the same for 1 and 2 threads and matches float64', () => {
    if (!('addon' in load)) return;
    const x = randn(new Rng(9), [1_000_003], 'cpu');
    const ref = getKernel('sumSquares', 'ref')({ x });
    const threads = load.addon.info().threads;
    load.addon.setThreads(1);
    const one = getKernel('sumSquares', 'cpu')({ x });
    load.addon.setThreads(2);
    const two = getKernel('sumSquares', 'cpu')({ x });
    load.addon.setThreads(threads);
    expect(two).toBe(one);
    expect(Math.abs(one - ref) / ref).toBeLessThan(1e-12);
  });

  it('embedding ids outside the vocabulary throw before anything is written', () => {
    const table = randn(new Rng(1), [10, 4], 'cpu');
    const out = zeros([3, 4], { device: 'cpu' });
    const ids = tensor(Int32Array.from([1, 10, 2]), [3], { device: 'cpu', dtype: 'i32' });
    expect(() => getKernel('embeddingForward', 'cpu')({ table, ids, out })).toThrow('id 10 at position 1');
    expect(Array.from(out.f32)).toEqual(new Array(12).fill(0));
  });
});

if (!built) it.skip('cpu kernels: the native addon is not built', () => undefined);
