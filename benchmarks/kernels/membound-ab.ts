// Standalone: `npx tsx benchmarks/kernels/membound-ab.ts A.node B.node [C.node ...]` with env ROUNDS (6), THREADS
// (2), CASES (rope,rmsnorm,logsoftmax,gather; also scatter, logprobs, logprobs-bwd, swiglu, swiglu-bwd; SWIGLU_N
// values for the last two). Builds of the cpu addon (copies of lwz_cpu.node at their own paths, so all load) in
// one process, each running memory-bound kernels on
// the memory-bound suite's shapes (memory-cases.ts; 64-byte aligned buffers) in alternating order (reversed every
// round), each timed (median of 7 after a warm-up) and then the first build's copy moving the same bytes: ratio =
// copy ms / kernel ms, the share of the copy bandwidth the kernel reaches (#15's target 0.8). The outputs streamed past
// the L3 (the embedding gather) are held to the streaming copy, as in the suite; the log-softmax and the token
// log-probs backward write plain stores (native/common.h streamArithmeticOutput; builds from before 2026-12-02 17:30
// streamed them, so compare their kernel ms, not their ratios); the log-probs forward only reads, so its ratio is a
// relative figure for A/B runs, not a share of a limit. Prints per case and build the rounds' ratios and their median.
// Ratios ran above the suite's on Zen 5 (its copy timed slower than the suite's, cause not found); quote the suite for
// the figures. Not a suite.
import { resolve } from 'node:path';
import { memoryBoundAddonAt, zeros } from '@lwz/kernels';
import { median } from '../rollout/timing';
import { timeMs } from '../model/torch-baseline';
import { abRounds, lcgFill } from './ab';

const builds = process.argv.slice(2).map((arg) => ({ name: arg, addon: memoryBoundAddonAt(resolve(arg)) }));
if (builds.length < 2) throw new Error('usage: membound-ab.ts A.node B.node [C.node ...]');
const rounds = Number(process.env.ROUNDS ?? 6);
const threads = Number(process.env.THREADS ?? 2);
const cases = (process.env.CASES ?? 'rope,rmsnorm,logsoftmax,gather').split(',');
for (const b of builds) b.addon.setThreads(threads);

type Run = (a: (typeof builds)[number]['addon']) => void;

/** n ids in [0, v) from lcgFill's values: rows at random places, some repeated */
function randomIds(n: number, v: number, seed: number): Int32Array {
  return Int32Array.from(lcgFill(new Float32Array(n), seed), (x) => Math.min(v - 1, Math.floor(((x + 1) / 2) * v)));
}

function setup(name: string): { run: Run; bytes: number; stream: boolean } {
  if (name === 'rope') {
    const [b, t, h, d] = [8, 1024, 16, 64];
    const x = lcgFill(zeros([b, t, h, d]).f32, 1);
    const out = zeros([b, t, h, d]).f32;
    const pos = Int32Array.from({ length: b * t }, (_, i) => i % t);
    return { run: (a) => a.rope(x, pos, out, b, t, h, d), bytes: 8 * b * t * h * d + 4 * b * t, stream: false };
  }
  if (name === 'rmsnorm') {
    const [n, c] = [8192, 1024];
    const x = lcgFill(zeros([n, c]).f32, 2);
    const w = lcgFill(zeros([c]).f32, 3);
    const y = zeros([n, c]).f32;
    const rstd = zeros([n]).f32;
    return { run: (a) => a.rmsnormForward(x, w, y, rstd, n, c), bytes: 4 * (2 * n * c + c + n), stream: false };
  }
  if (name === 'logsoftmax') {
    const [n, v] = [2048, 4096];
    const x = lcgFill(zeros([n, v]).f32, 4);
    const out = zeros([n, v]).f32;
    return { run: (a) => a.logSoftmax(x, out, n, v), bytes: 8 * n * v, stream: false };
  }
  if (name === 'gather') {
    const [n, c, v] = [8192, 1024, 8192];
    const table = lcgFill(zeros([v, c]).f32, 5);
    const out = zeros([n, c]).f32;
    const ids = randomIds(n, v, 7);
    // held to the streaming copy: the gather streams its rows above the LLC since 2026-12-02 (a build from before
    // does not, so its ratio against this copy reads low: compare the kernel ms)
    return { run: (a) => a.embedding(table, ids, out, n, c, v), bytes: 8 * n * c + 4 * n, stream: true };
  }
  if (name === 'swiglu' || name === 'swiglu-bwd') {
    // the memory-bound suite's shape: N 8192 rows of F 1024 (memory-bound.bench.ts)
    const n = Number(process.env.SWIGLU_N ?? 8192 * 1024);
    const gate = lcgFill(zeros([n]).f32, 12);
    for (let i = 0; i < n; i++) gate[i] *= 4; // in place: zeros' buffers are 64-byte aligned, a map's copy is not
    const up = lcgFill(zeros([n]).f32, 13);
    const a = zeros([n]).f32;
    if (name === 'swiglu') return { run: (b) => b.swiglu(gate, up, a, n), bytes: 12 * n, stream: false };
    const dOut = lcgFill(zeros([n]).f32, 14);
    const b2 = zeros([n]).f32;
    return { run: (b) => b.swigluBackward(dOut, gate, up, a, b2, n), bytes: 20 * n, stream: false };
  }
  if (name === 'scatter') {
    const [n, c, v] = [8192, 1024, 8192];
    const dOut = lcgFill(zeros([n, c]).f32, 6);
    const dTable = zeros([v, c]).f32;
    const ids = randomIds(n, v, 11);
    return { run: (a) => a.embeddingBackward(dOut, ids, dTable, n, c, v), bytes: 12 * n * c + 4 * n, stream: false };
  }
  if (name === 'logprobs' || name === 'logprobs-bwd') {
    const [n, v] = [2048, 4096];
    const logits = lcgFill(zeros([n, v]).f32, 8);
    const targets = Int32Array.from({ length: n }, (_, i) => (i * 2654435761) % v);
    const logprobs = zeros([n]).f32;
    const lse = zeros([n]).f32;
    if (name === 'logprobs') return { run: (a) => a.tokenLogprobs(logits, targets, logprobs, lse, n, v), bytes: 4 * n * v, stream: false };
    const dLogprobs = lcgFill(zeros([n]).f32, 9);
    const dLogits = zeros([n, v]).f32;
    builds[0].addon.tokenLogprobs(logits, targets, logprobs, lse, n, v);
    return {
      run: (a) => a.tokenLogprobsBackward(dLogprobs, logits, targets, lse, dLogits, n, v),
      bytes: 8 * n * v,
      stream: false,
    };
  }
  throw new Error(
    `membound-ab: unknown case ${name} (rope, rmsnorm, logsoftmax, gather, scatter, logprobs, logprobs-bwd, swiglu, swiglu-bwd)`,
  );
}

console.log(`membound-ab: ${builds[0].addon.cpu} (${builds[0].addon.isa}), ${threads} threads, ${rounds} rounds`);
console.log('| case | build | copy ms / kernel ms per round | median | kernel ms (median) |');
console.log('|---|---|---|---|---|');
for (const name of cases) {
  const { run, bytes, stream } = setup(name);
  const src = zeros([Math.ceil(bytes / 8)]).f32.fill(1);
  const dst = zeros([Math.ceil(bytes / 8)]).f32;
  const copy = () => builds[0].addon.copy(src, dst, stream); // the baseline: the first build's copy
  const { ms, ratios } = abRounds(rounds, builds.length, (i) => {
    const t = timeMs(() => run(builds[i].addon), 7, 1);
    return { ms: t, ratio: timeMs(copy, 7, 1) / t };
  });
  builds.forEach((b, i) => {
    const f = (v: number) => v.toFixed(3);
    console.log(`| ${name} | ${b.name} | ${ratios[i].map(f).join(' ')} | ${f(median(ratios[i]))} | ${f(median(ms[i]))} |`);
  });
}
