// Standalone: `npx tsx benchmarks/kernels/rowpass-ab.ts A.node B.node [C.node ...]` with env ROUNDS (6), THREADS
// (2), SHAPES (N x C list, default 8192x1024,8192x896,2048x256), STREAM (plain,stream). Builds of the cpu addon
// (copies of lwz_cpu.node at their own paths, so all load) in one process, each running the RMSNorm backward on
// the same buffers (64-byte aligned tensors like the model's; dx a separate buffer) with its output written with
// plain stores ('plain': setStreamBytes past the call's bytes) or streamed ('stream': setStreamBytes(0)), in
// alternating order (reversed every round), each timed (median of 7 after a warm-up) and then the first build's
// copy probe moving the same bytes with the same kind of stores: ratio = copy ms / kernel ms, the share of the
// copy bandwidth the kernel reaches (#15's target 0.8). Prints per shape, mode and build the rounds' ratios and
// their median. Not a suite.
import { resolve } from 'node:path';
import { rowPassAddonAt, zeros } from '@lwz/kernels';
import { median } from '../rollout/timing';
import { timeMs } from '../model/torch-baseline';
import { abRounds, lcgFill } from './ab';

const builds = process.argv.slice(2).map((arg) => ({ name: arg, addon: rowPassAddonAt(resolve(arg)) }));
if (builds.length < 2) throw new Error('usage: rowpass-ab.ts A.node B.node [C.node ...]');
const rounds = Number(process.env.ROUNDS ?? 6);
const threads = Number(process.env.THREADS ?? 2);
const shapes = (process.env.SHAPES ?? '8192x1024,8192x896,2048x256').split(',').map((s) => s.split('x').map(Number));
const modes = (process.env.STREAM ?? 'plain,stream').split(',');
for (const b of builds) b.addon.setThreads(threads);

console.log(`rowpass-ab: ${builds[0].addon.cpu} (${builds[0].addon.isa}), ${threads} threads, ${rounds} rounds`);
console.log('| N x C | stores | build | copy ms / kernel ms per round | median | kernel ms (median) |');
console.log('|---|---|---|---|---|---|');
for (const [n, c] of shapes) {
  const dy = lcgFill(zeros([n, c]).f32, 1);
  const x = lcgFill(zeros([n, c]).f32, 2);
  const w = lcgFill(zeros([c]).f32, 3);
  const rstd = zeros([n]).f32.fill(0.7);
  const dx = zeros([n, c]).f32;
  const dw = zeros([c]).f32;
  const bytes = 4 * (3 * n * c + n + 3 * c);
  const src = zeros([Math.ceil(bytes / 8)]).f32.fill(1);
  const dst = zeros([Math.ceil(bytes / 8)]).f32;
  for (const mode of modes) {
    const threshold = mode === 'stream' ? 0 : 2 * bytes;
    for (const b of builds) b.addon.setStreamBytes(threshold);
    const copy = () => builds[0].addon.copy(src, dst, mode === 'stream'); // the baseline: the first build's copy
    const { ms, ratios } = abRounds(rounds, builds.length, (i) => {
      const a = builds[i].addon;
      const t = timeMs(() => a.rmsnormBackward(dy, x, w, rstd, dx, dw, n, c), 7, 1);
      return { ms: t, ratio: timeMs(copy, 7, 1) / t };
    });
    builds.forEach((b, i) => {
      const f = (v: number) => v.toFixed(3);
      console.log(`| ${n}x${c} | ${mode} | ${b.name} | ${ratios[i].map(f).join(' ')} | ${f(median(ratios[i]))} | ${f(median(ms[i]))} |`);
    });
  }
}
for (const b of builds) b.addon.setStreamBytes(-1);
