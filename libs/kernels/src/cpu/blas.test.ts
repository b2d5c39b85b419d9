// The optional system BLAS: a missing LWZ_BLAS library falls back to our kernels with one clear warning;
// with a BLAS installed (OpenBLAS, BLIS or MKL on this machine), matmuls routed to it equal ref; the
// calibration plan picks the BLAS only beyond the margin; the per-machine cache round-trips.
import { jest } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@lwz/core';
import { tensor, type Device } from '../index';
import { getKernel } from '../registry';
import { BLAS_MARGIN, blasPlan, calibrateBlas, setupBlas, type CalibrationPoint } from './blas';
import { cpuFingerprint, readMachineCache, writeMachineCache } from './machine-cache';
import { loadAddon } from './native';

const load = loadAddon();

type Shape = [m: number, k: number, n: number, transA: boolean, transB: boolean];
const shapes: Shape[] = [
  [130, 257, 190, false, false],
  [64, 300, 128, false, true],
  [96, 200, 150, true, false],
  [1, 700, 333, false, true], // GEMV forms go to cblas_sgemv
  [1, 700, 333, false, false],
];

function matmul(device: Device, [m, k, n, ta, tb]: Shape): Float32Array {
  const rng = new Rng(m + k + n);
  const a = tensor(
    Float32Array.from({ length: m * k }, () => rng.normal()),
    ta ? [k, m] : [m, k],
    { device },
  );
  const b = tensor(
    Float32Array.from({ length: k * n }, () => rng.normal()),
    tb ? [n, k] : [k, n],
    { device },
  );
  const out = tensor(
    Float32Array.from({ length: m * n }, () => rng.normal()),
    [m, n],
    { device },
  );
  getKernel('matmulForward', device)({ a, b, out, transA: ta, transB: tb, alpha: 0.75, accumulate: true });
  return out.f32;
}

describe('system BLAS plan and cache (pure)', () => {
  const point = (oursMs: number, blasMs: number): CalibrationPoint => ({ m: 8, n: 16, k: 32, transA: false, transB: true, oursMs, blasMs });

  it('routes a shape to the BLAS only when it beats ours by the margin', () => {
    const plan = blasPlan([point(10, 10 / BLAS_MARGIN + 0.01), point(10, 10 / BLAS_MARGIN - 0.01), point(1, 2)]);
    expect(Array.from(plan)).toEqual([8, 16, 32, 0, 1, 0, 8, 16, 32, 0, 1, 1, 8, 16, 32, 0, 1, 0]);
  });

  it('calibrates each shape on the fastest of several timings a side, so one slow moment does not route it', () => {
    // ours is slowed by load in each shape's first timing only; the BLAS is 20 % slower than ours when quiet
    const fake = (rounds: number) => {
      let call = 0;
      const blasTime = () => (call++ % rounds === 0 ? { oursMs: 4.1, blasMs: 2.4 } : { oursMs: 2, blasMs: 2.4 });
      return { blasTime, calls: () => call };
    };
    const three = fake(3);
    const points = calibrateBlas(three, 5, 3);
    expect(three.calls()).toBe(3 * points.length);
    for (const p of points) expect([p.oursMs, p.blasMs]).toEqual([2, 2.4]);
    const routes = (ps: CalibrationPoint[]) => Array.from(blasPlan(ps)).filter((_, i) => i % 6 === 5);
    expect(routes(points)).toEqual(points.map(() => 0));
    // with one timing a shape the load spike alone would have routed every shape to the BLAS
    expect(routes(calibrateBlas(fake(1), 5, 1))).toEqual(points.map(() => 1));
  });

  it('keeps cached values per key and ignores another key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lwz-machine-cache-'));
    try {
      const env = { LWZ_CACHE_DIR: dir };
      expect(readMachineCache('blas', 'k1', env)).toBeNull();
      expect(writeMachineCache('blas', 'k1', [point(1, 2)], env)).toContain(dir);
      expect(readMachineCache('blas', 'k1', env)).toEqual([point(1, 2)]);
      expect(readMachineCache('blas', 'k2', env)).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const maybe = 'addon' in load ? describe : describe.skip;

maybe('system BLAS through the addon', () => {
  const addon = 'addon' in load ? load.addon : (undefined as never);
  const restore = () => setupBlas(addon, () => undefined, process.env);
  afterAll(restore);

  it('LWZ_BLAS naming a missing library warns once and leaves our kernels in charge', () => {
    const warn = jest.fn<(msg: string) => void>();
    const setup = setupBlas(addon, warn, { ...process.env, LWZ_BLAS: '/nonexistent/libblas-missing.so' });
    expect(setup).toEqual({ library: null, routed: 0, points: [], source: 'none' });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatch(/LWZ_BLAS=\/nonexistent\/libblas-missing\.so could not be loaded \(.*\); using our own kernels/);
    expect(matmul('cpu', shapes[0])).toBeAllClose(matmul('ref', shapes[0]), { atol: 1e-3, rtol: 1e-4 });
  });

  it('LWZ_BLAS=own loads nothing', () => {
    const warn = jest.fn<(msg: string) => void>();
    expect(setupBlas(addon, warn, { ...process.env, LWZ_BLAS: 'own' }).library).toBeNull();
    expect(warn).not.toHaveBeenCalled();
  });

  const installed = addon?.blasLoad('auto').path;
  (installed ? it : it.skip)(`matmuls routed to the installed BLAS (${installed || 'none'}) equal ref`, () => {
    const ours = shapes.map((shape) => matmul('cpu', shape));
    expect(addon.blasLoad('auto').path).toBe(installed);
    addon.blasSetPlan(blasPlan(shapes.map(([m, k, n, transA, transB]) => ({ m, n, k, transA, transB, oursMs: 2, blasMs: 1 }))));
    const routed = shapes.map((shape) => matmul('cpu', shape));
    routed.forEach((got, i) => expect(got).toBeAllClose(matmul('ref', shapes[i]), { atol: 1e-3, rtol: 1e-4 }));
    // the BLAS sums in another order than our kernels: its bits differ somewhere, so it really ran
    expect(routed.some((got, i) => got.some((v, j) => v !== ours[i][j]))).toBe(true);
    const t = addon.blasTime(64, 64, 64, false, true, 1);
    expect(t.oursMs).toBeGreaterThan(0);
    expect(t.blasMs).toBeGreaterThan(0);
    expect(cpuFingerprint(addon.cpuDetails())).toContain(addon.cpuDetails().vendor);
  });
});
