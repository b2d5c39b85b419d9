// The benchmark suite format: `benchmarks/<lib>/<suite>.bench.ts` default-exports a BenchSuite whose `suite`
// equals the file's base name; `lwz-bench` discovers, times and reports it. Suites import these types
// through benchmarks/suite.ts. Only types and two guards: timing, records, tables and baseline harnesses
// live in the other runner files. See benchmarks/README.md for the rules (named shapes, work, skips).

export type { Device } from '@lwz/kernels';
import type { Device } from '@lwz/kernels';
export type Params = Record<string, number | string | boolean>;

/** What one call of a timed function does: FLOPs, bytes moved, or tokens processed. */
export interface Work {
  amount: number;
  unit: 'FLOP' | 'B' | 'token';
  /** the arithmetic behind `amount`, shown in tables (e.g. "2*M*N*K") */
  formula: string;
}

/** What the runner tells a suite about this run. */
export interface SuiteContext {
  device: Device;
  /** threads the kernels were asked to use (LWZ_THREADS) */
  threads: number;
  /** one iteration, no warmup (CI); shapes stay the named ones */
  smoke: boolean;
}

/** The function the runner times, plus how to free what setup allocated. */
export interface Prepared {
  fn: () => unknown;
  dispose?: () => void;
  /**
   * Untimed, before every timed call of `fn` and, for a case timed against an in-process baseline, before every
   * timed call of the baseline too, so both start from the same state (e.g. the caches evicted, as a real step
   * finds its data). Only a timed case's own `beforeEach` is used; a baseline's is ignored.
   */
  beforeEach?: () => void;
}

/** A case that cannot run here (missing kernel, missing device): shown in the table, never silent. */
export interface Skip {
  skip: string;
}

/** A timed case: setup (untimed) returns `fn`; the runner times calls of `fn` with tinybench. */
export interface TimedCase {
  name: string;
  params: Params;
  work: Work;
  /** a second view of the same call (e.g. bytes for a memory-bound GEMV); its throughput goes in the notes */
  alsoWork?: Work;
  setup(ctx: SuiteContext): Prepared | Skip | Promise<Prepared | Skip>;
  /** per baseline name, the arguments its harness needs to run the same shape (e.g. ["sgemm", "512", ...]) */
  baseline?: Record<string, string[]>;
}

/** A result that is not a timing of `fn` (e.g. peak memory measured in a child process). */
export interface Measured {
  median_ms: number;
  throughput: number;
  unit: string;
  /** extra numbers stored in the record and shown in the table's notes */
  extra?: Record<string, number | string>;
  /** Markdown printed under the table in its own section (e.g. a per-op time breakdown) */
  details?: string;
}

export interface MeasuredCase {
  name: string;
  params: Params;
  measure(ctx: SuiteContext): Promise<Measured | Skip>;
}

export type BenchCase = TimedCase | MeasuredCase;

/**
 * A baseline implemented as a small C program compiled at run time against a system library that is NOT a
 * project dependency. Protocol: `harness ITERATIONS WARMUP SPEC...` where SPEC is a case's baseline args
 * joined with ':'; it prints one JSON line per SPEC, in order: {"spec": "...", "median_ms": number}, and
 * may print one {"info": "..."} line first.
 */
export interface CHarnessBaseline {
  kind: 'c-harness';
  /** absolute path of the C source */
  source: string;
  /** header that must be found (e.g. cblas.h) */
  header: string;
  /** library to link (-l<library>) */
  library: string;
  /** environment variable that sets the library's thread count */
  threadsEnv?: string;
  /** how to install the library, shown when it is missing */
  install: string;
}

/**
 * A baseline measured in this process, e.g. a bandwidth probe as the physical limit of memory-bound kernels.
 * For each timed case carrying `baseline[name]`, `prepare(args)` returns the function the runner times
 * alternately with that case's, call by call (measure.ts timePaired), so load changes hit both alike.
 */
export interface InProcessBaseline {
  kind: 'in-process';
  /** one line for the table's notes: what is timed */
  description: string;
  prepare(args: string[], ctx: SuiteContext): Prepared | Skip;
}

export type Baseline = CHarnessBaseline | InProcessBaseline;

export interface BenchSuite {
  suite: string;
  description: string;
  cases(ctx: SuiteContext): BenchCase[];
  baselines?: Record<string, Baseline>;
}

export function isSkip(x: unknown): x is Skip {
  return typeof x === 'object' && x !== null && typeof (x as Skip).skip === 'string';
}

export function isMeasuredCase(c: BenchCase): c is MeasuredCase {
  return typeof (c as MeasuredCase).measure === 'function';
}
