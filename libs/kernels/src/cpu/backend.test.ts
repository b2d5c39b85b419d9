// The cpu backend's start path: a missing addon leaves the library importable with cpu reported
// unavailable (one warning, the reason names the fix); an addon lacking a kernel's entry point is an error
// naming the kernel; a loaded addon describes its ISA and threads and registers every cpu kernel; its large
// allocations start on a cache line.
import { jest } from '@jest/globals';
import { backendStatus, tryBackend, zeros } from '../index';
import { cpuBackendFactory } from './index';
import { cpuKernels } from './kernels';
import { loadAddon, type NativeAddon } from './native';

describe('cpu backend loading', () => {
  it('reports a missing addon as unavailable with the build command, warning once per start', () => {
    const warn = jest.fn<(msg: string) => void>();
    const result = cpuBackendFactory(() => loadAddon('/nonexistent/lwz_cpu.node'), warn)();
    expect(result).toEqual({ unavailable: expect.stringContaining('npx nx run kernels:build-native') });
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('loads nothing until the backend starts', () => {
    const load = jest.fn(() => loadAddon('/nonexistent/lwz_cpu.node'));
    const factory = cpuBackendFactory(load, () => undefined);
    expect(load).not.toHaveBeenCalled();
    factory();
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('refuses an addon that lacks a kernel entry point, naming the kernel and the fix', () => {
    const real = loadAddon();
    // a stand-in addon with every entry point but one (its functions are never called)
    const names = cpuKernels({} as NativeAddon).map(([name]) => name);
    const partial = Object.fromEntries(names.filter((n) => n !== 'fillForward').map((n) => [n, () => undefined]));
    const fake = { ...partial, info: () => ({ isa: 'generic', detectedIsa: 'generic', threads: 1 }) } as unknown as NativeAddon;
    const register = jest.fn();
    const start = cpuBackendFactory(
      () => ({ addon: fake, path: '/fake/lwz_cpu.node' }),
      () => undefined,
      register,
    );
    expect(start).toThrow(/\/fake\/lwz_cpu.node lacks the cpu kernels fillForward .*npx nx run kernels:build-native/);
    expect(register).not.toHaveBeenCalled();
    if ('addon' in real) {
      const ok = cpuBackendFactory(
        () => real,
        () => undefined,
        register,
      )();
      expect(ok).toHaveProperty('device', 'cpu');
      expect(register.mock.calls[0][0]).toHaveLength(names.length);
    }
  });

  it('lists cpu in the backend status either way', () => {
    const cpu = backendStatus().find((s) => s.device === 'cpu');
    expect(cpu).toBeDefined();
    const load = loadAddon();
    if ('addon' in load) {
      const { isa, threads } = load.addon.info();
      expect(cpu).toEqual({ device: 'cpu', available: true, detail: expect.stringContaining(`${isa}, ${threads} thread`) });
      expect(tryBackend('cpu')).not.toBeNull();
    } else {
      expect(cpu?.available).toBe(false);
    }
  });

  it('allocates large host tensors 64-byte aligned and zero-filled, small ones plainly', () => {
    const load = loadAddon();
    if (!('addon' in load)) return;
    const addon = load.addon;
    const start = (array: Float32Array | Int32Array) => (addon.bufferMisalign(array.buffer as ArrayBuffer) + array.byteOffset) % 64;
    // a plain large array starts off a line on V8 (what the alignment is for); the check below must not pass by luck
    const plainMisses = [1024, 5000, 65536].some((n) => start(new Float32Array(n)) !== 0);
    expect(plainMisses).toBe(true);
    for (const [shape, dtype] of [
      [[1024], 'f32'],
      [[3, 1001], 'f32'],
      [[64, 4096], 'i32'],
    ] as const) {
      const t = zeros(shape, { device: 'cpu', dtype });
      const host = t.toHost();
      expect(start(host)).toBe(0);
      expect(host.length).toBe(shape.reduce((a, b) => a * b, 1));
      expect(host.every((v) => v === 0)).toBe(true);
      t.dispose();
    }
    const small = zeros([100], { device: 'cpu' });
    expect(small.toHost().byteOffset).toBe(0);
    small.dispose();
  });
});
