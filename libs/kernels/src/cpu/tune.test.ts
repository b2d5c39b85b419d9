// The optional GEMM tuning (tune.ts): every threshold candidate gives ref's product on the shapes it decides
// between, on the path the addon names for it (gemmPath), each width of op(B) under its own entry; the choice
// keeps the default unless a candidate beats it by the margin; a cached tuning is applied at start, ignored with
// LWZ_GEMM_TUNE=off, and rejected with a clear warning naming the file when its field is invalid, the file is not
// JSON (once, from a backend that still starts) or the addon predates it.
import { jest } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '@lwz/core';
import { tensor, tryBackend, type Device } from '../index';
import { getKernel } from '../registry';
import { blasCacheKey } from './blas';
import { readMachineCache, writeMachineCache } from './machine-cache';
import { loadAddon } from './native';
import {
  applyGemmTuning,
  chooseCandidate,
  FEW_COLUMNS_CANDIDATES,
  invalidTuning,
  measureGemmTuning,
  TUNE_MARGIN,
  TUNE_TIE,
  tuneGemm,
  tuneKey,
  tuningShapes,
  type GemmTuning,
} from './tune';

tryBackend('cpu'); // REQUIRE_NATIVE=1: throws when the addon is missing
const load = loadAddon();
const isas = ['avx512', 'avx2', 'generic'] as const;

// the addon's op(B) widths (native gemm.h kFewColumnsWidth), as cpuDetails reports them
const WIDTHS = [128, 256, 384, 512];

describe('GEMM tuning (pure)', () => {
  const details = (mr: number) => ({ gemm: { mr } }) as Parameters<typeof tuningShapes>[0];

  it('tunes each width on dy^T x of 1, 2 and 3 row groups a thread (whole 64-byte lines of MR-wide pieces)', () => {
    expect(tuningShapes(details(12), 2, 256)).toEqual([
      [96, 256, 2048, true, false],
      [192, 256, 2048, true, false],
      [288, 256, 2048, true, false],
    ]);
    expect(tuningShapes(details(6), 1, 384).map(([m, n]) => [m, n])).toEqual([
      [48, 384], // lcm(6, 16) = 48 rows a group
      [96, 384],
      [144, 384],
    ]);
    expect(tuningShapes(details(4), 2, 128).map(([m]) => m)).toEqual([32, 64, 96]); // lcm(4, 16) = 16
  });

  it('keeps the default unless a candidate beats it by the margin', () => {
    const measured = (...ms: number[]) => ms.map((v, i) => ({ fewColumnsGroups: FEW_COLUMNS_CANDIDATES[i], ms: v }));
    expect(FEW_COLUMNS_CANDIDATES[0]).toBe(4);
    expect(chooseCandidate(measured(10, 9.6, 9.7, 9.9))).toBe(4); // 4 % faster: within the noise guard
    expect(chooseCandidate(measured(10, 9, 9.4, 11))).toBe(3);
    expect(chooseCandidate(measured(10, 9.4, 8, 8.5))).toBe(2);
    expect(chooseCandidate(measured(10, 11, 12, 7))).toBe(1);
    expect(chooseCandidate(measured(10, 11, 12, 13))).toBe(4);
    expect(chooseCandidate(measured(10, 10 / TUNE_MARGIN - 1e-9, 11, 12))).toBe(3);
    // near-equal candidates (within TUNE_TIE of the fastest): the one nearest the default
    expect(chooseCandidate(measured(10, 9, 8.9, 8.8))).toBe(2);
    expect(chooseCandidate(measured(10, 8.8 * TUNE_TIE + 1e-9, 9, 8.8))).toBe(1);
    expect(chooseCandidate(measured(10, 8.8 * TUNE_TIE, 9, 8.8))).toBe(3);
  });

  it('names the invalid field of a cached tuning', () => {
    expect(invalidTuning({ fewColumnsGroups: [2, 2, 4, 4] }, WIDTHS)).toBeNull();
    expect(invalidTuning([], WIDTHS)).toBe('not a JSON object');
    expect(invalidTuning(null, WIDTHS)).toBe('not a JSON object');
    expect(invalidTuning({ fewColumnsGroups: 3 }, WIDTHS)).toMatch(
      /field fewColumnsGroups must be 4 integers from 1 to 64 \(one per op\(B\) width 128, 256, 384, 512\), got 3/,
    );
    expect(invalidTuning({ fewColumnsGroups: [2, 2, 0, 4] }, WIDTHS)).toMatch(/got \[2,2,0,4\]/);
    expect(invalidTuning({ fewColumnsGroups: [2, 2, 4] }, WIDTHS)).toMatch(/must be 4 integers/);
    expect(invalidTuning({ fewColumnsGroups: [2, '2', 4, 4] }, WIDTHS)).toMatch(/must be 4 integers/);
    expect(invalidTuning({}, WIDTHS)).toMatch(/got nothing/);
  });
});

if (!('addon' in load)) {
  it.skip(`GEMM tuning: ${load.error}`, () => undefined);
} else {
  const addon = load.addon;
  const detected = addon.info().detectedIsa as (typeof isas)[number];
  const usable = isas.slice(isas.indexOf(detected)).filter((v) => v !== 'generic');
  const threads0 = addon.info().threads;
  const reset = (isa: (typeof isas)[number]) => addon.setGemmPaths(isa, 0, 0, 0, 0);

  afterEach(() => {
    for (const v of isas) reset(v);
    addon.setIsa(detected);
    addon.setThreads(threads0);
  });

  it('reports the widths and the default table', () => {
    expect(addon.cpuDetails().gemm.fewColumnsWidths).toEqual(WIDTHS);
    expect(addon.cpuDetails().gemm.fewColumnsGroups).toEqual([4, 4, 4, 4]);
  });

  /** Whether either few-columns variant can run an op(B) n wide at all under this blocking (gemm.cpp choosePath). */
  function fewColumnsReachable(n: number): boolean {
    const { kc, nc, nr } = addon.cpuDetails().gemm;
    const nPad = Math.ceil(n / nr) * nr;
    return nPad <= nc || Math.floor((kc * nc) / nPad / 8) * 8 >= 256;
  }

  /** Whether an op(B) n wide fits one column block (nc), where the default takes 'few-columns-balanced' from 3 groups a thread. */
  function withinNc(n: number): boolean {
    const { nc, nr } = addon.cpuDetails().gemm;
    return Math.ceil(n / nr) * nr <= nc;
  }

  /**
   * Whether an op(B) n wide is past nc but within this tile's shallowBalancedColumns * nc at a slice of at least 256
   * depths, where the default takes 'few-columns-shallow-balanced' from 3 groups a thread.
   */
  function shallowBalanced(n: number): boolean {
    const { nc, nr, shallowBalancedColumns } = addon.cpuDetails().gemm;
    const nPad = Math.ceil(n / nr) * nr;
    return nPad > nc && nPad <= shallowBalancedColumns * nc && fewColumnsReachable(n);
  }

  /** The default's path for 3 row groups a thread (2 threads): rows shared by lines where the tile allows it. */
  function threeGroupsPath(n: number): string {
    if (withinNc(n)) return 'few-columns-balanced';
    return shallowBalanced(n) ? 'few-columns-shallow-balanced' : 'block';
  }

  function dyTx(device: Device, m: number, k: number, n: number): Float32Array {
    const rng = new Rng(m * 31 + k + n);
    const a = tensor(
      Float32Array.from({ length: k * m }, () => rng.normal()),
      [k, m],
      { device },
    ); // dy (k, m): op(A) = dy^T
    const b = tensor(
      Float32Array.from({ length: k * n }, () => rng.normal()),
      [k, n],
      { device },
    );
    const out = tensor(new Float32Array(m * n), [m, n], { device });
    getKernel('matmulForward', device)({ a, b, out, transA: true, transB: false, alpha: 1, accumulate: false });
    return out.f32;
  }

  /**
   * dy^T x on the path the first side names, then after the second side's setup on the path it names: the two
   * products agree word for word. Returns the first.
   */
  function sameWords(m: number, k: number, n: number, ...sides: [string, () => void][]): Float32Array {
    const [a, b] = sides.map(([path, setup]) => {
      setup();
      expect(addon.gemmPath(m, n, k, true, false)).toBe(path);
      return dyTx('cpu', m, k, n);
    });
    expect(new Uint32Array(a.buffer)).toEqual(new Uint32Array(b.buffer));
    return a;
  }

  describe.each(usable)('the few-columns thresholds on %s, 2 threads', (isa) => {
    const k = 2048;
    // widths in each entry (96-128 columns: the first, 256: the second, ...) and beyond the last (704: tiny's MLP)
    it.each([
      [96, 100, 0],
      [192, 256, 1],
      [288, 256, 1],
      [240, 384, 2],
      [240, 500, 3],
      [256, 704, -1],
    ])('every candidate gives ref within float32 tolerance on dy^T x %i x 2048 x %i (entry %i), on the path it names', (m, n, entry) => {
      expect(addon.setIsa(isa)).toBe(true);
      addon.setThreads(2);
      const want = dyTx('ref', m, k, n);
      const groups = Math.ceil(m / 48); // row groups of transposed A: lcm(MR, 16) = 48 rows for the 12x32 and 6x16 tiles
      const paths = new Set<string>();
      for (const perThread of [4, 3, 2, 1]) {
        // this width's entry set to the candidate, every other entry to the opposite extreme, so a wrong entry shows
        const table = WIDTHS.map((_, i) => (i === entry ? perThread : perThread === 1 ? 4 : 1)) as [number, number, number, number];
        addon.setGemmPaths(isa, ...table);
        expect(addon.cpuDetails().gemm.fewColumnsGroups).toEqual(table);
        const path = addon.gemmPath(m, n, k, true, false);
        paths.add(path);
        // the few-columns order (either variant) once every thread gets the entry's groups; beyond the widths, 4;
        // under the default threshold (4) from 3 groups a thread within nc (and up to the tile's shallowBalancedColumns
        // * nc), with the rows shared by whole lines
        const needed = entry >= 0 ? perThread : 4;
        if (fewColumnsReachable(n) && groups >= 2 * needed) expect(path).toMatch(/^few-columns/);
        else if (needed === 4 && groups >= 3 * 2) expect(path).toBe(threeGroupsPath(n));
        else expect(path).toBe('block');
        // float32 accumulation over k unit-variance products: error grows like sqrt(k) * eps32
        expect(dyTx('cpu', m, k, n)).toBeAllClose(want, { atol: 8e-6 * Math.sqrt(k), rtol: 1e-4 });
      }
      // within the widths the candidates reach both paths (the test covers what it claims); beyond, one path
      expect(paths.size).toBe(entry >= 0 && fewColumnsReachable(n) ? 2 : 1);
    });
  });

  // The balanced order shares the rows, never the depth: each element's sum runs over the same slices in the same
  // order as on the block path (a threshold of 64 a thread forces that one), so the two agree word for word.
  describe.each(usable)('the default few-columns-balanced order on %s', (isa) => {
    // 3 threads: 3 groups a thread need 9 groups, and the rows are cut into a multiple of 3 chunks
    it.each([
      [2, 288, 2048, 128],
      [2, 300, 700, 100],
      [2, 250, 999, 64],
      [3, 450, 700, 100],
      [3, 439, 1300, 128],
    ])('%i threads: dy^T x %i x %i x %i gives the block path bit for bit', (threads, m, k, n) => {
      expect(addon.setIsa(isa)).toBe(true);
      if (!withinNc(n) || Math.ceil(m / 48) < 3 * threads) throw new Error(`case ${m}x${k}x${n} does not reach the order on ${isa}`);
      addon.setThreads(threads);
      reset(isa);
      sameWords(m, k, n, ['few-columns-balanced', () => undefined], ['block', () => addon.setGemmPaths(isa, 64, 64, 64, 64)]);
      reset(isa);
    });
  });

  // Past nc the same order runs at the shallow slice on tiles that allow it (the 6x16 tile's shallowBalancedColumns):
  // each element's sum runs over the same slices in the same order as on one thread, which takes few-columns-shallow
  // with 4 or more groups, so the two agree word for word (a depth split between the threads would not).
  const shallowIsas = usable.filter((isa) => {
    addon.setIsa(isa);
    const ok = addon.cpuDetails().gemm.shallowBalancedColumns > 0;
    addon.setIsa(detected);
    return ok;
  });
  if (shallowIsas.length === 0) it.skip('few-columns-shallow-balanced: no usable ISA here takes it', () => undefined);
  else
    describe.each(shallowIsas)('the default few-columns-shallow-balanced order on %s', (isa) => {
      // op(B)'s width n is placed in this CPU's window past nc, (nc, shallowBalancedColumns * nc], at the given share
      // of it (nc follows the cache sizes: 144 on a Zen 3, wider on a Zen 5); the shares give widths of ragged panels
      it.each([
        [2, 288, 2048, 0.75],
        [2, 300, 700, 0.4],
        [3, 450, 2048, 0.75],
        [3, 439, 1300, 0.95],
      ])(
        '%i threads: dy^T x %i x %i x (%f of the window past nc) gives the one-thread few-columns-shallow bit for bit',
        (threads, m, k, share) => {
          expect(addon.setIsa(isa)).toBe(true);
          reset(isa);
          const { nc, shallowBalancedColumns } = addon.cpuDetails().gemm;
          const n = Math.round(nc + share * (shallowBalancedColumns - 1) * nc);
          if (!shallowBalanced(n)) throw new Error(`case ${m}x${k}x${n} is not past nc within the tile's bound on ${isa}`);
          addon.setThreads(threads);
          const balanced = sameWords(
            m,
            k,
            n,
            ['few-columns-shallow-balanced', () => undefined],
            ['few-columns-shallow', () => addon.setThreads(1)],
          );
          expect(balanced).toBeAllClose(dyTx('ref', m, k, n), { atol: 8e-6 * Math.sqrt(k), rtol: 1e-4 });
        },
      );
    });

  it('rejects a threshold outside 0-64, a missing entry, an unknown instruction set and an empty timed shape', () => {
    const isa = usable[usable.length - 1];
    expect(addon.setIsa(isa)).toBe(true);
    addon.setGemmPaths(isa, 3, 3, 2, 1);
    expect(() => addon.setGemmPaths(isa, 3, 65, 2, 1)).toThrow(/each fewColumnsGroups entry must be 0 \(the default\) to 64/);
    expect(() => (addon.setGemmPaths as (isa: string, g: number) => void)(isa, 2)).toThrow(/setGemmPaths/);
    expect(() => addon.setGemmPaths('sse' as 'avx2', 2, 2, 2, 2)).toThrow(/isa must be avx512, avx2 or generic/);
    expect(() => addon.gemmTime(0, 8, 8, false, false, 1)).toThrow(/gemmTime: needs positive sizes and reps/);
    expect(addon.cpuDetails().gemm.fewColumnsGroups).toEqual([3, 3, 2, 1]); // a rejected call changes nothing
    reset(isa);
    expect(addon.cpuDetails().gemm.fewColumnsGroups).toEqual([4, 4, 4, 4]);
  });

  describe('the machine cache', () => {
    let dir = '';
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'lwz-tune-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    const tuning = (groups: unknown) => ({ fewColumnsGroups: groups, widths: [], rounds: 1 }) as unknown as GemmTuning;

    it('applies a cached tuning at start, and not with LWZ_GEMM_TUNE=off or without one', () => {
      const env = { LWZ_CACHE_DIR: dir };
      const warn = jest.fn();
      expect(applyGemmTuning(addon, warn, env)).toEqual({ tuning: null, source: 'none' });
      expect(addon.cpuDetails().gemm.fewColumnsGroups).toEqual([4, 4, 4, 4]);
      writeMachineCache('gemm-tune', tuneKey(addon), tuning([1, 2, 3, 4]), env);
      expect(applyGemmTuning(addon, warn, { ...env, LWZ_GEMM_TUNE: 'off' }).source).toBe('off');
      expect(addon.cpuDetails().gemm.fewColumnsGroups).toEqual([4, 4, 4, 4]);
      expect(applyGemmTuning(addon, warn, env).source).toBe('cache');
      expect(addon.cpuDetails().gemm.fewColumnsGroups).toEqual([1, 2, 3, 4]);
      // another thread count is another machine setting: not applied
      reset(addon.info().isa as 'avx2');
      addon.setThreads(threads0 === 1 ? 2 : 1);
      expect(applyGemmTuning(addon, warn, env).source).toBe('none');
      expect(addon.cpuDetails().gemm.fewColumnsGroups).toEqual([4, 4, 4, 4]);
      expect(warn).not.toHaveBeenCalled();
    });

    it('warns, naming the field and the fix, and keeps the default when the cached value is invalid', () => {
      const env = { LWZ_CACHE_DIR: dir };
      const warn = jest.fn();
      writeMachineCache('gemm-tune', tuneKey(addon), tuning(2), env); // a single number, not one per width
      expect(applyGemmTuning(addon, warn, env)).toEqual({ tuning: null, source: 'none' });
      expect(warn).toHaveBeenCalledTimes(1);
      const file = join(dir, readdirSync(dir)[0]);
      expect(warn.mock.calls[0][0]).toBe(
        `@lwz/kernels: ignoring the cached GEMM tuning ${file} (field fewColumnsGroups must be 4 integers from 1 to 64 (one per op(B) width ${WIDTHS.join(', ')}), got 2); the default GEMM paths run. Delete that file, or rerun \`npx nx run kernels:tune\` to measure it again`,
      );
      expect(addon.cpuDetails().gemm.fewColumnsGroups).toEqual([4, 4, 4, 4]);
    });

    it('warns, naming the file and the fix, and keeps the default when the cache file is not valid JSON', () => {
      const env = { LWZ_CACHE_DIR: dir };
      const file = writeMachineCache('gemm-tune', tuneKey(addon), tuning([2, 2, 2, 2]), env) as string;
      for (const [text, why] of [
        ['{"key": "cut off', 'invalid JSON: '],
        ['[1, 2]', 'not a cache entry (a JSON object with "key" and "value")'],
      ]) {
        writeFileSync(file, text);
        const warn = jest.fn();
        expect(applyGemmTuning(addon, warn, env)).toEqual({ tuning: null, source: 'none' });
        expect(warn).toHaveBeenCalledTimes(1);
        expect(warn.mock.calls[0][0]).toContain(`@lwz/kernels: ignoring the cached GEMM tuning ${file} (${why}`);
        expect(warn.mock.calls[0][0]).toContain('Delete that file, or rerun `npx nx run kernels:tune` to measure it again');
        expect(addon.cpuDetails().gemm.fewColumnsGroups).toEqual([4, 4, 4, 4]);
      }
    });

    it('a backend started over an invalid cache file works and warns once on stderr, naming the file', () => {
      const env = { ...process.env, LWZ_CACHE_DIR: dir, LWZ_BLAS: 'own', LWZ_GEMM_TUNE: '' };
      const file = writeMachineCache('gemm-tune', tuneKey(addon), tuning([2, 2, 2, 2]), env) as string;
      writeFileSync(file, '{"key": ');
      const index = fileURLToPath(new URL('../index.ts', import.meta.url));
      const script = `import(${JSON.stringify(index)}).then((k) => {
        const a = k.tensor(new Float32Array([1, 2, 3, 4]), [2, 2], { device: 'cpu' });
        for (let i = 0; i < 3; i++) k.matmul(a, a);
        process.stdout.write(String(k.matmul(a, a).toArray()));
      })`;
      const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { env, encoding: 'utf8' });
      expect(run.status).toBe(0);
      expect(run.stdout).toBe('7,10,15,22');
      const lines = run.stderr.split('\n').filter((l) => l.includes('GEMM tuning'));
      expect(lines).toEqual([expect.stringContaining(`ignoring the cached GEMM tuning ${file} (invalid JSON: `)]);
    });

    it('a new tuning table is a new key for the BLAS calibration, whose ours side runs the tuned paths', () => {
      const before = blasCacheKey(addon, '/lib/libblas.so');
      addon.setGemmPaths(addon.info().isa as 'avx2', 1, 2, 4, 4);
      expect(blasCacheKey(addon, '/lib/libblas.so')).not.toBe(before);
      expect(blasCacheKey(addon, '/lib/libblas.so')).toMatch(/few-columns 1\/2\/4\/4$/);
    });

    it('an addon built before the tuning gets a warning naming the rebuild, not a crash at start', () => {
      const env = { LWZ_CACHE_DIR: dir };
      const warn = jest.fn();
      writeMachineCache('gemm-tune', tuneKey(addon), tuning([2, 2, 2, 2]), env);
      const old = { info: () => addon.info(), cpuDetails: () => addon.cpuDetails() } as unknown as typeof addon;
      expect(applyGemmTuning(old, warn, env)).toEqual({ tuning: null, source: 'none' });
      expect(warn.mock.calls[0][0]).toMatch(/predates the GEMM tuning .*rebuild it with `npx nx run kernels:build-native`/);
      expect(addon.cpuDetails().gemm.fewColumnsGroups).toEqual([4, 4, 4, 4]);
    });

    it('measures every candidate at every width, restores the defaults while measuring, caches the result and applies it', () => {
      const env = { LWZ_CACHE_DIR: dir };
      const measured = measureGemmTuning(addon, 1, 1);
      expect(measured.widths.map((w) => w.width)).toEqual(WIDTHS);
      for (const w of measured.widths) {
        expect(w.measured.map((c) => c.fewColumnsGroups)).toEqual([...FEW_COLUMNS_CANDIDATES]);
        for (const c of w.measured) expect(c.ms).toBeGreaterThan(0);
        expect(w.fewColumnsGroups).toBe(chooseCandidate(w.measured));
        // 1 a thread: every shape on a few-columns path where this blocking allows one; the default (the shapes have
        // 1-3 groups a thread): the block path, but for 3 a thread within nc, where the rows are shared by lines
        expect(w.measured[3].paths?.every((p) => p.startsWith('few-columns'))).toBe(fewColumnsReachable(w.width));
        expect(w.measured[0].paths).toEqual(['block', 'block', threeGroupsPath(w.width)]);
      }
      expect(measured.fewColumnsGroups).toEqual(measured.widths.map((w) => w.fewColumnsGroups));
      expect(addon.cpuDetails().gemm.fewColumnsGroups).toEqual([4, 4, 4, 4]);
      const { tuning: tuned, file } = tuneGemm(addon, 1, env);
      const written = file ?? '';
      expect(written.startsWith(dir)).toBe(true);
      expect(readdirSync(dir)).toEqual([written.slice(dir.length + 1)]); // written by rename: no temp file left
      expect(JSON.parse(readFileSync(written, 'utf8')).value.fewColumnsGroups).toEqual(tuned.fewColumnsGroups);
      expect(readMachineCache<GemmTuning>('gemm-tune', tuneKey(addon), env)?.widths.length).toBe(WIDTHS.length);
      expect(addon.cpuDetails().gemm.fewColumnsGroups).toEqual(tuned.fewColumnsGroups);
    });
  });
}
