// The optional GEMM tuning step (#15; `npx nx run kernels:tune`): one path choice whose best value differs between
// CPUs, measured on this machine and cached per CPU fingerprint, ISA and thread count (machine-cache.ts). The
// blocking itself is not searched: kc x nc sweeps around the cache model found nothing beyond the noise on Zen 3,
// 4 and 5 (benchmarks/README.md, "CPU paths"). What is searched is where gemm switches from its block path to the
// few-columns path for transposed op(A) within one column block of op(B) (the weight gradients dy^T x of the
// model's projections from its hidden size, N = 256 in `tiny`): the few-columns path wants enough row groups of
// 48 rows for every thread; 4 a thread is the default, and 3, 2 or 1 let fewer rows through. Letting dy^T x
// 256x2048x256 through was 1.12-1.26x faster on Zen 5 and 0.92x with AVX-512 on Zen 4; at 1 group a thread it was
// 0.90x on Zen 5 (benchmarks/README.md). Without a tuning file nothing changes; LWZ_GEMM_TUNE=off ignores one.
import { loadAddon, type CpuDetails, type NativeAddon } from './native';
import { cpuFingerprint, readMachineCache, writeMachineCache } from './machine-cache';

/** Candidates for the few-columns threshold (row groups of transposed op(A) per thread); the first is the default. */
export const FEW_COLUMNS_CANDIDATES: readonly number[] = [4, 3, 2, 1];

/** A candidate replaces the default only when its measured time is at least this much lower (noise guard). */
export const TUNE_MARGIN = 1.05;

/** (m, n, k, transA, transB) */
export type TuneShape = readonly [number, number, number, boolean, boolean];

export interface GemmTuning {
  /** the chosen threshold: row groups of transposed op(A) per thread from which the few-columns path runs */
  fewColumnsGroups: number;
  /** per candidate: the median over rounds of the tuning shapes' summed median ms, and each shape's path (gemmPath) */
  measured: { fewColumnsGroups: number; ms: number; paths?: string[] }[];
  shapes: TuneShape[];
  rounds: number;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * The shapes the candidates decide between: dy^T x (transposed A, K = 2048) with 1, 2 and 3 row groups per thread,
 * a group being the rows whose transposed pieces fill whole 64-byte lines (lcm(MR, 16): 48 for the 12x32 and 6x16
 * tiles), and N = 256 (the hidden size of the default models), or the widest multiple of NR within the column block
 * nc where that is narrower: the threshold applies only to op(B) within one block. At 4 groups a thread or more
 * every candidate takes the few-columns path.
 */
export function tuningShapes(cpu: CpuDetails, threads: number): TuneShape[] {
  const { mr, nr, nc } = cpu.gemm;
  const group = (mr * 16) / gcd(mr, 16);
  const n = Math.max(nr, Math.min(256, Math.floor(nc / nr) * nr));
  return [1, 2, 3].map((perThread) => [perThread * Math.max(1, threads) * group, n, 2048, true, false] as const);
}

/** The machine-cache key: the tuning holds for this CPU, instruction set and thread count only. */
export function tuneKey(addon: NativeAddon): string {
  const { isa, threads } = addon.info();
  return `${cpuFingerprint(addon.cpuDetails())} | ${isa} | ${threads} threads`;
}

function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const h = v.length >> 1;
  return v.length % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

/**
 * Time every candidate on the tuning shapes, `rounds` rounds with the candidates' order rotated each round (so
 * a slow moment of the machine falls on each in turn); each shape the median of `reps` calls after a warm-up.
 * Picks with chooseCandidate. The addon's setting is restored to the default before returning.
 */
export function measureGemmTuning(addon: NativeAddon, rounds = 7, reps = 5): GemmTuning {
  const { isa, threads } = addon.info();
  const isaName = isa as 'avx512' | 'avx2' | 'generic';
  const shapes = tuningShapes(addon.cpuDetails(), threads);
  const times = FEW_COLUMNS_CANDIDATES.map(() => [] as number[]);
  try {
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < FEW_COLUMNS_CANDIDATES.length; i++) {
        const c = (i + r) % FEW_COLUMNS_CANDIDATES.length;
        addon.setGemmPaths(isaName, FEW_COLUMNS_CANDIDATES[c]);
        times[c].push(shapes.reduce((sum, [m, n, k, ta, tb]) => sum + addon.gemmTime(m, n, k, ta, tb, reps), 0));
      }
    }
  } finally {
    addon.setGemmPaths(isaName, 0);
  }
  const paths = FEW_COLUMNS_CANDIDATES.map((groups) => {
    addon.setGemmPaths(isaName, groups);
    return shapes.map(([m, n, k, ta, tb]) => addon.gemmPath(m, n, k, ta, tb));
  });
  addon.setGemmPaths(isaName, 0);
  const measured = FEW_COLUMNS_CANDIDATES.map((groups, c) => ({ fewColumnsGroups: groups, ms: median(times[c]), paths: paths[c] }));
  return { fewColumnsGroups: chooseCandidate(measured), measured, shapes, rounds };
}

/** Candidates within this factor of the fastest count as tied; the one nearest the default (first listed) wins. */
export const TUNE_TIE = 1.02;

/**
 * The fastest candidate when it beats the default (the first) by `margin`, else the default. Among candidates
 * within TUNE_TIE of the fastest, the first listed (the nearest the default) is taken, so two runs on one
 * machine do not flip between near-equal candidates.
 */
export function chooseCandidate(measured: readonly { fewColumnsGroups: number; ms: number }[], margin = TUNE_MARGIN): number {
  const fastest = Math.min(...measured.map((c) => c.ms));
  const best = measured.find((c) => c.ms <= fastest * TUNE_TIE) ?? measured[0];
  return best.ms * margin < measured[0].ms ? best.fewColumnsGroups : measured[0].fewColumnsGroups;
}

/** Why a cached tuning cannot be used, or null when it can. */
export function invalidTuning(t: unknown): string | null {
  if (typeof t !== 'object' || t === null || Array.isArray(t)) return 'not a JSON object';
  const g = (t as { fewColumnsGroups?: unknown }).fewColumnsGroups;
  if (typeof g !== 'number' || !Number.isInteger(g) || g < 1 || g > 64)
    return `field fewColumnsGroups must be an integer from 1 to 64, got ${JSON.stringify(g) ?? 'nothing'}`;
  return null;
}

export interface TuningSetup {
  tuning: GemmTuning | null;
  /** 'cache': applied from the machine cache; 'none': no file for this machine (defaults); 'off': LWZ_GEMM_TUNE=off */
  source: 'cache' | 'none' | 'off';
}

/**
 * Apply this machine's tuning from the machine cache (written by `nx run kernels:tune`), if any. A file that
 * does not hold a valid tuning is reported through `warn` (with its fix) and the defaults stay.
 */
export function applyGemmTuning(addon: NativeAddon, warn: (msg: string) => void, env: NodeJS.ProcessEnv = process.env): TuningSetup {
  if (env.LWZ_GEMM_TUNE?.trim() === 'off') return { tuning: null, source: 'off' };
  const tuning = readMachineCache<GemmTuning>('gemm-tune', tuneKey(addon), env);
  if (!tuning) return { tuning: null, source: 'none' };
  if (typeof addon.setGemmPaths !== 'function') {
    warn(
      '@lwz/kernels: the native addon predates the GEMM tuning (built from older sources); rebuild it with `npx nx run kernels:build-native`',
    );
    return { tuning: null, source: 'none' };
  }
  const why = invalidTuning(tuning);
  if (why) {
    warn(`@lwz/kernels: ignoring the cached GEMM tuning (${why}); rerun \`npx nx run kernels:tune\``);
    return { tuning: null, source: 'none' };
  }
  addon.setGemmPaths(addon.info().isa as 'avx512' | 'avx2' | 'generic', tuning.fewColumnsGroups);
  return { tuning, source: 'cache' };
}

/** Measure, cache (atomically) and apply this machine's tuning; the file written, or null when the cache is not writable. */
export function tuneGemm(
  addon: NativeAddon,
  rounds?: number,
  env: NodeJS.ProcessEnv = process.env,
): { tuning: GemmTuning; file: string | null } {
  const tuning = measureGemmTuning(addon, rounds);
  const file = writeMachineCache('gemm-tune', tuneKey(addon), tuning, env);
  addon.setGemmPaths(addon.info().isa as 'avx512' | 'avx2' | 'generic', tuning.fewColumnsGroups);
  return { tuning, file };
}

/**
 * For benchmarks that call the addon directly (gemm-vs-blas.ts): apply this machine's cached tuning as the cpu
 * backend does at start, and report the setting now. Null without the addon.
 */
export function machineGemmTuning(
  warn: (msg: string) => void = console.warn,
): { fewColumnsGroups: number; source: TuningSetup['source'] } | null {
  const load = loadAddon();
  if (!('addon' in load)) return null;
  const { source } = applyGemmTuning(load.addon, warn);
  return { fewColumnsGroups: load.addon.cpuDetails().gemm.fewColumnsGroups, source };
}

/** The loop order our GEMM takes for a shape now (native gemmPath), or null without the addon. */
export function nativeGemmPath(m: number, n: number, k: number, transA: boolean, transB: boolean): string | null {
  const load = loadAddon();
  return 'addon' in load ? load.addon.gemmPath(m, n, k, transA, transB) : null;
}
