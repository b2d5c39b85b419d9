// Test-only: a CudaAddon whose "device memory" is host buffers and whose kernels are the ref kernels, rebuilt
// from the pointers and sizes the cuda kernel table passes. It checks the TypeScript half of the backend
// (storage, pointer arithmetic, which size goes where) on machines without a GPU; it says nothing about the CUDA
// kernels themselves (the lab and the GPU check do). f32 storage (and i32 for copy / fill), like the Tensor.
import { getKernel, type KernelName } from '../registry';
import { Tensor, hostStorage } from '../tensor';
import type { CudaAddon } from './native';

interface Block {
  base: number;
  bytes: number;
  buffer: ArrayBuffer;
}

export interface FakeAddon extends CudaAddon {
  /** calls made so far, by entry point */
  calls: Map<string, number>;
  blocks(): number;
}

export function fakeCudaAddon(): FakeAddon {
  const blocks: Block[] = [];
  let next = 0x10000;
  const calls = new Map<string, number>();
  let errors = 0;

  function find(ptr: number): { block: Block; offset: number } {
    const block = blocks.find((b) => ptr >= b.base && ptr < b.base + Math.max(b.bytes, 1));
    if (!block) throw new Error(`fake cuda: ${ptr} is not device memory`);
    return { block, offset: ptr - block.base };
  }
  const f32 = (ptr: number, n: number) => {
    const { block, offset } = find(ptr);
    return new Float32Array(block.buffer, offset, n);
  };
  const i32 = (ptr: number, n: number) => {
    const { block, offset } = find(ptr);
    return new Int32Array(block.buffer, offset, n);
  };
  const ft = (ptr: number, shape: number[]) =>
    new Tensor(
      'f32',
      shape,
      'ref',
      hostStorage(
        f32(
          ptr,
          shape.reduce((a, b) => a * b, 1),
        ),
      ),
    );
  const it = (ptr: number, shape: number[]) =>
    new Tensor(
      'i32',
      shape,
      'ref',
      hostStorage(
        i32(
          ptr,
          shape.reduce((a, b) => a * b, 1),
        ),
      ),
    );
  const dtF32 = (dt: number) => {
    if (dt !== 0) throw new Error(`fake cuda: dtype ${dt}; the TypeScript side only passes f32 (0)`);
  };
  /** The ref kernel for `name`, counted; the storage dtype must be f32. */
  function refKernel<K extends KernelName>(dt: number, name: K) {
    dtF32(dt);
    calls.set(name, (calls.get(name) ?? 0) + 1);
    return getKernel(name, 'ref');
  }

  const addon: FakeAddon = {
    calls,
    blocks: () => blocks.length,
    init: () => 'fake device (host memory, ref kernels)',
    synchronize: () => undefined,
    setOption: () => undefined,
    alloc: (bytes) => {
      const base = next;
      next += Math.ceil(Math.max(bytes, 1) / 256) * 256 + 256;
      blocks.push({ base, bytes, buffer: new ArrayBuffer(Math.max(bytes, 4)) });
      new Uint8Array(blocks[blocks.length - 1].buffer).fill(0xff); // garbage, as cudaMalloc gives
      return base;
    },
    free: (ptr) => {
      const i = blocks.findIndex((b) => b.base === ptr);
      if (i < 0) throw new Error(`fake cuda: free of ${ptr}, which is not an allocation`);
      blocks.splice(i, 1);
    },
    memsetZero: (ptr, bytes) => new Uint8Array(find(ptr).block.buffer, find(ptr).offset, bytes).fill(0),
    upload: (ptr, src) =>
      new Uint8Array(find(ptr).block.buffer, find(ptr).offset, src.byteLength).set(
        new Uint8Array(src.buffer, src.byteOffset, src.byteLength),
      ),
    download: (ptr, dst) =>
      new Uint8Array(dst.buffer, dst.byteOffset, dst.byteLength).set(
        new Uint8Array(find(ptr).block.buffer, find(ptr).offset, dst.byteLength),
      ),
    memoryStats: () => ({ inUse: blocks.reduce((a, b) => a + b.bytes, 0), cached: 0, mallocs: blocks.length }),
    emptyCache: () => undefined,
    takeDeviceErrors: () => {
      const e = errors;
      errors = 0;
      return e;
    },
    matmul: (a, adt, b, bdt, out, odt, batch, m, n, k, bBatched, transA, transB, alpha, accumulate) => {
      [bdt, odt].forEach(dtF32);
      const lead = batch > 1 ? [batch] : [];
      const aShape = [...lead, ...(transA ? [k, m] : [m, k])];
      const bShape = [...(bBatched && batch > 1 ? [batch] : []), ...(transB ? [n, k] : [k, n])];
      refKernel(
        adt,
        'matmulForward',
      )({ a: ft(a, aShape), b: ft(b, bShape), out: ft(out, [...lead, m, n]), transA, transB, alpha, accumulate });
    },
    add: (a, b, out, dt, n, nb) => refKernel(dt, 'addForward')({ a: ft(a, [n]), b: ft(b, [nb]), out: ft(out, [n]) }),
    mul: (a, b, out, dt, n, nb) => refKernel(dt, 'mulForward')({ a: ft(a, [n]), b: ft(b, [nb]), out: ft(out, [n]) }),
    scale: (a, out, dt, n, alpha, beta) => refKernel(dt, 'scaleForward')({ a: ft(a, [n]), out: ft(out, [n]), alpha, beta }),
    sumRows: (a, dt, out, n, c, accumulate) => refKernel(dt, 'sumRowsForward')({ a: ft(a, [n, c]), out: ft(out, [c]), accumulate }),
    copy: (src, sdt, dst, ddt, n) => {
      if (sdt !== ddt || (sdt !== 0 && sdt !== 2)) throw new Error(`fake cuda: copy from dtype ${sdt} to ${ddt}`);
      calls.set('copyForward', (calls.get('copyForward') ?? 0) + 1);
      i32(dst, n).set(i32(src, n)); // 4-byte elements either way: copy the bits
    },
    copyAt: (src, sdt, dst, ddt, at, b, t, s, e, heads) => {
      if (sdt !== ddt || (sdt !== 0 && sdt !== 2)) throw new Error(`fake cuda: copyAt from dtype ${sdt} to ${ddt}`);
      if (at.length < b) throw new Error(`fake cuda: copyAt got ${at.length} positions for ${b} rows`);
      calls.set('copyAtForward', (calls.get('copyAtForward') ?? 0) + 1);
      for (let r = 0; r < b; r++) {
        if (at[r] < 0 || at[r] + t > s) throw new Error(`fake cuda: copyAt row ${r}: ${t} positions from ${at[r]} do not fit in ${s}`);
        for (let i = 0; i < t; i++) {
          for (let h = 0; h < heads; h++) {
            // lwz_copy_at's addressing: src (B, T, heads, E) -> dst (B, heads, S, E)
            i32(dst + ((r * heads + h) * s + at[r] + i) * e * 4, e).set(i32(src + ((r * t + i) * heads + h) * e * 4, e));
          }
        }
      }
    },
    fill: (out, dt, n, value) => {
      if (dt !== 0 && dt !== 2) throw new Error(`fake cuda: fill of dtype ${dt}`);
      calls.set('fillForward', (calls.get('fillForward') ?? 0) + 1);
      if (dt === 0) f32(out, n).fill(value);
      else i32(out, n).fill(value);
    },
    embeddingForward: (table, ids, out, dt, n, c, v) => {
      const bad = Array.from(i32(ids, n)).some((id) => id < 0 || id >= v);
      if (bad) errors |= 1;
      else refKernel(dt, 'embeddingForward')({ table: ft(table, [v, c]), ids: it(ids, [n]), out: ft(out, [n, c]) });
    },
    embeddingBackward: (dOut, dt, ids, dTable, n, c, v) =>
      refKernel(dt, 'embeddingBackward')({ dOut: ft(dOut, [n, c]), ids: it(ids, [n]), dTable: ft(dTable, [v, c]) }),
    rmsnormForward: (x, w, y, rstd, dt, n, c, eps) =>
      refKernel(dt, 'rmsnormForward')({ x: ft(x, [n, c]), w: ft(w, [c]), eps, y: ft(y, [n, c]), rstd: ft(rstd, [n]) }),
    rmsnormBackward: (dy, x, w, rstd, dx, dw, dt, n, c) =>
      refKernel(
        dt,
        'rmsnormBackward',
      )({ dy: ft(dy, [n, c]), x: ft(x, [n, c]), w: ft(w, [c]), rstd: ft(rstd, [n]), dx: ft(dx, [n, c]), dw: ft(dw, [c]) }),
    rope: (x, positions, out, dt, b, t, h, d, theta, inverse) =>
      refKernel(
        dt,
        'ropeForward',
      )({ x: ft(x, [b, t, h, d]), positions: it(positions, [b, t]), theta, out: ft(out, [b, t, h, d]), inverse }),
    attentionForward: (q, k, v, qOffset, kvStart, out, lse, dt, b, t, s, h, hkv, d, scale, headMajor) => {
      const qs = [b, t, h, d];
      const ks = headMajor ? [b, hkv, s, d] : [b, s, hkv, d];
      refKernel(
        dt,
        'attentionForward',
      )({
        q: ft(q, qs),
        k: ft(k, ks),
        v: ft(v, ks),
        qOffset: it(qOffset, [b]),
        kvStart: it(kvStart, [b]),
        scale,
        kvLayout: headMajor ? 'bhsd' : 'bshd',
        out: ft(out, qs),
        lse: ft(lse, [b, h, t]),
      });
    },
    attentionBackward: (q, k, v, qOffset, kvStart, out, lse, dOut, dq, dk, dv, dt, b, t, s, h, hkv, d, scale) => {
      const qs = [b, t, h, d];
      const ks = [b, s, hkv, d];
      refKernel(
        dt,
        'attentionBackward',
      )({
        q: ft(q, qs),
        k: ft(k, ks),
        v: ft(v, ks),
        qOffset: it(qOffset, [b]),
        kvStart: it(kvStart, [b]),
        scale,
        kvLayout: 'bshd',
        out: ft(out, qs),
        lse: ft(lse, [b, h, t]),
        dOut: ft(dOut, qs),
        dq: ft(dq, qs),
        dk: ft(dk, ks),
        dv: ft(dv, ks),
      });
    },
    swigluForward: (gate, up, out, dt, n) => refKernel(dt, 'swigluForward')({ gate: ft(gate, [n]), up: ft(up, [n]), out: ft(out, [n]) }),
    swigluBackward: (dOut, gate, up, dGate, dUp, dt, n) =>
      refKernel(
        dt,
        'swigluBackward',
      )({ dOut: ft(dOut, [n]), gate: ft(gate, [n]), up: ft(up, [n]), dGate: ft(dGate, [n]), dUp: ft(dUp, [n]) }),
    softmax: (x, out, dt, n, v, log) => refKernel(dt, 'softmaxForward')({ x: ft(x, [n, v]), out: ft(out, [n, v]), log }),
    tokenLogprobsForward: (logits, targets, logprobs, lse, dt, n, v) =>
      refKernel(
        dt,
        'tokenLogprobsForward',
      )({ logits: ft(logits, [n, v]), targets: it(targets, [n]), logprobs: ft(logprobs, [n]), lse: ft(lse, [n]) }),
    tokenLogprobsBackward: (dLogprobs, logits, targets, lse, dLogits, dt, n, v) =>
      refKernel(
        dt,
        'tokenLogprobsBackward',
      )({
        dLogprobs: ft(dLogprobs, [n]),
        logits: ft(logits, [n, v]),
        targets: it(targets, [n]),
        lse: ft(lse, [n]),
        dLogits: ft(dLogits, [n, v]),
      }),
    entropy: (logits, entropy, dt, n, v) => refKernel(dt, 'entropyForward')({ logits: ft(logits, [n, v]), entropy: ft(entropy, [n]) }),
    adamw: (param, grad, gdt, m, v, n, lr, beta1, beta2, eps, weightDecay, step) =>
      refKernel(
        gdt,
        'adamwStep',
      )({ param: ft(param, [n]), grad: ft(grad, [n]), m: ft(m, [n]), v: ft(v, [n]), lr, beta1, beta2, eps, weightDecay, step }),
    sumSquares: (x, dt, n) => refKernel(dt, 'sumSquares')({ x: ft(x, [n]) }),
    countNonFinite: (x, dt, n) => {
      dtF32(dt);
      return Array.from(f32(x, n)).filter((e) => !Number.isFinite(e)).length;
    },
    sample: (logits, uniforms, ids, dt, n, v, temperature, topK, topP) =>
      refKernel(
        dt,
        'sampleForward',
      )({ logits: ft(logits, [n, v]), uniforms: ft(uniforms, [n]), temperature, topK, topP, ids: it(ids, [n]) }),
  };
  return addon;
}
