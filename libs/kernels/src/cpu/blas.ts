// Optional system BLAS for the cpu backend (LWZ_BLAS=auto|own|PATH; default auto). The addon dlopens MKL,
// OpenBLAS or BLIS when one is installed (nothing is linked, so a fresh machine runs our kernels unchanged);
// a one-time calibration times ours against it on the representative shapes below, is cached per machine
// (machine-cache.ts), and matmuls nearest a shape where the BLAS was >= 10% faster are routed to it.
import { loadAddon, type NativeAddon } from './native';
import { cpuFingerprint, readMachineCache, writeMachineCache } from './machine-cache';

/** (m, n, k, transA, transB): square, the model's train-step shapes (x W^T, dy W, dy^T x), decode batches, GEMV. */
export const CALIBRATION_SHAPES: readonly (readonly [number, number, number, boolean, boolean])[] = [
  [512, 512, 512, false, false],
  [512, 512, 512, false, true],
  [512, 512, 512, true, false],
  [2048, 1024, 256, false, true],
  [2048, 256, 1024, false, false],
  [256, 1024, 2048, true, false],
  [64, 2048, 2048, false, true],
  [64, 2048, 2048, false, false],
  [8, 2048, 2048, false, true],
  [1, 4096, 4096, false, true],
  [1, 4096, 4096, false, false],
];

/** BLAS must beat ours by this factor on a shape before shapes near it go to the BLAS. */
export const BLAS_MARGIN = 1.1;

export interface CalibrationPoint {
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  oursMs: number;
  blasMs: number;
}

export interface BlasSetup {
  /** the loaded library file, or null when our kernels run everything */
  library: string | null;
  /** calibrated shapes routed to the BLAS */
  routed: number;
  points: CalibrationPoint[];
  /** where the calibration came from */
  source: 'cache' | 'measured' | 'none';
}

/**
 * Time every calibration shape, ours against the loaded BLAS (about 1.5 s on 2 Zen 5 cores): `rounds` timings a shape (each
 * side the median of `reps` calls), keeping each side's fastest. One timing a shape let a moment of load decide a
 * route for good: a calibration cached while a CI run shared the 2 cores (Zen 5, 2026-11-30) timed our 1x4096x4096
 * GEMV at 4.1 ms against the BLAS's 2.3 and sent the decode GEMVs to OpenBLAS, which quiet runs put at 0.65-0.76x of
 * ours (benchmarks/README.md, "2026-11-30 18:43").
 */
export function calibrateBlas(addon: Pick<NativeAddon, 'blasTime'>, reps = 5, rounds = 3): CalibrationPoint[] {
  return CALIBRATION_SHAPES.map(([m, n, k, transA, transB]) => {
    const times = Array.from({ length: rounds }, () => addon.blasTime(m, n, k, transA, transB, reps));
    return {
      m,
      n,
      k,
      transA,
      transB,
      oursMs: Math.min(...times.map((t) => t.oursMs)),
      blasMs: Math.min(...times.map((t) => t.blasMs)),
    };
  });
}

/** The addon's routing rows: (m, n, k, transA, transB, useBlas). */
export function blasPlan(points: readonly CalibrationPoint[], margin = BLAS_MARGIN): Float64Array {
  const rows = points.flatMap((p) => [p.m, p.n, p.k, +p.transA, +p.transB, +(p.blasMs * margin < p.oursMs)]);
  return Float64Array.from(rows);
}

/** The calibration's machine-cache key: it holds for this CPU, library, ISA, thread count and GEMM tuning (tune.ts). */
export function blasCacheKey(addon: NativeAddon, library: string): string {
  const cpu = addon.cpuDetails();
  const { isa, threads } = addon.info();
  // our side of the calibration runs the tuned paths: a new tuning table measures again
  const tuned = cpu.gemm.fewColumnsGroups ? ` | few-columns ${cpu.gemm.fewColumnsGroups.join('/')}` : '';
  return `${cpuFingerprint(cpu)} | ${library} | ${isa} | ${threads} threads${tuned}`;
}

/**
 * Load the system BLAS named by LWZ_BLAS and install its routing plan: from the machine cache, else measured
 * now and cached (`recalibrate` forces a new measurement). `warn` gets one line when LWZ_BLAS names a library
 * that cannot be loaded; our kernels then run everything.
 */
export function setupBlas(
  addon: NativeAddon,
  warn: (msg: string) => void,
  env: NodeJS.ProcessEnv = process.env,
  recalibrate = false,
): BlasSetup {
  const none: BlasSetup = { library: null, routed: 0, points: [], source: 'none' };
  const spec = env.LWZ_BLAS?.trim() || 'auto';
  if (spec === 'own') return none;
  const loaded = addon.blasLoad(spec);
  if (loaded.note) warn(`@lwz/kernels: ${loaded.note}`);
  if (!loaded.path) return none;
  const key = blasCacheKey(addon, loaded.path);
  let points = recalibrate ? null : readMachineCache<CalibrationPoint[]>('blas', key, env);
  const source = points ? 'cache' : 'measured';
  if (!points) {
    points = calibrateBlas(addon);
    writeMachineCache('blas', key, points, env);
  }
  const plan = blasPlan(points);
  addon.blasSetPlan(plan);
  let routed = 0;
  for (let i = 5; i < plan.length; i += 6) routed += plan[i];
  return { library: loaded.path, routed, points, source };
}

/**
 * For benchmarks on a busy machine: load the system BLAS named by `spec` (default LWZ_BLAS or auto) and time one
 * shape, ours then the BLAS (each median of `reps` after a warm-up, same threads). Null without addon or BLAS.
 * Routing plans are not touched. `addonPath`: another build of the addon (a copy of lwz_cpu.node at its own path),
 * for A/B timings of two builds in one process (benchmarks/kernels/addon-ab.ts).
 */
export function timeAgainstSystemBlas(
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
  reps: number,
  spec = process.env.LWZ_BLAS?.trim() || 'auto',
  addonPath?: string,
): { oursMs: number; blasMs: number; library: string } | null {
  const load = loadAddon(addonPath);
  if (!('addon' in load)) return null;
  const library = load.addon.blasLoad(spec).path;
  if (!library) return null;
  return { ...load.addon.blasTime(m, n, k, transA, transB, reps), library };
}
