// A/B of `empty` outputs (no zero-fill of recycled buffers) against zero-filling every allocation, as before
// (HostPool.take patched to always fill), on one GRPO update of the embedded default's shapes (grpo-update.ts),
// the two modes alternating update by update in one process so both see the same machine state.
//   npx tsx benchmarks/model/empty-ab.ts [rounds=8] [B=16] [T=448] [preset=tiny]
import { defaultDevice } from '@lwz/kernels';
import { modelPreset } from '@lwz/model';
import { HostPool } from '../../libs/kernels/src/host-pool';
import { grpoHarness } from './grpo-update';

const [rounds, B, T] = [8, 16, 448].map((d, i) => Number(process.argv[2 + i] ?? d));
const preset = process.argv[5] ?? 'tiny';
const take = HostPool.prototype.take;
let zeroAll = false;
HostPool.prototype.take = function (this: HostPool, dtype, size, zero = true) {
  return take.call(this, dtype, size, zeroAll || zero);
};
const h = grpoHarness(modelPreset(preset), B, T, defaultDevice());
h.update(); // warm-up: fills the pool
const times: Record<string, number[]> = { zero: [], empty: [] };
for (let r = 0; r < 2 * rounds; r++) {
  zeroAll = r % 2 === 0;
  const t0 = performance.now();
  h.update();
  times[zeroAll ? 'zero' : 'empty'].push(performance.now() - t0);
}
h.dispose();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const [z, e] = [median(times.zero), median(times.empty)];
console.log(
  `${preset} B=${B} T=${T}, ${rounds} rounds: zero-fill ${z.toFixed(0)} ms, empty ${e.toFixed(0)} ms (median), ratio ${(z / e).toFixed(3)}x`,
);
console.log(`  zero:  ${times.zero.map((x) => x.toFixed(0)).join(' ')}\n  empty: ${times.empty.map((x) => x.toFixed(0)).join(' ')}`);
