// Standalone: `npx tsx benchmarks/kernels/kv-layout-ab.ts A.node:bshd B.node:bhsd [C.node:LAYOUT ...]` with env
// ROUNDS (4), POSITIONS (1024,4096,16384), THREADS (2). Builds of the cpu addon (copies of lwz_cpu.node at their
// own paths, so all load) in one process, each running the decode attention over the 24 layers' KV caches of
// Qwen2.5-0.5B shapes (GQA 14/2, D 64, one new token) with k/v read in the given layout: 'bshd' (B, S, Hkv, D)
// or head-major 'bhsd' (B, Hkv, S, D) (#10). Every variant reads the same buffers (the layouts differ only in how
// their bytes are indexed), in alternating order (reversed every round), each timed (median of 5 after a
// warm-up) and then its own read probe over the same buffers: the ratio read ms / attention ms is the share of
// the read bandwidth the attention reaches. Prints per position and variant the rounds' ratios and medians.
// An addon older than the kvLayout option ignores the extra argument (it reads 'bshd'). Not a suite.
import { resolve } from 'node:path';
import { attentionAddonAt, zeros } from '@lwz/kernels';
import { median } from '../rollout/timing';
import { timeMs } from '../model/torch-baseline';
import { abRounds, lcgFill } from './ab';

const variants = process.argv.slice(2).map((arg) => {
  const [file, layout] = arg.split(':');
  if (!file || (layout !== 'bshd' && layout !== 'bhsd')) throw new Error(`expected FILE.node:bshd|bhsd, got '${arg}'`);
  return { name: arg, addon: attentionAddonAt(resolve(file)), headMajor: layout === 'bhsd' };
});
if (variants.length < 2) throw new Error('usage: kv-layout-ab.ts A.node:bshd B.node:bhsd [C.node:LAYOUT ...]');
const rounds = Number(process.env.ROUNDS ?? 4);
const positions = (process.env.POSITIONS ?? '1024,4096,16384').split(',').map(Number);
const threads = Number(process.env.THREADS ?? 2);
for (const v of variants) v.addon.setThreads(threads);
const [L, H, HKV, D] = [24, 14, 2, 64];

console.log(`kv-layout-ab: ${rounds} rounds, ${threads} threads`);
for (const pos of positions) {
  const S = pos + 8;
  const bufs = Array.from({ length: 2 * L }, (_, i) => lcgFill(zeros([S * HKV * D]).f32, i + 1)); // K, V per layer, aligned as the cache
  const q = lcgFill(new Float32Array(H * D), 99);
  const out = new Float32Array(H * D);
  const lse = new Float32Array(H);
  const offsets = { qOffset: Int32Array.from([pos]), kvStart: Int32Array.from([0]) };
  const outputs = { out, lse };
  const dims = { b: 1, t: 1, s: S, h: H, hkv: HKV, d: D };
  const { ms, ratios } = abRounds(rounds, variants.length, (i) => {
    const { addon, headMajor } = variants[i];
    const attn = timeMs(
      () => {
        for (let l = 0; l < L; l++) addon.attention(q, bufs[2 * l], bufs[2 * l + 1], offsets, outputs, dims, headMajor);
      },
      5,
      1,
    );
    return { ms: attn, ratio: timeMs(() => bufs.forEach((b) => addon.read(b)), 5, 1) / attn };
  });
  variants.forEach((v, i) => {
    const f = (x: number) => x.toFixed(3);
    console.log(
      `pos=${pos} ${v.name}: read/attention ${ratios[i].map(f).join(' ')} (median ${f(median(ratios[i]))}), attention ms median ${median(ms[i]).toFixed(2)}`,
    );
  });
}
