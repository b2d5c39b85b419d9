// The conformance harness (test-only): runs one case twice, on `ref` and on another backend, from the same
// seed, and compares every output under the tolerance table below. A backend lacking one of a case's
// kernels shows the case as skipped, or failed when the device is required (REQUIRE_NATIVE / REQUIRE_CUDA).
import { Rng } from '@lwz/core';
import { deviceStatus } from '../backend';
import { DEVICES, hasKernel, requiredDevices, tensor, type Device, type KernelName, type Tensor } from '../index';

/**
 * Tolerances per op family, |got - ref| <= atol + rtol |ref|. f32: backends computing in float32 against
 * ref's float64 accumulation. bf16: backends that compute in bfloat16 (cuda), 8 mantissa bits.
 */
export const TOLERANCES = {
  exact: { f32: { atol: 0, rtol: 0 }, bf16: { atol: 0, rtol: 0 } },
  elementwise: { f32: { atol: 1e-6, rtol: 1e-6 }, bf16: { atol: 1e-2, rtol: 1e-2 } },
  matmul: { f32: { atol: 1e-5, rtol: 1e-4 }, bf16: { atol: 5e-2, rtol: 2e-2 } },
  reduce: { f32: { atol: 1e-5, rtol: 1e-5 }, bf16: { atol: 5e-2, rtol: 2e-2 } },
  norm: { f32: { atol: 1e-5, rtol: 1e-4 }, bf16: { atol: 3e-2, rtol: 2e-2 } },
  rope: { f32: { atol: 1e-5, rtol: 1e-4 }, bf16: { atol: 2e-2, rtol: 2e-2 } },
  // angles near 16k rad: float32 angle arithmetic (as Hugging Face does it) is off by up to ~1e-3 rad
  ropeLongPositions: { f32: { atol: 2e-3, rtol: 0 }, bf16: { atol: 3e-2, rtol: 2e-2 } },
  exp: { f32: { atol: 1e-6, rtol: 1e-5 }, bf16: { atol: 1e-2, rtol: 2e-2 } },
  logprobs: { f32: { atol: 2e-5, rtol: 1e-5 }, bf16: { atol: 5e-2, rtol: 2e-2 } },
  attention: { f32: { atol: 2e-5, rtol: 1e-4 }, bf16: { atol: 3e-2, rtol: 3e-2 } },
  attentionBackward: { f32: { atol: 1e-4, rtol: 1e-3 }, bf16: { atol: 5e-2, rtol: 5e-2 } },
  adamw: { f32: { atol: 1e-6, rtol: 1e-5 }, bf16: { atol: 1e-6, rtol: 1e-5 } },
} as const;

export type ToleranceKey = keyof typeof TOLERANCES;

export interface ConformanceCase {
  name: string;
  /** every kernel the case dispatches; the case is skipped on a backend lacking one */
  kernels: KernelName[];
  tol: ToleranceKey;
  /** builds inputs from rng on `device`, runs the op(s), returns host copies of every output */
  run: (device: Device, rng: Rng) => ArrayLike<number>[];
}

/** Column of the tolerance table for a device; LWZ_CONFORMANCE_DTYPE overrides. */
function precision(device: Device): 'f32' | 'bf16' {
  const env = process.env.LWZ_CONFORMANCE_DTYPE;
  if (env === 'f32' || env === 'bf16') return env;
  return device === 'cuda' ? 'bf16' : 'f32';
}

export function randn(rng: Rng, shape: number[], device: Device, scale = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * scale;
  return tensor(a, shape, { device });
}

export function ints(values: number[], shape: number[], device: Device): Tensor {
  return tensor(Int32Array.from(values), shape, { device, dtype: 'i32' });
}

export function host(...ts: Tensor[]): ArrayLike<number>[] {
  return ts.map((t) => Float64Array.from(t.toHost()));
}

/**
 * describe.each over every non-ref backend. One that cannot start shows as a skipped test carrying its reason
 * (a GPU-less machine skips cuda visibly), or as a failing test when it is required (REQUIRE_NATIVE=1 for
 * cpu, REQUIRE_CUDA=1 for cuda).
 */
export function describeConformance(title: string, cases: ConformanceCase[], seed: number): void {
  const statuses = DEVICES.filter((d) => d !== 'ref').map(deviceStatus);
  describe.each(statuses.map((s) => s.device))(`conformance: ${title}: %s vs ref`, (device) => {
    const status = statuses.find((s) => s.device === device);
    if (!status?.available) {
      const reason = `${device} unavailable: ${status?.detail ?? 'not registered'}`;
      if (requiredDevices().includes(device)) {
        it(`runs on ${device} (required here)`, () => {
          throw new Error(reason);
        });
      } else {
        it.skip(reason, () => undefined);
      }
      return;
    }
    const dev = device as Device;
    for (const c of cases) {
      const missing = c.kernels.filter((k) => !hasKernel(k, dev));
      if (missing.length) {
        const why = `${c.name} (no ${dev} kernel: ${missing.join(', ')})`;
        if (requiredDevices().includes(dev)) {
          it(why, () => {
            throw new Error(`${dev} is required here but lacks ${missing.join(', ')}`);
          });
        } else it.skip(why, () => undefined);
        continue;
      }
      it(c.name, () => {
        const want = c.run('ref', new Rng(seed));
        const got = c.run(dev, new Rng(seed));
        expect(got.length).toBe(want.length);
        const tol = TOLERANCES[c.tol][precision(dev)];
        got.forEach((g, i) => expect(g).toBeAllClose(want[i], tol));
      });
    }
  });
}
