// Memory-bound kernel cases (issue #15) and their physical-limit baseline: every case counts the bytes it must read and
// write once, and `--baseline bandwidth` times the native STREAM copy (native/bandwidth.cpp) of the same byte count
// alternately with it, call by call, so ratio = copy ms / kernel ms (the median over the pairs) = the kernel's share of
// the copy bandwidth (target >= 0.8). A kernel that writes its output with streaming stores above the last-level cache
// (the RMSNorm backward: native/rmsnorm.cpp; the embedding gather: native/embedding.cpp) is held to the copy that
// streams too (args 'stream'): a plain-store copy first reads every destination line, so it is no physical limit for
// such a kernel. The log-softmax writes plain stores unless a streaming threshold is set (native/common.h
// streamArithmeticOutput), so it is held to the plain copy. Shared by the kernels and memory-bound suites. Not a
// correctness check.
import { Rng } from '@lwz/core';
import {
  add,
  adamwStep,
  embedding,
  embeddingBackward,
  logSoftmax,
  rmsnorm,
  rmsnormBackward,
  rope,
  streamProbe,
  swiglu,
  swigluBackward,
  tensor,
  type Tensor,
} from '@lwz/kernels';
import type { InProcessBaseline, SuiteContext, TimedCase } from '../suite';
import { disposeAll, hostArray, missingKernels, randomTensor, zerosOn } from './inputs';

/**
 * The native copy moving `bytes` (half read, half written), as the baseline of a case moving as many; args[2]
 * 'stream': with streaming stores when the copy is larger than the last-level cache (the kernels' rule).
 */
export const bandwidthBaseline: InProcessBaseline = {
  kind: 'in-process',
  description:
    'native STREAM copy (dst = src, same threads) moving the same bytes as the case; plain stores, or streaming ' +
    'stores above the LLC for the cases whose kernel streams its output (marked "vs streaming copy")',
  prepare(args, ctx) {
    const probe = streamProbe();
    if (!probe) return { skip: 'the native addon is not built (npx nx run kernels:build-native)' };
    const n = Math.max(1, Math.floor(Number(args[1]) / 8));
    // in the case device's host memory (64-byte aligned on cpu) like the kernels' tensors: both sides alike
    const src = hostArray(n, ctx.device).fill(1);
    const dst = hostArray(n, ctx.device);
    const stream = args[2] === 'stream';
    probe.copy(src, dst, stream); // fault the pages in before timing
    return { fn: () => probe.copy(src, dst, stream) };
  },
};

/**
 * A case whose work is `bytes` moved; `prepare` builds the kernel call on ctx.device. streams: the kernel writes
 * its output with streaming stores above the LLC, so its baseline is the copy that does too.
 */
function memCase(
  name: string,
  params: Record<string, number>,
  bytes: number,
  formula: string,
  kernels: Parameters<typeof missingKernels>[0],
  prepare: (ctx: SuiteContext, rng: Rng) => { fn: () => void; tensors: Tensor[] },
  streams = false,
): TimedCase {
  return {
    name,
    params,
    work: { amount: bytes, unit: 'B', formula: streams ? `${formula}; vs streaming copy` : formula },
    baseline: { bandwidth: streams ? ['copy', String(bytes), 'stream'] : ['copy', String(bytes)] },
    setup(ctx) {
      const skip = missingKernels(kernels, ctx.device);
      if (skip) return skip;
      const { fn, tensors } = prepare(ctx, new Rng(name.length));
      fn(); // first touch of the outputs happens here, not in the timing
      return { fn, dispose: () => disposeAll(...tensors) };
    },
  };
}

/** RMSNorm over N rows of C channels; bytes = every f32 read and written once. */
export function rmsnormCase(pass: 'fwd' | 'bwd', n: number, c: number): TimedCase {
  const bytes = pass === 'fwd' ? 4 * (2 * n * c + c + n) : 4 * (3 * n * c + n + 3 * c);
  const formula =
    pass === 'fwd' ? '4*(2*N*C + C + N): read x, w; write y, rstd' : '4*(3*N*C + N + 3*C): read dy, x, w, rstd; write dx; dw +=';
  return memCase(
    `rmsnorm ${pass}`,
    { N: n, C: c },
    bytes,
    formula,
    ['rmsnormForward', 'rmsnormBackward'],
    (ctx, rng) => {
      const x = randomTensor([n, c], rng, ctx.device); // (N, C)
      const w = randomTensor([c], rng, ctx.device); // (C,)
      const y = zerosOn([n, c], ctx.device); // (N, C)
      const rstd = zerosOn([n], ctx.device); // (N,)
      const dy = randomTensor([n, c], rng, ctx.device); // (N, C)
      const dx = zerosOn([n, c], ctx.device); // (N, C)
      const dw = zerosOn([c], ctx.device); // (C,)
      rmsnorm(x, w, 1e-6, { y, rstd }); // the backward needs rstd
      const fn = pass === 'fwd' ? () => rmsnorm(x, w, 1e-6, { y, rstd }) : () => rmsnormBackward(dy, x, w, rstd, dw, { dx });
      return { fn, tensors: [x, w, y, rstd, dy, dx, dw] };
    },
    pass === 'bwd',
  );
}

/** One AdamW step over P flat parameters: reads p, g, m, v and writes p, m, v (7 f32 per parameter). */
export function adamwCase(p: number): TimedCase {
  return memCase('adamw step', { P: p }, 28 * p, '28*P: read p, g, m, v; write p, m, v', ['adamwStep'], (ctx, rng) => {
    const param = randomTensor([p], rng, ctx.device); // (P,)
    const grad = randomTensor([p], rng, ctx.device, 1e-2); // (P,)
    const m = zerosOn([p], ctx.device); // (P,)
    const v = zerosOn([p], ctx.device); // (P,)
    let step = 0;
    const hyper = { lr: 1e-4, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 };
    return { fn: () => adamwStep(param, grad, m, v, { ...hyper, step: ++step }), tensors: [param, grad, m, v] };
  });
}

/** SwiGLU over N*F values: forward reads gate, up and writes out; backward reads dOut, gate, up, writes dGate, dUp. */
export function swigluCase(pass: 'fwd' | 'bwd', n: number, f: number): TimedCase {
  const per = pass === 'fwd' ? 12 : 20;
  const formula = pass === 'fwd' ? '12*N*F: read gate, up; write out' : '20*N*F: read dOut, gate, up; write dGate, dUp';
  return memCase(`swiglu ${pass}`, { N: n, F: f }, per * n * f, formula, ['swigluForward', 'swigluBackward'], (ctx, rng) => {
    const gate = randomTensor([n, f], rng, ctx.device, 4); // (N, F)
    const up = randomTensor([n, f], rng, ctx.device); // (N, F)
    const a = zerosOn([n, f], ctx.device); // (N, F): out, or dGate
    const b = zerosOn([n, f], ctx.device); // (N, F): dUp
    // dOut its own tensor: passing `up` for it (as this case did until session 35) read two arrays for the three
    // counted, 16*N*F bytes moved for 20 counted, a 1.25x flattering ratio
    const dOut = pass === 'bwd' ? randomTensor([n, f], rng, ctx.device) : null; // (N, F)
    const fn = dOut ? () => swigluBackward(dOut, gate, up, { dGate: a, dUp: b }) : () => swiglu(gate, up, { out: a });
    return { fn, tensors: [gate, up, a, b, ...(dOut ? [dOut] : [])] };
  });
}

/** RoPE over (B, T, H, D) into a separate output: reads x and positions, writes out. */
export function ropeCase(b: number, t: number, h: number, d: number): TimedCase {
  const n = b * t * h * d;
  return memCase(
    'rope',
    { B: b, T: t, H: h, D: d },
    8 * n + 4 * b * t,
    '8*B*T*H*D + 4*B*T: read x, positions; write out',
    ['ropeForward'],
    (ctx, rng) => {
      const x = randomTensor([b, t, h, d], rng, ctx.device); // (B, T, H, D)
      const positions = tensor(
        Int32Array.from({ length: b * t }, (_, i) => i % t),
        [b, t],
        { device: ctx.device, dtype: 'i32' },
      ); // (B, T)
      const out = zerosOn([b, t, h, d], ctx.device); // (B, T, H, D)
      return { fn: () => rope(x, positions, 10000, { out }), tensors: [x, positions, out] };
    },
  );
}

/** Residual add of two (N, C) streams into a third. */
export function residualAddCase(n: number, c: number): TimedCase {
  return memCase('residual add', { N: n, C: c }, 12 * n * c, '12*N*C: read a, b; write out', ['addForward'], (ctx, rng) => {
    const a = randomTensor([n, c], rng, ctx.device); // (N, C)
    const b = randomTensor([n, c], rng, ctx.device); // (N, C)
    const out = zerosOn([n, c], ctx.device); // (N, C)
    return { fn: () => add(a, b, { out }), tensors: [a, b, out] };
  });
}

/** Row-wise log-softmax of (N, V) logits into a separate output. */
export function logSoftmaxCase(n: number, v: number): TimedCase {
  return memCase(
    'log-softmax',
    { N: n, V: v },
    8 * n * v,
    '8*N*V: read x; write out',
    ['softmaxForward'],
    (ctx, rng) => {
      const x = randomTensor([n, v], rng, ctx.device, 4); // (N, V)
      const out = zerosOn([n, v], ctx.device); // (N, V)
      return { fn: () => logSoftmax(x, { out }), tensors: [x, out] };
    },
    false, // plain stores unless a streaming threshold is set (native/common.h streamArithmeticOutput)
  );
}

/** Embedding gather of N rows of C from a (V, C) table, and its scatter-add backward. */
export function embeddingCase(pass: 'gather' | 'scatter', n: number, c: number, v: number): TimedCase {
  const per = pass === 'gather' ? 8 : 12;
  const formula = pass === 'gather' ? '8*N*C + 4*N: read rows, ids; write out' : '12*N*C + 4*N: read dOut, ids; read+write dTable rows';
  const kernels = ['embeddingForward', 'embeddingBackward'] as const;
  const streams = pass === 'gather'; // the gather streams its rows above the LLC (native/embedding.cpp), the scatter cannot
  return memCase(
    `embedding ${pass}`,
    { N: n, C: c, V: v },
    per * n * c + 4 * n,
    formula,
    [...kernels],
    (ctx, rng) => {
      const table = randomTensor([v, c], rng, ctx.device); // (V, C): the table, or dTable
      // distinct rows (a shuffled prefix of 0..V-1, when N <= V): ids drawn with replacement repeat (N = V: 63 % distinct),
      // and a repeated row comes from cache while the count above charges every row to memory
      const order = rng.shuffle(Array.from({ length: v }, (_, i) => i));
      const ids = tensor(
        Int32Array.from({ length: n }, (_, i) => (n <= v ? order[i] : rng.int(v))),
        [n],
        { device: ctx.device, dtype: 'i32' },
      ); // (N,)
      const rows = zerosOn([n, c], ctx.device); // (N, C): out, or dOut
      const fn = pass === 'gather' ? () => embedding(table, ids, { out: rows }) : () => embeddingBackward(rows, ids, table);
      return { fn, tensors: [table, ids, rows] };
    },
    streams,
  );
}
