// Standalone: `npx tsx benchmarks/kernels/first-touch.ts [count] [MiB]`. What the first touch of fresh memory
// costs on this machine (the host pool's reason to recycle large buffers, host-pool.ts): `count` arrays of `MiB`
// each (default 16 x 20), laid out as cpu tensors (pagedF32), kept alive and filled once, in three rounds, on
// 4 KiB pages and on huge pages; prints GB/s per round. A fill of memory the process already touched runs at
// about the copy speed; the first rounds show what page faults add (on a VM each may also fault on the host).
import { nativeCpuDetails, pagedF32 } from '@lwz/kernels';

const count = Number(process.argv[2] ?? 16);
const mib = Number(process.argv[3] ?? 20);
const cpu = nativeCpuDetails();
if (!cpu) throw new Error('the native addon is not built (npx nx run kernels:build-native)');
console.log(
  `first-touch: ${cpu.name} (family ${cpu.family} model ${cpu.model}), THP ${cpu.thp ?? '?'}, ${count} x ${mib} MiB a round, kept alive within the round`,
);
for (const huge of [false, true]) {
  for (let round = 0; round < 3; round++) {
    const kept: Float32Array[] = [];
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      const a = pagedF32((mib * 2 ** 20) / 4, huge);
      if (!a) throw new Error('pagedF32 needs the native addon');
      a.fill(0.5);
      kept.push(a);
    }
    const s = (performance.now() - t0) / 1000;
    console.log(
      `${huge ? 'huge pages' : '4 KiB pages'}, round ${round}: ${((count * mib) / 1024 / s).toFixed(2)} GB/s (${((s * 1000) / count).toFixed(1)} ms an array)`,
    );
  }
}
