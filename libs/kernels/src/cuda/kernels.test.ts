// The cuda backend's TypeScript half on a fake addon (host memory, ref kernels): every contract kernel goes
// through the cuda kernel table and must give exactly what the ref kernel gives on the same values, which
// proves the table passes each pointer (views: storage pointer + offset) and size where the addon expects it.
// Also: allocations are zeroed, dispose frees, device-side errors surface at the next read, and
// LWZ_CUDA_CHECK_FINITE names the kernel.
// The CUDA kernels themselves are checked by libs/kernels/cuda/lab and tools/gpu-check on a GPU.
import { Rng } from '@lwz/core';
import { Tensor, type Backend, type DType } from '../index';
import { getKernel, registeredKernels, type KernelName } from '../registry';
import type { KernelSignatures } from '../kernel-signatures';
import { hostStorage } from '../tensor';
import { cudaBackendFactory } from './device';
import { fakeCudaAddon } from './fake-addon';
import { cudaKernels } from './kernels';

const fake = fakeCudaAddon();
let table = new Map<KernelName, KernelSignatures[KernelName]>();
const started = cudaBackendFactory(
  () => ({ addon: fake, path: 'fake' }),
  (entries) => (table = new Map(entries)),
)();
if ('unavailable' in started) throw new Error(started.unavailable);
const backend: Backend = started;
/** The cuda kernel the fake backend registered (the global registry belongs to the real backend). */
const cuda = <K extends KernelName>(name: K) => table.get(name) as KernelSignatures[K];

type Make = (values: ArrayLike<number>, shape: number[], dtype?: DType) => Tensor;
const onCuda: Make = (values, shape, dtype = 'f32') =>
  new Tensor(dtype, shape, 'cuda', backend.upload(dtype === 'f32' ? Float32Array.from(values) : Int32Array.from(values)));
const onRef: Make = (values, shape, dtype = 'f32') =>
  new Tensor(dtype, shape, 'ref', hostStorage(dtype === 'f32' ? Float32Array.from(values) : Int32Array.from(values)));

function randn(rng: Rng, n: number, scale = 1): number[] {
  return Array.from({ length: n }, () => rng.normal() * scale);
}

interface Case {
  kernel: KernelName;
  /** builds the kernel's arguments with `make`; the same seed gives the same values on both devices */
  args: (make: Make, rng: Rng) => Record<string, unknown>;
  outputs: string[];
}

const cases: Case[] = [
  {
    kernel: 'copyForward',
    args: (mk, r) => ({ src: mk(randn(r, 20), [4, 5]).rows(1, 2), out: mk(randn(r, 30), [6, 5]).rows(3, 2) }),
    outputs: ['out'],
  },
  {
    kernel: 'copyForward',
    args: (mk) => ({ src: mk([4, 5, 6, 7], [4], 'i32').view(1, [2]), out: mk([0, 0, 0], [3], 'i32').view(1, [2]) }),
    outputs: ['out'],
  },
  {
    kernel: 'copyAtForward', // rows of a (3, 2, 2, 3) step into a view of rows 1..3 of a (5, 6, 2, 3) cache, at 4, 0, 2
    args: (mk, r) => ({
      src: mk(randn(r, 36), [3, 2, 2, 3]),
      out: mk(randn(r, 180), [5, 6, 2, 3]).rows(1, 3),
      at: Int32Array.from([4, 0, 2]),
      heads: 1,
    }),
    outputs: ['out'],
  },
  {
    kernel: 'copyAtForward', // head-major: a (3, 2, 2, 3) step into rows 1..3 of a (5, 2, 6, 3) (B, Hkv, S, D) cache
    args: (mk, r) => ({
      src: mk(randn(r, 36), [3, 2, 2, 3]),
      out: mk(randn(r, 180), [5, 2, 6, 3]).rows(1, 3),
      at: Int32Array.from([4, 0, 2]),
      heads: 2,
    }),
    outputs: ['out'],
  },
  { kernel: 'fillForward', args: (mk, r) => ({ out: mk(randn(r, 12), [3, 4]).rows(1, 1), value: -1.5 }), outputs: ['out'] },
  { kernel: 'fillForward', args: (mk) => ({ out: mk([1, 2, 3, 4, 5], [5], 'i32').view(2, [3]), value: 9 }), outputs: ['out'] },
  {
    kernel: 'matmulForward',
    args: (mk, r) => ({
      a: mk(randn(r, 40), [8, 5]).rows(2, 3),
      b: mk(randn(r, 30), [6, 5]),
      out: mk(randn(r, 60), [10, 6]).rows(5, 3),
      transA: false,
      transB: true,
      alpha: 1,
      accumulate: true,
    }),
    outputs: ['out'],
  },
  {
    kernel: 'matmulForward',
    args: (mk, r) => ({
      a: mk(randn(r, 60), [3, 5, 4]),
      b: mk(randn(r, 30), [6, 5]),
      out: mk(randn(r, 72), [3, 4, 6]),
      transA: true,
      transB: true,
      alpha: 0.5,
      accumulate: true,
    }),
    outputs: ['out'],
  },
  {
    kernel: 'matmulForward',
    args: (mk, r) => ({
      a: mk(randn(r, 60), [3, 4, 5]),
      b: mk(randn(r, 90), [3, 5, 6]),
      out: mk(randn(r, 72), [3, 4, 6]),
      transA: false,
      transB: false,
      alpha: 1,
      accumulate: false,
    }),
    outputs: ['out'],
  },
  {
    kernel: 'addForward',
    args: (mk, r) => ({ a: mk(randn(r, 24), [4, 6]), b: mk(randn(r, 6), [6]), out: mk(randn(r, 24), [4, 6]) }),
    outputs: ['out'],
  },
  {
    kernel: 'mulForward',
    args: (mk, r) => ({ a: mk(randn(r, 24), [4, 6]), b: mk(randn(r, 24), [4, 6]), out: mk(randn(r, 24), [4, 6]) }),
    outputs: ['out'],
  },
  {
    kernel: 'scaleForward',
    args: (mk, r) => ({ a: mk(randn(r, 7), [7]), out: mk(randn(r, 7), [7]), alpha: -2, beta: 0.5 }),
    outputs: ['out'],
  },
  {
    kernel: 'sumRowsForward',
    args: (mk, r) => ({ a: mk(randn(r, 35), [7, 5]), out: mk(randn(r, 5), [5]), accumulate: true }),
    outputs: ['out'],
  },
  {
    kernel: 'embeddingForward',
    args: (mk, r) => ({ table: mk(randn(r, 30), [10, 3]), ids: mk([9, 0, 4, 4], [2, 2], 'i32'), out: mk(randn(r, 12), [2, 2, 3]) }),
    outputs: ['out'],
  },
  {
    kernel: 'embeddingBackward',
    args: (mk, r) => ({ dOut: mk(randn(r, 12), [4, 3]), ids: mk([9, 0, 4, 4], [4], 'i32'), dTable: mk(randn(r, 30), [10, 3]) }),
    outputs: ['dTable'],
  },
  {
    kernel: 'rmsnormForward',
    args: (mk, r) => ({
      x: mk(randn(r, 15), [3, 5]),
      w: mk(randn(r, 5), [5]),
      eps: 1e-5,
      y: mk(randn(r, 15), [3, 5]),
      rstd: mk(randn(r, 3), [3]),
    }),
    outputs: ['y', 'rstd'],
  },
  {
    kernel: 'rmsnormBackward',
    args: (mk, r) => ({
      dy: mk(randn(r, 15), [3, 5]),
      x: mk(randn(r, 15), [3, 5]),
      w: mk(randn(r, 5), [5]),
      rstd: mk([0.5, 1, 2], [3]),
      dx: mk(randn(r, 15), [3, 5]),
      dw: mk(randn(r, 5), [5]),
    }),
    outputs: ['dx', 'dw'],
  },
  {
    kernel: 'ropeForward',
    args: (mk, r) => ({
      x: mk(randn(r, 96), [2, 3, 2, 8]),
      positions: mk([0, 1, 2, 50, 51, 52], [2, 3], 'i32'),
      theta: 1e4,
      out: mk(randn(r, 96), [2, 3, 2, 8]),
      inverse: true,
    }),
    outputs: ['out'],
  },
  ...(['attentionForward', 'attentionBackward', 'attentionForward'] as const).map(
    (kernel, i): Case => ({
      kernel,
      args: (mk, r) => ({
        q: mk(randn(r, 2 * 3 * 4 * 5), [2, 3, 4, 5]),
        // the third: the forward over a head-major (B, Hkv, S, D) cache
        k: mk(randn(r, 2 * 7 * 2 * 5), i === 2 ? [2, 2, 7, 5] : [2, 7, 2, 5]),
        v: mk(randn(r, 2 * 7 * 2 * 5), i === 2 ? [2, 2, 7, 5] : [2, 7, 2, 5]),
        qOffset: mk([4, 2], [2], 'i32'),
        kvStart: mk([0, 1], [2], 'i32'),
        scale: 0.4,
        kvLayout: i === 2 ? 'bhsd' : 'bshd',
        out: mk(randn(r, 120), [2, 3, 4, 5]),
        lse: mk(randn(r, 24), [2, 4, 3]),
        dOut: mk(randn(r, 120), [2, 3, 4, 5]),
        dq: mk(randn(r, 120), [2, 3, 4, 5]),
        dk: mk(randn(r, 140), [2, 7, 2, 5]),
        dv: mk(randn(r, 140), [2, 7, 2, 5]),
      }),
      outputs: kernel === 'attentionForward' ? ['out', 'lse'] : ['dq', 'dk', 'dv'],
    }),
  ),
  {
    kernel: 'swigluForward',
    args: (mk, r) => ({ gate: mk(randn(r, 9), [3, 3]), up: mk(randn(r, 9), [3, 3]), out: mk(randn(r, 9), [3, 3]) }),
    outputs: ['out'],
  },
  {
    kernel: 'swigluBackward',
    args: (mk, r) => ({
      dOut: mk(randn(r, 9), [9]),
      gate: mk(randn(r, 9), [9]),
      up: mk(randn(r, 9), [9]),
      dGate: mk(randn(r, 9), [9]),
      dUp: mk(randn(r, 9), [9]),
    }),
    outputs: ['dGate', 'dUp'],
  },
  {
    kernel: 'softmaxForward',
    args: (mk, r) => ({ x: mk(randn(r, 24, 3), [2, 3, 4]), out: mk(randn(r, 24), [2, 3, 4]), log: true }),
    outputs: ['out'],
  },
  {
    kernel: 'tokenLogprobsForward',
    args: (mk, r) => ({
      logits: mk(randn(r, 21), [3, 7]),
      targets: mk([6, -1, 0], [3], 'i32'),
      logprobs: mk(randn(r, 3), [3]),
      lse: mk(randn(r, 3), [3]),
    }),
    outputs: ['logprobs', 'lse'],
  },
  {
    kernel: 'tokenLogprobsBackward',
    args: (mk, r) => ({
      dLogprobs: mk(randn(r, 3), [3]),
      logits: mk(randn(r, 21), [3, 7]),
      targets: mk([6, -1, 0], [3], 'i32'),
      lse: mk([2, 2.5, 3], [3]),
      dLogits: mk(randn(r, 21), [3, 7]),
    }),
    outputs: ['dLogits'],
  },
  {
    kernel: 'entropyForward',
    args: (mk, r) => ({ logits: mk(randn(r, 21), [3, 7]), entropy: mk(randn(r, 3), [3]) }),
    outputs: ['entropy'],
  },
  {
    kernel: 'adamwStep',
    args: (mk, r) => ({
      param: mk(randn(r, 11), [11]),
      grad: mk(randn(r, 11), [11]),
      m: mk(randn(r, 11, 0.1), [11]),
      v: mk(randn(r, 11).map(Math.abs), [11]),
      lr: 0.01,
      beta1: 0.8,
      beta2: 0.95,
      eps: 1e-6,
      weightDecay: 0.1,
      step: 3,
    }),
    outputs: ['param', 'm', 'v'],
  },
  {
    kernel: 'sampleForward',
    args: (mk, r) => ({
      logits: mk(randn(r, 40, 2), [4, 10]),
      uniforms: mk([0.1, 0.5, 0.9, 0.99], [4]),
      temperature: 0.7,
      topK: 5,
      topP: 0.8,
      ids: mk([0, 0, 0, 0], [4], 'i32'),
    }),
    outputs: ['ids'],
  },
];

describe('cuda kernel table on a fake addon (host memory, ref kernels)', () => {
  it.each(cases.map((c, i) => [`${c.kernel} #${i}`, c] as const))('%s: same values as ref', (_, c) => {
    const want = c.args(onRef, new Rng(5));
    const got = c.args(onCuda, new Rng(5));
    const rw = (getKernel(c.kernel, 'ref') as (a: unknown) => unknown)(want);
    const rg = (cuda(c.kernel) as (a: unknown) => unknown)(got);
    expect(rg).toEqual(rw);
    for (const key of c.outputs) expect(Array.from((got[key] as Tensor).toHost())).toEqual(Array.from((want[key] as Tensor).toHost()));
  });

  it('sumSquares returns the host number', () => {
    const x = [1, -2, 3];
    expect(cuda('sumSquares')({ x: onCuda(x, [3]) })).toBe(14);
  });

  it('covers every contract kernel', () => {
    const ran = [...fake.calls.keys()].sort();
    expect([...table.keys()].sort()).toEqual(registeredKernels('ref').sort());
    expect(ran).toEqual(registeredKernels('ref').sort());
  });
});

describe('cuda memory and device errors on a fake addon', () => {
  it('zero-fills allocations (cudaMalloc gives garbage) and frees on dispose', () => {
    const before = fake.blocks();
    const t = new Tensor('f32', [5], 'cuda', backend.alloc('f32', 5));
    expect(Array.from(t.toHost())).toEqual([0, 0, 0, 0, 0]);
    expect(fake.blocks()).toBe(before + 1);
    t.dispose();
    expect(fake.blocks()).toBe(before);
  });

  it('raises an out-of-range embedding id at the next read, naming the kernels', () => {
    const out = new Tensor('f32', [1, 3], 'cuda', backend.alloc('f32', 3));
    cuda('embeddingForward')({ table: onCuda(new Array(30).fill(1), [10, 3]), ids: onCuda([10], [1], 'i32'), out });
    expect(() => out.toHost()).toThrow(/embedding id outside \[0, V\).*embeddingForward/);
    expect(Array.from(out.toHost())).toEqual([0, 0, 0]); // reported once
  });

  it('LWZ_CUDA_CHECK_FINITE names the kernel that produced a NaN', () => {
    const add = new Map(cudaKernels(true)).get('addForward') as (a: unknown) => void;
    const args = { a: onCuda([1, NaN], [2]), b: onCuda([1, 1], [2]), out: onCuda([0, 0], [2]) };
    expect(() => add(args)).toThrow(/cuda addForward: 1 NaN\/Inf value\(s\) in out \[2\]/);
    const clean = { a: onCuda([1, 2], [2]), b: onCuda([1, 1], [2]), out: onCuda([0, 0], [2]) };
    expect(() => add(clean)).not.toThrow();
  });
});
