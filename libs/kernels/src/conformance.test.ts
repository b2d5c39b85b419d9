// Conformance: every available backend against `ref` on random shapes. A backend that cannot start is
// listed as skipped; with REQUIRE_CUDA=1 a missing cuda backend fails instead.
import { Rng } from '@lwz/core';
import { availableDevices, backendStatus, matmul, tensor, type Device } from './index';

const others = availableDevices().filter((d) => d !== 'ref');

function randn(rng: Rng, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

describe('backends', () => {
  it('reports every backend, available or not', () => {
    const status = backendStatus();
    expect(status.map((s) => s.device)).toEqual(['ref', 'cpu', 'cuda']);
    expect(status[0].available).toBe(true);
    for (const s of status.filter((x) => !x.available)) console.warn(`backend ${s.device} skipped: ${s.detail}`);
    if (process.env.REQUIRE_CUDA === '1') expect(availableDevices()).toContain('cuda');
  });
});

describe.each(others.length ? others : ['(none)'])('conformance: %s vs ref', (device) => {
  if (device === '(none)') {
    it.skip('no non-ref backend available', () => undefined);
    return;
  }
  const dev = device as Device;
  const rng = new Rng(1234);
  it.each([
    [1, 1, 1, false, false],
    [7, 13, 5, false, false],
    [1, 64, 33, false, true],
    [65, 31, 17, true, false],
    [33, 70, 129, true, true],
  ])('matmul %i x %i x %i (transA %s, transB %s)', (m, k, n, transA, transB) => {
    const aShape = transA ? [k, m] : [m, k];
    const bShape = transB ? [n, k] : [k, n];
    const A = randn(rng, m * k);
    const B = randn(rng, k * n);
    const want = matmul(tensor(A, aShape, { device: 'ref' }), tensor(B, bShape, { device: 'ref' }), { transA, transB });
    const got = matmul(tensor(A.slice(), aShape, { device: dev }), tensor(B.slice(), bShape, { device: dev }), { transA, transB });
    expect(got.toHost()).toBeAllClose(want.toHost(), { atol: 1e-5, rtol: 1e-4 });
  });
});
