// Standalone: `npx tsx benchmarks/kernels/decode-per-key.ts [ADDON.node]` with env LAYERS (1), THREADS (1,2),
// POSITIONS (256,1024,4096,16384). The decode attention's time per key (#10): the addon's attentionForward called
// directly (no op layer) on LAYERS head-major KV caches of Qwen2.5-0.5B's shapes (GQA 14 / 2, D 64) in turn, as many
// calls as make ~2 M keys, median of 7 passes; printed as us per call and ns per key per (thread, kv head). One
// layer's cache stays in cache up to 1k keys (1 MiB), so LAYERS=1 against LAYERS=24 separates the arithmetic from
// the memory stream. Not a suite.
import { resolve } from 'node:path';
import { attentionAddonAt, zeros } from '@lwz/kernels';
import { timeMs } from '../model/torch-baseline';
import { lcgFill } from './ab';

const addon = attentionAddonAt(process.argv[2] ? resolve(process.argv[2]) : undefined); // default: this package's build
const [H, HKV, D] = [14, 2, 64];
const layers = Number(process.env.LAYERS ?? 1);
const threadCounts = (process.env.THREADS ?? '1,2').split(',').map(Number);
const positions = (process.env.POSITIONS ?? '256,1024,4096,16384').split(',').map(Number);
for (const threads of threadCounts) {
  addon.setThreads(threads);
  for (const pos of positions) {
    const S = pos + 8;
    const tensors = Array.from({ length: 2 * layers }, () => zeros([1, HKV, S, D]));
    const kv = tensors.map((t, i) => lcgFill(t.f32, i + 1));
    const q = lcgFill(new Float32Array(H * D), 9);
    const outputs = { out: new Float32Array(H * D), lse: new Float32Array(H) };
    const offsets = { qOffset: Int32Array.from([pos]), kvStart: Int32Array.from([0]) };
    const dims = { b: 1, t: 1, s: S, h: H, hkv: HKV, d: D };
    const reps = Math.max(3, Math.round(2e6 / pos / layers));
    const pass = () => {
      for (let i = 0; i < reps; i++)
        for (let l = 0; l < layers; l++) addon.attention(q, kv[2 * l], kv[2 * l + 1], offsets, outputs, dims, true);
    };
    const ms = timeMs(pass, 7, 0) / reps / layers; // median of 7 passes
    tensors.forEach((t) => t.dispose());
    const nsPerKey = (ms * 1e6 * threads) / (pos * HKV);
    console.log(
      `threads ${threads}, layers ${layers}, ${pos} keys: ${(ms * 1000).toFixed(1)} us per call, ${nsPerKey.toFixed(1)} ns per key per (thread, kv head)`,
    );
  }
}
