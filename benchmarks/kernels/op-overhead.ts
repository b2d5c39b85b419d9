// Standalone: `npx tsx benchmarks/kernels/op-overhead.ts [op|direct] [CALLS]` (default op, 5000). What the
// attention op's JavaScript costs per call on top of its kernel (#10): one fresh process times CALLS decode
// attention calls one by one over a 16-key head-major cache (Qwen2.5-0.5B's heads: 14 / 2, D 64), either through
// the checked op `attention()` with the row offsets as i32 tensors and fresh outputs, as decodeStep calls it
// ('op'), or straight into the addon with preallocated outputs ('direct'), and prints the median microseconds per
// call over windows of calls, so V8's tiers show: the first calls run in the interpreter, later ones optimised.
// Run each mode in its own process (a mode warms the other's code). Not a suite: the windows are the point.
import { attention, attentionAddonAt, tensor, zeros } from '@lwz/kernels';
import { median } from '../rollout/timing';

const mode = process.argv[2] ?? 'op';
const calls = Number(process.argv[3] ?? 5000);
if (mode !== 'op' && mode !== 'direct') throw new Error(`usage: op-overhead.ts [op|direct] [CALLS]; got mode '${mode}'`);
if (!Number.isInteger(calls) || calls < 100)
  throw new Error(`op-overhead.ts: CALLS must be an integer of at least 100, got '${process.argv[3]}'`);
const [H, HKV, D, POS] = [14, 2, 64, 16];
const k = zeros([1, HKV, POS + 8, D]);
const v = zeros([1, HKV, POS + 8, D]);
const q = zeros([1, 1, H, D]);
const qOffset = tensor(Int32Array.from([POS]), [1], { dtype: 'i32' });
const kvStart = tensor(Int32Array.from([0]), [1], { dtype: 'i32' });
const addon = attentionAddonAt(); // this package's build, the one attention() runs
const out = new Float32Array(H * D);
const lse = new Float32Array(H);
const dims = { b: 1, t: 1, s: POS + 8, h: H, hkv: HKV, d: D };
const offsets = { qOffset: qOffset.i32, kvStart: kvStart.i32 };
const once =
  mode === 'op'
    ? () => {
        const r = attention(q, k, v, { qOffset, kvStart, kvLayout: 'bhsd' });
        r.out.dispose();
        r.lse.dispose();
      }
    : () => addon.attention(q.f32, k.f32, v.f32, offsets, { out, lse }, dims, true);
const us: number[] = [];
for (let i = 0; i < calls; i++) {
  const t0 = performance.now();
  once();
  us.push((performance.now() - t0) * 1000);
}
const windows = [...[10, 100, 1000].filter((w) => w < calls), calls]; // calls >= 100: at least two
const parts = windows.slice(1).map((hi, i) => `calls ${windows[i]}-${hi}: ${median(us.slice(windows[i], hi)).toFixed(1)}`);
console.log(`op-overhead ${mode}: median us per call, ${parts.join(' | ')}`);
