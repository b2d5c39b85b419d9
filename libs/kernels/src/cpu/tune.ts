// The optional GEMM tuning step (#15; `npx nx run kernels:tune`): one path choice whose best value differs between
// CPUs, measured on this machine and cached per CPU fingerprint, ISA and thread count (machine-cache.ts). The
// blocking itself is not searched: kc x nc sweeps around the cache model found nothing beyond the noise on Zen 3,
// 4 and 5 (benchmarks/README.md, "CPU paths"). What is searched is where gemm switches from its block path to the
// few-columns path for transposed op(A) (the weight gradients dy^T x of the model's projections): that path wants
// enough row groups of 48 rows for every thread, 4 a thread by default; with fewer it gains on a narrow op(B) and
// loses on a wide one, and where the two cross differs between CPUs (on Zen 5, 2 groups a thread: 1.1-1.5x at
// N = 128-256, 0.8-0.96x from N = 384-448; on Zen 4 0.92x at N = 256). So the threshold is tuned per width of
// op(B) (128, 256, 384, 512 columns; wider keeps the default). At the default (4, the first candidate) an op(B)
// within one column block (nc) takes the few-columns path from 3 groups a thread already, its rows shared between
// the threads by whole lines and its depth in order ('few-columns-balanced': the block path's bits; on the 6x16 tile
// also an op(B) up to 2 nc wide, at the shallower slice: 'few-columns-shallow-balanced'); a tuned 5 or more keeps the
// block path there. Without a tuning file nothing changes;
// LWZ_GEMM_TUNE=off ignores one. Below 4 groups a thread the few-columns path splits its depth between the threads
// (gemm_fewcolumns.cpp splitsDepth): 1.2-1.4x the block path within nc in a two-build A/B on Zen 5, though this tuner's own
// timing there read the two equal (benchmarks/README.md, "2026-12-02 08:34"; not resolved).
import { cpuFingerprint, readMachineCacheFile, writeMachineCache } from './machine-cache';
import { loadAddon, type CpuDetails, type NativeAddon } from './native';

/** Candidates for the few-columns threshold (row groups of transposed op(A) per thread); the first is the default. */
export const FEW_COLUMNS_CANDIDATES: readonly number[] = [4, 3, 2, 1];

/** A candidate replaces the default only when its measured time is at least this much lower (noise guard). */
export const TUNE_MARGIN = 1.08;

/** Candidates within this factor of the fastest count as tied; the one nearest the default (first listed) wins. */
export const TUNE_TIE = 1.02;

/** (m, n, k, transA, transB) */
export type TuneShape = readonly [number, number, number, boolean, boolean];

type Table = [number, number, number, number];

export interface WidthTuning {
  /** the op(B) width (columns) these shapes have and this threshold covers */
  width: number;
  shapes: TuneShape[];
  /** per candidate: the median over rounds of the shapes' summed median ms, and each shape's path (gemmPath) */
  measured: { fewColumnsGroups: number; ms: number; paths?: string[] }[];
  /** the chosen threshold: row groups of transposed op(A) per thread from which the few-columns path runs */
  fewColumnsGroups: number;
}

export interface GemmTuning {
  /** the chosen thresholds, one per op(B) width the addon has a threshold for (cpuDetails().gemm.fewColumnsWidths) */
  fewColumnsGroups: number[];
  widths: WidthTuning[];
  rounds: number;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * The shapes one width's candidates decide between: dy^T x (transposed A, K = 2048, N = the width) with 1, 2 and 3
 * row groups per thread, a group being the rows whose transposed pieces fill whole 64-byte lines (lcm(MR, 16): 48
 * for the 12x32 and 6x16 tiles). At 4 groups a thread or more every candidate takes the few-columns path.
 */
export function tuningShapes(cpu: CpuDetails, threads: number, width: number): TuneShape[] {
  const { mr } = cpu.gemm;
  const group = (mr * 16) / gcd(mr, 16);
  return [1, 2, 3].map((perThread) => [perThread * Math.max(1, threads) * group, width, 2048, true, false] as const);
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

function isaOf(addon: NativeAddon): 'avx512' | 'avx2' | 'generic' {
  return addon.info().isa as 'avx512' | 'avx2' | 'generic';
}

/** Set every width's threshold to `groups` (0: the defaults). */
function setAll(addon: NativeAddon, groups: number): void {
  addon.setGemmPaths(isaOf(addon), groups, groups, groups, groups);
}

/**
 * Time every candidate on each width's shapes, `rounds` rounds with the candidates' order rotated each round (so
 * a slow moment of the machine falls on each in turn); each shape the median of `reps` calls after a warm-up.
 * Picks each width's threshold with chooseCandidate. The addon's setting is restored to the defaults before
 * returning.
 */
export function measureGemmTuning(addon: NativeAddon, rounds = 7, reps = 5): GemmTuning {
  const { threads } = addon.info();
  const cpu = addon.cpuDetails();
  try {
    const widths = cpu.gemm.fewColumnsWidths.map((width): WidthTuning => {
      const shapes = tuningShapes(cpu, threads, width);
      const times = FEW_COLUMNS_CANDIDATES.map(() => [] as number[]);
      for (let r = 0; r < rounds; r++) {
        for (let i = 0; i < FEW_COLUMNS_CANDIDATES.length; i++) {
          const c = (i + r) % FEW_COLUMNS_CANDIDATES.length;
          setAll(addon, FEW_COLUMNS_CANDIDATES[c]);
          times[c].push(shapes.reduce((sum, [m, n, k, ta, tb]) => sum + addon.gemmTime(m, n, k, ta, tb, reps), 0));
        }
      }
      const measured = FEW_COLUMNS_CANDIDATES.map((groups, c) => {
        setAll(addon, groups);
        return {
          fewColumnsGroups: groups,
          ms: median(times[c]),
          paths: shapes.map(([m, n, k, ta, tb]) => addon.gemmPath(m, n, k, ta, tb)),
        };
      });
      return { width, shapes, measured, fewColumnsGroups: chooseCandidate(measured) };
    });
    return { fewColumnsGroups: widths.map((w) => w.fewColumnsGroups), widths, rounds };
  } finally {
    setAll(addon, 0);
  }
}

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

/** Why a cached tuning cannot be used with an addon whose thresholds cover these op(B) widths, or null when it can. */
export function invalidTuning(t: unknown, widths: readonly number[]): string | null {
  if (typeof t !== 'object' || t === null || Array.isArray(t)) return 'not a JSON object';
  const g = (t as { fewColumnsGroups?: unknown }).fewColumnsGroups;
  const ok = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 64;
  if (!Array.isArray(g) || g.length !== widths.length || !g.every(ok))
    return `field fewColumnsGroups must be ${widths.length} integers from 1 to 64 (one per op(B) width ${widths.join(', ')}), got ${JSON.stringify(g) ?? 'nothing'}`;
  return null;
}

export interface TuningSetup {
  tuning: GemmTuning | null;
  /** 'cache': applied from the machine cache; 'none': no usable file for this machine (defaults); 'off': LWZ_GEMM_TUNE=off */
  source: 'cache' | 'none' | 'off';
}

/**
 * Apply this machine's tuning from the machine cache (written by `nx run kernels:tune`), if any. A file that
 * does not hold a valid tuning (not JSON, a wrong field), or an addon built before the tuning existed, is reported
 * through `warn` (naming the file and the fix) and the defaults stay: nothing rewrites such a file but the tune
 * command, so a silent skip would cost the tuning on every start without anyone knowing.
 */
export function applyGemmTuning(addon: NativeAddon, warn: (msg: string) => void, env: NodeJS.ProcessEnv = process.env): TuningSetup {
  if (env.LWZ_GEMM_TUNE?.trim() === 'off') return { tuning: null, source: 'off' };
  const { path, value: tuning, problem } = readMachineCacheFile<GemmTuning>('gemm-tune', tuneKey(addon), env);
  const ignoring = (why: string) =>
    warn(
      `@lwz/kernels: ignoring the cached GEMM tuning ${path} (${why}); the default GEMM paths run. Delete that file, or rerun \`npx nx run kernels:tune\` to measure it again`,
    );
  if (problem) {
    ignoring(problem);
    return { tuning: null, source: 'none' };
  }
  if (!tuning) return { tuning: null, source: 'none' };
  if (typeof addon.setGemmPaths !== 'function') {
    warn(
      '@lwz/kernels: the native addon predates the GEMM tuning (built from older sources); rebuild it with `npx nx run kernels:build-native`',
    );
    return { tuning: null, source: 'none' };
  }
  const why = invalidTuning(tuning, addon.cpuDetails().gemm.fewColumnsWidths);
  if (why) {
    ignoring(why);
    return { tuning: null, source: 'none' };
  }
  addon.setGemmPaths(isaOf(addon), ...(tuning.fewColumnsGroups as Table));
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
  addon.setGemmPaths(isaOf(addon), ...(tuning.fewColumnsGroups as Table));
  return { tuning, file };
}

/**
 * For benchmarks that call the addon directly (gemm-vs-blas.ts): apply this machine's cached tuning as the cpu
 * backend does at start, and report the thresholds now. Null without the addon.
 */
export function machineGemmTuning(
  warn: (msg: string) => void = console.warn,
): { fewColumnsGroups: number[]; source: TuningSetup['source'] } | null {
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
