// The cpu backend's load path: a missing addon leaves the library importable with cpu reported
// unavailable (one warning, the reason names the fix), and a loaded addon describes its ISA and threads.
import { jest } from '@jest/globals';
import { backendStatus } from '../index';
import { cpuBackendFactory } from './index';
import { loadAddon } from './native';

describe('cpu backend loading', () => {
  it('reports a missing addon as unavailable with the build command, warning once per start', () => {
    const load = loadAddon('/nonexistent/lwz_cpu.node');
    expect('error' in load).toBe(true);
    const warn = jest.fn<(msg: string) => void>();
    const result = cpuBackendFactory(load, warn)();
    expect(result).toEqual({ unavailable: expect.stringContaining('npx nx run kernels:build-native') });
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('lists cpu in the backend status either way', () => {
    const cpu = backendStatus().find((s) => s.device === 'cpu');
    expect(cpu).toBeDefined();
    const load = loadAddon();
    if ('addon' in load) {
      const { isa, threads } = load.addon.info();
      expect(cpu).toEqual({ device: 'cpu', available: true, detail: expect.stringContaining(`${isa}, ${threads} thread`) });
    } else {
      expect(cpu?.available).toBe(false);
    }
  });
});
