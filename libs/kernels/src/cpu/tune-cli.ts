// `npx nx run kernels:tune [-- --rounds N]` (arguments: tune-args.ts): measure this machine's GEMM tuning (tune.ts),
// cache it where the cpu backend reads it at start (machine-cache.ts; LWZ_CACHE_DIR to choose), and print what was
// measured. Optional: without it the defaults run. Rerun after changing the thread count (LWZ_THREADS) or the
// instruction set (LWZ_ISA).
import { loadAddon } from './native';
import { parseTuneArgs, TUNE_USAGE } from './tune-args';
import { FEW_COLUMNS_CANDIDATES, TUNE_MARGIN, TUNE_TIE, tuneGemm } from './tune';

/** A usage or setup error: its message on stderr, exit code 2, no stack trace. */
function fail(message: string): never {
  process.stderr.write(`kernels:tune: ${message}\n`);
  process.exit(2);
}

const args = parseTuneArgs(process.argv.slice(2));
if ('error' in args) fail(`${args.error}\n${TUNE_USAGE}`);
if (args.help) {
  process.stdout.write(`${TUNE_USAGE}\n`);
  process.exit(0);
}
const { rounds } = args;
const load = loadAddon();
if ('error' in load) fail(load.error);
const { addon } = load;
const { isa, threads } = addon.info();
const cpu = addon.cpuDetails();
const out = (line: string) => process.stdout.write(`${line}\n`);
out(`kernels:tune: ${cpu.name}, ${isa} ${cpu.gemm.mr}x${cpu.gemm.nr}, ${threads} thread${threads === 1 ? '' : 's'}, ${rounds} rounds`);
const { tuning, file } = tuneGemm(addon, rounds);
out(`few-columns threshold for transposed A (row groups per thread), candidates ${FEW_COLUMNS_CANDIDATES.join(', ')} (default first):`);
for (const w of tuning.widths) {
  out(`  op(B) ${w.width} columns wide, shapes ${w.shapes.map(([m, n, k]) => `${m}x${n}x${k}`).join(', ')} (m x n x k):`);
  for (const { fewColumnsGroups, ms, paths } of w.measured)
    out(
      `    ${fewColumnsGroups}: ${ms.toFixed(3)} ms (default / this ${(w.measured[0].ms / ms).toFixed(3)}x); paths ${(paths ?? []).join(', ')}`,
    );
  out(`    chosen: ${w.fewColumnsGroups}`);
}
out(
  `chosen per width: ${tuning.fewColumnsGroups.join(', ')} (a candidate must beat the default by ${TUNE_MARGIN}x; within ${TUNE_TIE}x of the fastest, the nearest the default)`,
);
out(
  file
    ? `cached in ${file}; the cpu backend applies it at start (LWZ_GEMM_TUNE=off ignores it)`
    : 'the machine cache is not writable: nothing cached (set LWZ_CACHE_DIR)',
);
