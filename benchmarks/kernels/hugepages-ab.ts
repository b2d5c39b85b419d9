// Standalone: `npx tsx benchmarks/kernels/hugepages-ab.ts [rounds] [filter]`. What transparent huge pages buy
// (#10, #15), both page sizes in one process: each case's operands exist twice, laid out alike (2 MiB aligned,
// pagedF32), one copy marked for huge pages and one not, and the two are timed in alternating blocks (ABBA
// per round), so load from other processes hits both alike (a run with LWZ_HUGEPAGES=0 against one without
// compares processes minutes apart). Cases: the kernels' read probe over the decode attention's KV bytes at
// cache positions 1k / 4k / 16k (Qwen2.5-0.5B shapes, the long-context suite's), GEMV 1x4096x4096 (x W and
// x W^T), and the decode attention itself at those positions (24 layers). Prints the median ms and GB/s of
// each page size and the median of the per-round ratios 4 KiB ms / 2 MiB ms (above 1: huge pages faster).
import { attention, matmul, nativeCpuDetails, pagedF32, streamProbe, tensor, type Tensor } from '@lwz/kernels';
import { alternate, median } from '../rollout/timing';

const rounds = Number(process.argv[2] ?? 7);
const filter = new RegExp(process.argv[3] ?? '.');
const [L, H, HKV, D] = [24, 14, 2, 64];

/** LCG values in [-1, 1) written into a paged array (the write is its first touch: the pages form here). */
function paged(n: number, huge: boolean, seed: number): Float32Array {
  const a = pagedF32(n, huge);
  if (!a) throw new Error('the native addon is not built (npx nx run kernels:build-native)');
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s >>> 8) / 8388608 - 1;
  }
  return a;
}

const t = (a: Float32Array, shape: number[]): Tensor => tensor(a, shape); // the default device: cpu where pagedF32 works
const kvBytes = (pos: number): number => L * (pos + 1) * 2 * HKV * D * 4;

interface Case {
  name: string;
  bytes: number; // read per call
  make(huge: boolean): () => void;
}

const cases: Case[] = [];
const probe = streamProbe();
for (const pos of [1024, 4096, 16384]) {
  cases.push({
    name: `read probe ${(kvBytes(pos) / 2 ** 20).toFixed(0)} MiB (KV at pos=${pos})`,
    bytes: kvBytes(pos),
    make(huge) {
      const a = paged(Math.floor(kvBytes(pos) / 4), huge, 11);
      return () => void probe?.read(a);
    },
  });
}
for (const transB of [false, true]) {
  cases.push({
    name: `gemv 1x4096x4096${transB ? ' Bt' : ''}`,
    bytes: 4096 * 4096 * 4,
    make(huge) {
      const x = t(paged(4096, huge, 3), [1, 4096]);
      const w = t(paged(4096 * 4096, huge, 5), [4096, 4096]);
      const out = t(paged(4096, huge, 7), [1, 4096]);
      return () => void matmul(x, w, { transB, out });
    },
  });
}
for (const pos of [1024, 4096, 16384]) {
  cases.push({
    name: `decode attention pos=${pos} (24 layers)`,
    bytes: kvBytes(pos),
    make(huge) {
      const layers = Array.from({ length: L }, (_, l) => ({
        // the model's head-major cache (B, Hkv, S, D)
        k: t(paged((pos + 8) * HKV * D, huge, 2 * l + 1), [1, HKV, pos + 8, D]),
        v: t(paged((pos + 8) * HKV * D, huge, 2 * l + 2), [1, HKV, pos + 8, D]),
      }));
      const q = t(paged(H * D, huge, 9), [1, 1, H, D]);
      const out = t(paged(H * D, huge, 13), [1, 1, H, D]);
      const lse = t(paged(H, huge, 15), [1, H, 1]);
      const opts = { qOffset: [pos], kvStart: [0], kvLayout: 'bhsd' as const, out, lse };
      return () => {
        for (const { k, v } of layers) attention(q, k, v, opts);
      };
    },
  });
}

/** Mean ms per call over a block of `reps` calls. */
function block(fn: () => void, reps: number): number {
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) fn();
  return (performance.now() - t0) / reps;
}

const cpu = nativeCpuDetails();
console.log(`hugepages-ab: ${cpu ? `${cpu.name}, THP ${cpu.thp}, advice ${cpu.hugePages ? 'on' : 'off'}` : 'no addon'}; ${rounds} rounds`);
if (cpu && !cpu.hugePages) console.log('(the advice is off here: both columns are 4 KiB pages)');
console.log('| case | 4 KiB ms | 4 KiB GB/s | 2 MiB ms | 2 MiB GB/s | ratio 4 KiB / 2 MiB (median of rounds) |');
console.log('|---|---|---|---|---|---|');
for (const c of cases.filter((x) => filter.test(x.name))) {
  const huge = c.make(true);
  const small = c.make(false);
  huge();
  small();
  const reps = Math.max(1, Math.round(60 / Math.max(block(huge, 1), 0.01)));
  const {
    a: h,
    b: s,
    ratios,
  } = alternate(
    rounds,
    () => block(huge, reps),
    () => block(small, reps),
  );
  const gbs = (ms: number) => (c.bytes / (ms / 1000) / 1e9).toFixed(1);
  const [ms, mh] = [median(s), median(h)];
  console.log(`| ${c.name} | ${ms.toFixed(3)} | ${gbs(ms)} | ${mh.toFixed(3)} | ${gbs(mh)} | ${median(ratios).toFixed(3)}x |`);
}
