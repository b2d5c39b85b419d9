// The cuda backend's load path on any machine: where nvcc exists the CUDA sources must have compiled into an
// addon that loads without a GPU (CI's compile check); the backend is listed as available or as unavailable
// with the reason (no addon / driver / device), quietly; LWZ_DEVICE=cuda repeats the reason (an invalid LWZ_DEVICE
// lists the devices), as user errors; REQUIRE_CUDA=1 (the GPU check) turns "unavailable" into a failure.
import { spawnSync } from 'node:child_process';
import { jest } from '@jest/globals';
import { UserError } from '@lwz/core';
import { backendStatus, defaultDevice } from '../index';
import { cudaBackendFactory } from './device';
import { CUDA_ENTRY_POINTS, defaultCudaAddonPath, loadCudaAddon } from './native';

const hasNvcc = [process.env.NVCC, 'nvcc', '/usr/local/cuda/bin/nvcc'].some((c) => c && spawnSync(c, ['--version']).status === 0);
const cuda = () => backendStatus().find((s) => s.device === 'cuda');

describe('cuda backend loading', () => {
  it('reports a missing addon as unavailable with the build command, without a warning', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const result = cudaBackendFactory(() => loadCudaAddon('/nonexistent/build-cuda/lwz_cuda.node'))();
    expect(result).toEqual({ unavailable: expect.stringContaining('npx nx run kernels:build-cuda') });
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
  });

  (hasNvcc ? it : it.skip)('compiled the CUDA sources into an addon that loads without a GPU (nvcc is present)', () => {
    const load = loadCudaAddon(defaultCudaAddonPath);
    expect('error' in load ? load.error : 'loaded').toBe('loaded');
    if ('addon' in load) for (const name of CUDA_ENTRY_POINTS) expect(typeof load.addon[name]).toBe('function');
  });

  it('lists cuda as available, or unavailable with the reason', () => {
    const status = cuda();
    if (process.env.REQUIRE_CUDA === '1') expect(status).toMatchObject({ available: true });
    if (status?.available) {
      expect(status.detail).toMatch(/^cuda: .*sm_\d+.*GEMM: /);
    } else {
      expect(status?.detail).toMatch(/addon|driver|device|compute capability|kernels cannot run/);
    }
  });

  it('LWZ_DEVICE naming no device is a user error listing the devices', () => {
    const saved = process.env.LWZ_DEVICE;
    process.env.LWZ_DEVICE = 'gpu';
    try {
      expect(() => defaultDevice()).toThrow(UserError);
      expect(() => defaultDevice()).toThrow(
        'LWZ_DEVICE=gpu is not a device: set it to one of ref, cpu, cuda, or unset it (then cpu when the native addon loads, else ref)',
      );
    } finally {
      if (saved === undefined) delete process.env.LWZ_DEVICE;
      else process.env.LWZ_DEVICE = saved;
    }
  });

  it('LWZ_DEVICE=cuda names the reason when cuda cannot start, as a user error', () => {
    const status = cuda();
    const saved = process.env.LWZ_DEVICE;
    process.env.LWZ_DEVICE = 'cuda';
    try {
      if (status?.available) expect(defaultDevice()).toBe('cuda');
      else {
        expect(() => defaultDevice()).toThrow(UserError);
        expect(() => defaultDevice()).toThrow(
          `LWZ_DEVICE=cuda, but backend cuda is unavailable: ${status?.detail}; set LWZ_DEVICE to another`,
        );
      }
    } finally {
      if (saved === undefined) delete process.env.LWZ_DEVICE;
      else process.env.LWZ_DEVICE = saved;
    }
  });
});
