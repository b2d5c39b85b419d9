// REQUIRE_NATIVE=1 and lazy loading, on a fresh module graph whose addon loader is replaced by one that
// fails: importing @lwz/kernels loads nothing; without REQUIRE_NATIVE the cpu backend is reported
// unavailable and ref carries on; with REQUIRE_NATIVE=1 every way of asking for devices throws instead.
import { jest } from '@jest/globals';

const loads = jest.fn(() => ({ error: 'stand-in: no addon here', path: '/nowhere/lwz_cpu.node' }));
jest.unstable_mockModule('./native', () => ({ loadAddon: loads, defaultAddonPath: '/nowhere/lwz_cpu.node' }));
const kernels = await import('../index');

// the suite sets REQUIRE_NATIVE itself (CI runs everything with REQUIRE_NATIVE=1)
const outside = process.env.REQUIRE_NATIVE;
beforeEach(() => {
  delete process.env.REQUIRE_NATIVE;
});
afterAll(() => {
  if (outside === undefined) delete process.env.REQUIRE_NATIVE;
  else process.env.REQUIRE_NATIVE = outside;
});

describe('a cpu backend that cannot start', () => {
  it('is not loaded at import, only on first use, and only once', () => {
    expect(loads).not.toHaveBeenCalled();
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    expect(kernels.tryBackend('cpu')).toBeNull();
    expect(kernels.availableDevices()).not.toContain('cpu');
    expect(kernels.defaultDevice()).toBe('ref');
    expect(loads).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledTimes(1);
    warn.mockRestore();
  });

  it('fails every device query under REQUIRE_NATIVE=1 instead of skipping cpu', () => {
    process.env.REQUIRE_NATIVE = '1';
    expect(kernels.requiredDevices()).toEqual(['cpu']);
    const msg = /REQUIRE_NATIVE=1 but the cpu backend is unavailable: stand-in: no addon here/;
    expect(() => kernels.availableDevices()).toThrow(msg);
    expect(() => kernels.tryBackend('cpu')).toThrow(msg);
    expect(() => kernels.hasKernel('matmulForward', 'cpu')).toThrow(msg);
    expect(() => kernels.defaultDevice()).toThrow(msg);
    expect(() => kernels.zeros([2], { device: 'cpu' })).toThrow(msg);
    expect(kernels.tryBackend('ref')).not.toBeNull();
  });
});
