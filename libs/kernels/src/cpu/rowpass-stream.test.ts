// The streaming-store writes of the row passes (native/rowpass_impl.h writeRow: non-temporal stores on the
// 64-byte lines an output row covers whole, plain stores at its ends) and of the embedding gather (rows of whole
// lines only, native/embedding.cpp), forced on with setStreamBytes(0): they
// must write exactly what the plain stores write (the arithmetic is the same), on every instruction set this
// CPU has, for rows around the vector and line widths, outputs starting at each 4-byte offset of a line, and
// never outside the output. In-place calls never stream. The default threshold is the last-level cache; the softmax
// family and the token log-probs backward stream only when one is set (native/common.h streamArithmeticOutput).
import { Rng } from '@lwz/core';
import { tryBackend } from '../index';
import { loadAddon, type NativeAddon } from './native';

tryBackend('cpu');
const load = loadAddon();
const isas = ['avx512', 'avx2', 'generic'] as const;
const SENTINEL = 7777;
const ROWS = 3;

function randoms(n: number, seed: number, scale: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, (_, i) => (i % 11 === 5 ? -Infinity : rng.normal() * scale));
}

/** Each row-pass kernel writing ROWS rows of v into out (n * v floats); dw (v,) for the RMSNorm backward. */
function kernels(addon: NativeAddon, v: number, seed: number) {
  const n = ROWS;
  const x = randoms(n * v, seed, 4);
  const finite = x.map((a) => (Number.isFinite(a) ? a : 0.5));
  const dy = randoms(n * v, seed + 1, 1).map((a) => (Number.isFinite(a) ? a : -0.25));
  const w = randoms(v, seed + 2, 1).map((a) => (Number.isFinite(a) ? a : 2));
  const rstd = Float32Array.from({ length: n }, (_, r) => 0.5 + r);
  const targets = Int32Array.from({ length: n }, (_, r) => (r * 7) % v);
  const lse = new Float32Array(n);
  addon.tokenLogprobsForward(x, targets, new Float32Array(n), lse, n, v);
  const dLogprobs = Float32Array.from({ length: n }, (_, r) => 0.75 - r);
  const vocab = 5;
  const table = randoms(vocab * v, seed + 3, 1);
  const ids = Int32Array.from({ length: n }, (_, r) => (r * 3 + 1) % vocab);
  return {
    logSoftmax: (out: Float32Array) => addon.softmaxForward(x, out, n, v, true),
    softmax: (out: Float32Array) => addon.softmaxForward(x, out, n, v, false),
    tokenLogprobsBackward: (out: Float32Array) => addon.tokenLogprobsBackward(dLogprobs, x, targets, lse, out, n, v),
    rmsnormBackward: (out: Float32Array, dw: Float32Array) => addon.rmsnormBackward(dy, finite, w, rstd, out, dw, n, v),
    // streams only rows of whole lines on line boundaries: v a multiple of 16, at the one offset that aligns
    embedding: (out: Float32Array) => addon.embeddingForward(table, ids, out, n, v, vocab),
  };
}

/** Index of the first value that differs bit for bit (NaN equal to NaN), or -1 (toEqual is slow on millions). */
function firstDifference(a: Float32Array, b: Float32Array): number {
  const ia = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ib = new Uint32Array(b.buffer, b.byteOffset, b.length);
  if (ia.length !== ib.length) return Math.min(ia.length, ib.length);
  for (let i = 0; i < ia.length; i++) if (ia[i] !== ib[i]) return i;
  return -1;
}

/** One buffer per size, reused: its 16 offsets then start the output at each 4-byte position of a 64-byte line, one
 * of them on a line boundary (with a fresh buffer a call, where each lands is up to the allocator, and a kernel that
 * streams only whole aligned rows, the embedding gather, could go untested). */
const buffers = new Map<number, Float32Array>();

/** A copy of the whole buffer (sentinels around an output view starting `offset` floats in) and dw after one call. */
function written(call: (out: Float32Array, dw: Float32Array) => void, size: number, offset: number): Float32Array[] {
  let buffer = buffers.get(size);
  if (!buffer) buffers.set(size, (buffer = new Float32Array(size + 32)));
  buffer.fill(SENTINEL);
  const dw = new Float32Array(size / ROWS).fill(0.125);
  call(buffer.subarray(offset, offset + size), dw);
  return [buffer.slice(), dw];
}

if (!('addon' in load)) {
  it.skip(`cpu row passes, streaming stores: ${load.error}`, () => undefined);
} else {
  const addon = load.addon;
  const detected = addon.info().detectedIsa;
  const usable = isas.slice(isas.indexOf(detected as (typeof isas)[number]));
  // 512 and 769: whole 256-value blocks after the first, which log-softmax writes vector by vector inside the next
  // row's scan where the output lines are aligned (some of the 16 offsets), block by block elsewhere
  const lengths = [1, 7, 8, 9, 15, 16, 17, 31, 33, 100, 257, 512, 769];
  const offsets = Array.from({ length: 16 }, (_, i) => i);

  afterAll(() => {
    addon.setStreamBytes(-1);
    addon.setIsa(detected as (typeof isas)[number]);
  });

  it('streams outputs of calls larger than the last-level cache by default', () => {
    addon.setStreamBytes(-1);
    expect(addon.info().streamBytes).toBe(addon.cpuDetails().caches.l3.bytes);
  });

  describe.each(usable)('on %s', (isa) => {
    it.each(lengths)('rows of %i: streamed outputs equal plain ones at every offset in a line', (v) => {
      expect(addon.setIsa(isa)).toBe(true);
      const ks = kernels(addon, v, v);
      for (const [name, call] of Object.entries(ks)) {
        for (const offset of offsets) {
          addon.setStreamBytes(1e18);
          const plain = written(call, ROWS * v, offset);
          addon.setStreamBytes(0);
          const streamed = written(call, ROWS * v, offset);
          expect({ name, offset, out: streamed[0] }).toEqual({ name, offset, out: plain[0] });
          if (name === 'rmsnormBackward') expect(streamed[1]).toEqual(plain[1]);
        }
      }
    });
  });

  // Later blocks the scan cannot take in one look, after the previous row's block was already written alongside the
  // sum: a third block rising 60 above the running max (its max step follows), and a +inf in the third block of the
  // middle row (the scan stops there; the rest of the previous row is written after it). The output must still be the
  // plain stores' bit for bit, sentinels around it untouched.
  const laterBlocks: [string, (i: number) => number][] = [
    ['rises above the running max', (i) => Math.sin(i) + (i % 1024 >= 512 && i % 1024 < 520 ? 60 : 0)],
    ['holds +inf', (i) => (i === 1024 + 600 ? Infinity : Math.sin(i))],
  ];
  describe.each(usable)('log-softmax on %s', (isa) => {
    it.each(laterBlocks)('rows whose third block %s stream the plain values', (_, value) => {
      expect(addon.setIsa(isa)).toBe(true);
      const v = 1024;
      const x = Float32Array.from({ length: ROWS * v }, (__, i) => value(i));
      for (const offset of offsets) {
        addon.setStreamBytes(1e18);
        const plain = written((out) => addon.softmaxForward(x, out, ROWS, v, true), ROWS * v, offset);
        addon.setStreamBytes(0);
        const streamed = written((out) => addon.softmaxForward(x, out, ROWS, v, true), ROWS * v, offset);
        expect({ offset, first: firstDifference(streamed[0], plain[0]) }).toEqual({ offset, first: -1 });
      }
    });
  });

  // (rows, 4096) logits whose read + write just exceed the last-level cache, with the threshold set there (the
  // log-softmax streams only when one is set: native/common.h streamArithmeticOutput)
  const llc = addon.cpuDetails().caches.l3.bytes;
  const maybeLarge = llc <= 64 << 20 ? it : it.skip;
  maybeLarge(`a log-softmax just above a threshold set at the LLC (${llc} bytes touched) writes the plain stores' values`, () => {
    const v = 4096;
    const n = Math.floor(llc / (8 * v)) + 1;
    const x = new Float32Array(n * v);
    for (let i = 0; i < x.length; i++) x[i] = ((i * 2654435761) % 4093) / 256 - 8; // cheap spread of logits
    for (const isa of usable) {
      expect(addon.setIsa(isa)).toBe(true);
      addon.setStreamBytes(1e18);
      const plain = new Float32Array(n * v);
      addon.softmaxForward(x, plain, n, v, true);
      addon.setStreamBytes(llc);
      const streamed = new Float32Array(n * v);
      addon.softmaxForward(x, streamed, n, v, true);
      expect({ isa, firstDifference: firstDifference(streamed, plain) }).toEqual({ isa, firstDifference: -1 });
    }
  });

  it('in place (out = x) gives the same values with the streaming threshold at 0', () => {
    const v = 257;
    const x = randoms(ROWS * v, 9, 4);
    addon.setStreamBytes(1e18);
    const want = new Float32Array(ROWS * v);
    addon.softmaxForward(x, want, ROWS, v, true);
    addon.setStreamBytes(0);
    const inPlace = x.slice();
    addon.softmaxForward(inPlace, inPlace, ROWS, v, true);
    expect(inPlace).toEqual(want);
  });
}
