// The per-op time of one train step, ours and PyTorch's side by side (issue #15: every remaining gap gets a
// name): our kernels from profileKernels (matmuls by shape), PyTorch's aten ops by self CPU time from
// torch.profiler, each with its share of that side's step. Formatting only; the suites do the timing.
import type { KernelTime } from '@lwz/kernels';

export interface TorchOp {
  name: string;
  calls: number;
  self_ms: number;
}

function fmt(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}

function pct(ms: number, total: number): string {
  return total > 0 ? `${((100 * ms) / total).toFixed(1)}%` : '';
}

/**
 * A Markdown table of the `rows` largest entries per side. Ours adds "outside kernels" (JavaScript, allocation,
 * the gaps between calls) = wall time - kernel time; torch's self times are what its profiler attributes.
 */
export function breakdownTable(
  ours: { kernels: KernelTime[]; totalMs: number },
  torch: { wall_ms: number; ops: TorchOp[] } | undefined,
  rows = 16,
): string {
  const kernelMs = ours.kernels.reduce((s, k) => s + k.ms, 0);
  const left = [...ours.kernels.map((k) => ({ name: k.label, calls: k.calls, ms: k.ms }))];
  left.push({ name: 'outside kernels (JS, allocation)', calls: 0, ms: Math.max(0, ours.totalMs - kernelMs) });
  left.sort((a, b) => b.ms - a.ms);
  const right = (torch?.ops ?? []).map((o) => ({ name: o.name, calls: o.calls, ms: o.self_ms }));
  const lines = [
    `ours: ${fmt(ours.totalMs)} ms for the profiled step; torch: ${torch ? `${fmt(torch.wall_ms)} ms` : 'not profiled'} ` +
      '(one step each, under the profilers, so a little slower than the medians above)',
    '',
    '| ours: kernel | calls | ms | share | torch: op | calls | self ms | share |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (let i = 0; i < Math.min(rows, Math.max(left.length, right.length)); i++) {
    const l = left[i];
    const r = right[i];
    lines.push(
      `| ${l ? `${l.name} | ${l.calls || ''} | ${fmt(l.ms)} | ${pct(l.ms, ours.totalMs)}` : ' | | |'} | ` +
        `${r ? `${r.name} | ${r.calls} | ${fmt(r.ms)} | ${pct(r.ms, torch?.wall_ms ?? 0)}` : ' | | |'} |`,
    );
  }
  return lines.join('\n');
}
