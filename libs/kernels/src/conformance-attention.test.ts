// Conformance of causal grouped-query attention (forward and backward) against `ref`: GQA ratios 1/2/4,
// odd sizes, T = 1 decode on a KV cache (short, long enough to split into uneven key ranges, ragged rows), a few new
// tokens per row (also at D = 64, 96 and 128, the AVX-512 decode body's; 64 and 128 the AVX2 body's, 48 and 96 its
// portable fallback), a KV prefix, left padding, a fully masked query, and a tile-sized sequence (T = 133) so
// blocked kernels cross tile edges; every forward shape also over a head-major (B, Hkv, S, D) cache. The cpu backend runs the CPU's best instruction set; `LWZ_ISA=avx2` (or
// generic) runs these through that path instead. Tolerances (attention: atol 2e-5, rtol 1e-4 in f32):
// TOLERANCES in testing/conformance-harness.ts.
import { attention, attentionBackward, tensor } from './index';
import { describeConformance, host, ints, randn, type ConformanceCase } from './testing/conformance-harness';
import type { AttentionDims } from './ref/attention-forward';

interface Shape extends AttentionDims {
  qOffset?: number[];
  kvStart?: number[];
}

const shapes: [string, Shape][] = [
  ['self-attention GQA 1, odd D', { b: 1, t: 9, s: 9, h: 3, hkv: 3, d: 7 }],
  ['GQA 2, two rows', { b: 2, t: 17, s: 17, h: 4, hkv: 2, d: 16 }],
  ['GQA 4, T = 1 decode on a 65-token cache', { b: 2, t: 1, s: 65, h: 8, hkv: 2, d: 32 }],
  ['GQA 4, one row one head group', { b: 1, t: 1, s: 1, h: 4, hkv: 1, d: 8 }],
  ['KV prefix 23 + left padding', { b: 2, t: 17, s: 40, h: 4, hkv: 4, d: 8, qOffset: [23, 23], kvStart: [0, 5] }],
  ['a fully masked query (kvStart past its causal limit)', { b: 1, t: 4, s: 4, h: 2, hkv: 1, d: 4, qOffset: [0], kvStart: [2] }],
  ['T = 133 crosses tile edges, GQA 2', { b: 1, t: 133, s: 133, h: 2, hkv: 1, d: 64 }],
];

/** Decode-path shapes (forward only: training never runs them backward). */
const decodeShapes: [string, Shape][] = [
  ['T = 1 decode, GQA 7 over a 560-token cache (split key ranges)', { b: 1, t: 1, s: 600, h: 14, hkv: 2, d: 64, qOffset: [560] }],
  [
    'T = 1 decode, ragged rows: lengths 11, 520 and 301, one left-padded',
    { b: 3, t: 1, s: 520, h: 4, hkv: 2, d: 16, qOffset: [10, 519, 300], kvStart: [0, 100, 0] },
  ],
  ['T = 3 new tokens per row over a 520-token cache, odd D', { b: 2, t: 3, s: 540, h: 6, hkv: 2, d: 20, qOffset: [520, 37] }],
  // the AVX-512 body's spans of 256 keys, causal limits inside a span and its query-row groups (4 rows at
  // D = 64, 2 at D = 96 and 128, odd group remainders)
  [
    'T = 4 new tokens, GQA 3, D = 128 over a 700-token cache, one row short and left-padded',
    { b: 2, t: 4, s: 700, h: 6, hkv: 2, d: 128, qOffset: [690, 5], kvStart: [0, 2] },
  ],
  ['T = 5 new tokens, GQA 3, D = 64 over a 300-token cache', { b: 1, t: 5, s: 300, h: 3, hkv: 1, d: 64, qOffset: [291] }],
  ['T = 1 decode, GQA 5, D = 96 over a 530-token cache', { b: 1, t: 1, s: 530, h: 5, hkv: 1, d: 96, qOffset: [529] }],
  // key ranges of whole 256-key chunks, uneven (1300 keys: 6 chunks over up to 4 ranges), each range requesting
  // the next range's first chunk, also across rows (two rows of different lengths, one left-padded)
  [
    'T = 1 decode, GQA 7 over a 1300-token cache (uneven whole-chunk ranges)',
    { b: 1, t: 1, s: 1310, h: 14, hkv: 2, d: 64, qOffset: [1299] },
  ],
  [
    'T = 2 new tokens, GQA 2, rows of 899 and 561 keys, one left-padded',
    { b: 2, t: 2, s: 900, h: 4, hkv: 2, d: 32, qOffset: [897, 600], kvStart: [0, 40] },
  ],
  // the AVX2 body: 8-key score blocks cut by odd lengths, 32-key P V blocks, query rows in pairs with an odd last
  // row, T up to 15, D = 128 over split ranges; D = 48 has no vector body (the portable loops)
  ['T = 15 new tokens, GQA 7, D = 64 over a 1037-token cache', { b: 1, t: 15, s: 1040, h: 14, hkv: 2, d: 64, qOffset: [1022] }],
  [
    'T = 7 new tokens, GQA 7, D = 128, rows of 777 and 295 keys, one left-padded',
    { b: 2, t: 7, s: 780, h: 14, hkv: 2, d: 128, qOffset: [770, 300], kvStart: [0, 13] },
  ],
  ['T = 1 decode, GQA 7, D = 128 over a 2049-token cache', { b: 1, t: 1, s: 2051, h: 14, hkv: 2, d: 128, qOffset: [2048] }],
  ['T = 11 new tokens, GQA 1, D = 64 over a 291-token cache', { b: 1, t: 11, s: 300, h: 2, hkv: 2, d: 64, qOffset: [280] }],
  ['T = 9 new tokens, GQA 2, D = 48 over a 599-token cache', { b: 1, t: 9, s: 600, h: 4, hkv: 2, d: 48, qOffset: [590] }],
  // the AVX2 body's softmax with masked tails and its query-row groups: one key, 13 keys (no whole 8-key score
  // block), 8 query rows at D = 128 (a branch's six-row P V tile and a pair, benchmarks/README.md attn4)
  ['T = 1 decode, GQA 7, D = 64 over 1 key', { b: 1, t: 1, s: 1, h: 14, hkv: 2, d: 64, qOffset: [0] }],
  ['T = 1 decode, GQA 7, D = 64 over 13 keys', { b: 1, t: 1, s: 16, h: 14, hkv: 2, d: 64, qOffset: [12] }],
  ['T = 2 new tokens, GQA 4, D = 128 over a 45-token cache', { b: 1, t: 2, s: 48, h: 8, hkv: 2, d: 128, qOffset: [43] }],
];

function opts(s: Shape, dev: Parameters<ConformanceCase['run']>[0]) {
  return {
    qOffset: s.qOffset ? ints(s.qOffset, [s.b], dev) : undefined,
    kvStart: s.kvStart ? ints(s.kvStart, [s.b], dev) : undefined,
  };
}

// Every forward shape over k/v as training holds them, (B, S, Hkv, D), and over a head-major KV cache (B, Hkv, S, D),
// kvLayout 'bhsd': the layout the model's cache holds (decode, prefill through the packed path, ragged rows, left
// padding); cpu/attention.test.ts checks 'bhsd' equals 'bshd' on the transposed tensors.
const forwardCases = (layout: 'bshd' | 'bhsd'): ConformanceCase[] =>
  [...shapes, ...decodeShapes].map(([name, s]) => ({
    name: layout === 'bshd' ? `attention forward: ${name}` : `attention forward, head-major k/v: ${name}`,
    kernels: ['attentionForward'],
    tol: 'attention',
    run: (dev, rng) => {
      const kvShape = layout === 'bshd' ? [s.b, s.s, s.hkv, s.d] : [s.b, s.hkv, s.s, s.d];
      const q = randn(rng, [s.b, s.t, s.h, s.d], dev);
      const k = randn(rng, kvShape, dev);
      const v = randn(rng, kvShape, dev);
      const { out, lse } = attention(q, k, v, { ...opts(s, dev), kvLayout: layout });
      return host(out, lse);
    },
  }));

const backward: ConformanceCase[] = shapes.map(([name, s]) => ({
  name: `attention backward: ${name}`,
  kernels: ['attentionForward', 'attentionBackward'],
  tol: 'attentionBackward',
  run: (dev, rng) => {
    const q = randn(rng, [s.b, s.t, s.h, s.d], dev);
    const k = randn(rng, [s.b, s.s, s.hkv, s.d], dev);
    const v = randn(rng, [s.b, s.s, s.hkv, s.d], dev);
    const o = opts(s, dev);
    const { out, lse } = attention(q, k, v, o);
    const { dq, dk, dv } = attentionBackward(q, k, v, out, lse, randn(rng, [s.b, s.t, s.h, s.d], dev), o);
    return host(dq, dk, dv);
  },
}));

// a NaN in a visible key makes its query rows NaN (out and lse), as in the ref, on every decode body: the AVX-512
// one's exp turned a NaN score into probability 0, and the portable merge read a NaN sum as "nothing visible"
// (lse -inf). Found by a randomized review; D = 64 (the AVX-512 body) and D = 20 (the portable one).
const nanKey: ConformanceCase[] = [64, 20].map((d) => ({
  name: `attention forward: a NaN in a visible key, T = 1 decode, D = ${d}`,
  kernels: ['attentionForward'],
  tol: 'attention',
  run: (dev, rng) => {
    const s = { b: 1, t: 1, s: 40, h: 2, hkv: 1, d };
    const q = randn(rng, [s.b, s.t, s.h, s.d], dev);
    const kHost = randn(rng, [s.b, s.s, s.hkv, s.d], 'ref').toHost() as Float32Array;
    kHost[10 * d + 3] = Number.NaN;
    const { out, lse } = attention(q, tensor(kHost, [s.b, s.s, s.hkv, s.d], { device: dev }), randn(rng, [s.b, s.s, s.hkv, s.d], dev), {
      qOffset: ints([39], [1], dev),
    });
    return host(out, lse);
  },
}));

// Keys no query of a row sees (left padding before kvStart, the cache's room past the row's last query) may hold
// anything: an unwritten or recycled cache slot, a padding row. NaN, inf and -inf there must leave every output
// as with finite values, forward and backward, on every path: the packed prefill multiplied their probability 0
// by the NaN (P V, dO V^T, dS K) and poisoned the whole row (found in session 34's review, fixed in session 35).
const poisoned: [string, Shape][] = [
  [
    'packed prefill, T = 20, a padded row and a row with cache room left',
    { b: 2, t: 20, s: 64, h: 4, hkv: 2, d: 16, qOffset: [30, 44], kvStart: [0, 9] },
  ],
  [
    'decode, T = 2, a padded row and a row with cache room left',
    { b: 2, t: 2, s: 300, h: 4, hkv: 2, d: 64, qOffset: [250, 298], kvStart: [3, 0] },
  ],
];

/** randn k/v in `layout` with every key outside [kvStart, qOffset + t - 1] of its row set to NaN, inf or -inf. */
function poisonedKv(
  rng: Parameters<ConformanceCase['run']>[1],
  s: Shape,
  layout: 'bshd' | 'bhsd',
  dev: Parameters<ConformanceCase['run']>[0],
) {
  const shape = layout === 'bshd' ? [s.b, s.s, s.hkv, s.d] : [s.b, s.hkv, s.s, s.d];
  const bad = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
  return [0, 1].map(() => {
    const x = randn(rng, shape, 'ref').toHost() as Float32Array;
    for (let bb = 0; bb < s.b; bb++) {
      const lo = s.kvStart?.[bb] ?? 0,
        hi = (s.qOffset?.[bb] ?? 0) + s.t - 1;
      for (let j = 0; j < s.s; j++) {
        if (j >= lo && j <= hi) continue;
        for (let g = 0; g < s.hkv; g++) {
          const at = layout === 'bshd' ? ((bb * s.s + j) * s.hkv + g) * s.d : ((bb * s.hkv + g) * s.s + j) * s.d;
          for (let x0 = 0; x0 < s.d; x0++) x[at + x0] = bad[(j + x0) % 3];
        }
      }
    }
    return tensor(x, shape, { device: dev });
  });
}

const poisonedCases: ConformanceCase[] = poisoned.flatMap(([name, s]) => [
  ...(['bshd', 'bhsd'] as const).map(
    (layout): ConformanceCase => ({
      name: `attention forward, NaN / inf in unseen keys (${layout}): ${name}`,
      kernels: ['attentionForward'],
      tol: 'attention',
      run: (dev, rng) => {
        const q = randn(rng, [s.b, s.t, s.h, s.d], dev);
        const [k, v] = poisonedKv(rng, s, layout, dev);
        const { out, lse } = attention(q, k, v, { ...opts(s, dev), kvLayout: layout });
        return host(out, lse);
      },
    }),
  ),
  ...(s.t >= 16
    ? [
        {
          name: `attention backward, NaN / inf in unseen keys: ${name}`,
          kernels: ['attentionForward', 'attentionBackward'],
          tol: 'attentionBackward',
          run: (dev, rng) => {
            const q = randn(rng, [s.b, s.t, s.h, s.d], dev);
            const [k, v] = poisonedKv(rng, s, 'bshd', dev);
            const o = opts(s, dev);
            const { out, lse } = attention(q, k, v, o);
            const { dq, dk, dv } = attentionBackward(q, k, v, out, lse, randn(rng, [s.b, s.t, s.h, s.d], dev), o);
            return host(out, dq, dk, dv);
          },
        } satisfies ConformanceCase,
      ]
    : []),
]);

describeConformance('attention', [...forwardCases('bshd'), ...forwardCases('bhsd'), ...backward, ...nanKey, ...poisonedCases], 4321);
