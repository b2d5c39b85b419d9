// The optional GEMM tuning (tune.ts): every threshold candidate gives ref's product on the shapes it decides
// between, on the path the addon names for it (gemmPath), the choice keeps the default unless a candidate beats it by
// the margin, and a cached tuning is applied at start, ignored with LWZ_GEMM_TUNE=off, and rejected with a clear
// warning when its field is invalid.
import { jest } from '@jest/globals';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@lwz/core';
import { tensor, tryBackend, type Device } from '../index';
import { getKernel } from '../registry';
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

describe('GEMM tuning (pure)', () => {
  const details = (mr: number, nr: number, nc: number) => ({ gemm: { mr, nr, nc } }) as Parameters<typeof tuningShapes>[0];

  it('tunes on dy^T x of 1, 2 and 3 row groups a thread (whole 64-byte lines of MR-wide pieces), N within one column block', () => {
    expect(tuningShapes(details(12, 32, 384), 2)).toEqual([
      [96, 256, 2048, true, false],
      [192, 256, 2048, true, false],
      [288, 256, 2048, true, false],
    ]);
    expect(tuningShapes(details(6, 16, 192), 1)).toEqual([
      [48, 192, 2048, true, false], // lcm(6, 16) = 48 rows a group; N = 256 is wider than the 192-column block
      [96, 192, 2048, true, false],
      [144, 192, 2048, true, false],
    ]);
    expect(tuningShapes(details(4, 8, 20), 2).map(([m, n]) => [m, n])).toEqual([
      [32, 16],
      [64, 16],
      [96, 16],
    ]); // lcm(4, 16) = 16
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
    expect(invalidTuning({ fewColumnsGroups: 3 })).toBeNull();
    expect(invalidTuning([])).toBe('not a JSON object');
    expect(invalidTuning(null)).toBe('not a JSON object');
    expect(invalidTuning({ fewColumnsGroups: 0 })).toMatch(/field fewColumnsGroups must be an integer from 1 to 64, got 0/);
    expect(invalidTuning({ fewColumnsGroups: '3' })).toMatch(/got "3"/);
    expect(invalidTuning({})).toMatch(/got nothing/);
  });
});

if (!('addon' in load)) {
  it.skip(`GEMM tuning: ${load.error}`, () => undefined);
} else {
  const addon = load.addon;
  const detected = addon.info().detectedIsa as (typeof isas)[number];
  const usable = isas.slice(isas.indexOf(detected)).filter((v) => v !== 'generic');
  const threads0 = addon.info().threads;

  afterEach(() => {
    for (const v of isas) addon.setGemmPaths(v, 0);
    addon.setIsa(detected);
    addon.setThreads(threads0);
  });

  function dyTx(device: Device, m: number, k: number, n: number): Float32Array {
    const rng = new Rng(m * 31 + k);
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

  describe.each(usable)('the few-columns threshold on %s, 2 threads', (isa) => {
    const k = 2048;
    // N as the tuner takes it (within one column block), and 256 wider than the block where nc < 256 (avx2 on a 1 MiB
    // L2: nc 192), where the threshold must not apply; and 704 (tiny's MLP width), wider than every block
    it.each([
      [96, "the tuner's N", 0],
      [192, "the tuner's N", 0],
      [288, "the tuner's N", 0],
      [256, 'N = 256', 256],
      [256, 'N = 704', 704],
    ])('every candidate gives ref within float32 tolerance on dy^T x %i x 2048 x (%s), on the path it names', (m, _, nArg) => {
      expect(addon.setIsa(isa)).toBe(true);
      addon.setThreads(2);
      const { nr, nc } = addon.cpuDetails().gemm;
      const n = nArg || tuningShapes(addon.cpuDetails(), 2)[0][1];
      const want = dyTx('ref', m, k, n);
      const groups = Math.ceil(m / 48); // row groups of transposed A: lcm(MR, 16) = 48 rows for the 12x32 and 6x16 tiles
      const withinBlock = Math.ceil(n / nr) * nr <= nc;
      const defaultPath = addon.gemmPath(m, n, k, true, false);
      for (const perThread of [4, 3, 2, 1]) {
        addon.setGemmPaths(isa, perThread);
        expect(addon.cpuDetails().gemm.fewColumnsGroups).toBe(perThread);
        // within one column block the threshold decides: the few-columns order once every thread gets `perThread`
        // groups; for wider op(B) the path is the default's whatever the threshold
        const path = addon.gemmPath(m, n, k, true, false);
        if (withinBlock) expect(path).toBe(groups >= 2 * perThread ? 'few-columns' : 'block');
        else expect(path).toBe(defaultPath);
        // float32 accumulation over k unit-variance products: error grows like sqrt(k) * eps32
        expect(dyTx('cpu', m, k, n)).toBeAllClose(want, { atol: 8e-6 * Math.sqrt(k), rtol: 1e-4 });
      }
    });
  });

  it('rejects a threshold outside 0-64 and an unknown instruction set', () => {
    const isa = usable[usable.length - 1];
    expect(addon.setIsa(isa)).toBe(true);
    addon.setGemmPaths(isa, 3);
    expect(() => addon.setGemmPaths(isa, 65)).toThrow(/fewColumnsGroups must be 0 \(the default\) to 64/);
    expect(() => addon.setGemmPaths('sse' as 'avx2', 2)).toThrow(/isa must be avx512, avx2 or generic/);
    expect(addon.cpuDetails().gemm.fewColumnsGroups).toBe(3); // a rejected call changes nothing
    addon.setGemmPaths(isa, 0);
    expect(addon.cpuDetails().gemm.fewColumnsGroups).toBe(4);
  });

  describe('the machine cache', () => {
    let dir = '';
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'lwz-tune-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    const tuning = (groups: unknown) => ({ fewColumnsGroups: groups, measured: [], shapes: [], rounds: 1 }) as unknown as GemmTuning;

    it('applies a cached tuning at start, and not with LWZ_GEMM_TUNE=off or without one', () => {
      const env = { LWZ_CACHE_DIR: dir };
      const warn = jest.fn();
      expect(applyGemmTuning(addon, warn, env)).toEqual({ tuning: null, source: 'none' });
      expect(addon.cpuDetails().gemm.fewColumnsGroups).toBe(4);
      writeMachineCache('gemm-tune', tuneKey(addon), tuning(2), env);
      expect(applyGemmTuning(addon, warn, { ...env, LWZ_GEMM_TUNE: 'off' }).source).toBe('off');
      expect(addon.cpuDetails().gemm.fewColumnsGroups).toBe(4);
      expect(applyGemmTuning(addon, warn, env).source).toBe('cache');
      expect(addon.cpuDetails().gemm.fewColumnsGroups).toBe(2);
      // another thread count is another machine setting: not applied
      addon.setGemmPaths(addon.info().isa as 'avx2', 0);
      addon.setThreads(threads0 === 1 ? 2 : 1);
      expect(applyGemmTuning(addon, warn, env).source).toBe('none');
      expect(addon.cpuDetails().gemm.fewColumnsGroups).toBe(4);
      expect(warn).not.toHaveBeenCalled();
    });

    it('warns, naming the field and the fix, and keeps the default when the cached value is invalid', () => {
      const env = { LWZ_CACHE_DIR: dir };
      const warn = jest.fn();
      writeMachineCache('gemm-tune', tuneKey(addon), tuning(0), env);
      expect(applyGemmTuning(addon, warn, env)).toEqual({ tuning: null, source: 'none' });
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0][0]).toMatch(
        /ignoring the cached GEMM tuning \(field fewColumnsGroups must be .*got 0\); rerun `npx nx run kernels:tune`/,
      );
      expect(addon.cpuDetails().gemm.fewColumnsGroups).toBe(4);
    });

    it('an addon built before the tuning gets a warning naming the rebuild, not a crash at start', () => {
      const env = { LWZ_CACHE_DIR: dir };
      const warn = jest.fn();
      writeMachineCache('gemm-tune', tuneKey(addon), tuning(2), env);
      const old = { info: () => addon.info(), cpuDetails: () => addon.cpuDetails() } as unknown as typeof addon;
      expect(applyGemmTuning(old, warn, env)).toEqual({ tuning: null, source: 'none' });
      expect(warn.mock.calls[0][0]).toMatch(/predates the GEMM tuning .*rebuild it with `npx nx run kernels:build-native`/);
      expect(addon.cpuDetails().gemm.fewColumnsGroups).toBe(4);
    });

    it('measures every candidate, restores the default while measuring, caches the result and applies it', () => {
      const env = { LWZ_CACHE_DIR: dir };
      const measured = measureGemmTuning(addon, 1, 1);
      expect(measured.measured.map((c) => c.fewColumnsGroups)).toEqual([...FEW_COLUMNS_CANDIDATES]);
      for (const c of measured.measured) expect(c.ms).toBeGreaterThan(0);
      // 1 a thread: every shape on the few-columns path; the default: none (the shapes have 1-3 groups a thread)
      expect(measured.measured[3].paths?.every((p) => p === 'few-columns')).toBe(true);
      expect(measured.measured[0].paths?.every((p) => p === 'block')).toBe(true);
      expect(measured.fewColumnsGroups).toBe(chooseCandidate(measured.measured));
      expect(addon.cpuDetails().gemm.fewColumnsGroups).toBe(4);
      const { tuning: tuned, file } = tuneGemm(addon, 1, env);
      const written = file ?? '';
      expect(written.startsWith(dir)).toBe(true);
      expect(readdirSync(dir)).toEqual([written.slice(dir.length + 1)]); // written by rename: no temp file left
      expect(JSON.parse(readFileSync(written, 'utf8')).value.fewColumnsGroups).toBe(tuned.fewColumnsGroups);
      expect(tuned.measured.map((c) => c.paths?.length)).toEqual(FEW_COLUMNS_CANDIDATES.map(() => tuned.shapes.length));
      expect(readMachineCache<GemmTuning>('gemm-tune', tuneKey(addon), env)?.shapes).toEqual(tuned.shapes);
      expect(addon.cpuDetails().gemm.fewColumnsGroups).toBe(tuned.fewColumnsGroups);
    });
  });
}
