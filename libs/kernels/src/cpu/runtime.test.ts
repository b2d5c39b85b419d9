// The native runtime's machine-dependent choices: LWZ_ISA, LWZ_CACHES and LWZ_STREAM_BYTES at load (child
// processes, each checked against a JS matmul), the cache-derived GEMM blocking and its overrides (forced tiny blocks on odd
// shapes, every ISA, against ref), and the STREAM probe's copy, triad and read.
import { execFileSync } from 'node:child_process';
import { Rng } from '@lwz/core';
import { tensor, type Device } from '../index';
import { getKernel } from '../registry';
import { defaultAddonPath, loadAddon } from './native';

const load = loadAddon();
const isas = ['avx512', 'avx2', 'generic'] as const;

/** Load the addon in a fresh node with `env`, run a 37x53x29 matmul (transB) and report info and max error. */
function child(env: Record<string, string>): {
  info: { isa: string; isaNote: string; streamBytes: number; spinMicros: number; threads: number };
  gemm: { kc: number; nc: number; mc: number };
  caches: Record<'l1d' | 'l2' | 'l3', { bytes: number; ways: number; sharing: number }> & { source: string };
  err: number;
} {
  const script = `
    const a = require(${JSON.stringify(defaultAddonPath)});
    const m = 37, n = 29, k = 53, A = new Float32Array(m * k), B = new Float32Array(n * k), C = new Float32Array(m * n);
    for (let i = 0; i < A.length; i++) A[i] = Math.sin(i);
    for (let i = 0; i < B.length; i++) B[i] = Math.cos(i);
    a.matmulForward(A, B, C, 1, m, n, k, false, false, true, 1, false);
    let err = 0;
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      let s = 0; for (let p = 0; p < k; p++) s += A[i * k + p] * B[j * k + p];
      err = Math.max(err, Math.abs(s - C[i * n + j]));
    }
    const cpu = a.cpuDetails();
    console.log(JSON.stringify({ info: a.info(), gemm: cpu.gemm, caches: cpu.caches, err }));`;
  const out = execFileSync(process.execPath, ['-e', script], { env: { ...process.env, ...env }, encoding: 'utf8' });
  return JSON.parse(out.trim());
}

function randn(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal());
}

if (!('addon' in load)) {
  it.skip(`native runtime: addon not built`, () => undefined);
} else {
  const addon = load.addon;
  const detected = addon.info().detectedIsa as (typeof isas)[number];
  const usable = isas.slice(isas.indexOf(detected));

  describe('LWZ_ISA and LWZ_CACHES at load', () => {
    it.each(usable)('LWZ_ISA=%s runs that path and matches a JS matmul', (isa) => {
      const r = child({ LWZ_ISA: isa });
      expect(r.info.isa).toBe(isa);
      expect(r.info.isaNote).toBe('');
      expect(r.err).toBeLessThan(1e-4);
    });

    it('an unknown LWZ_ISA keeps the detected path and says why', () => {
      const r = child({ LWZ_ISA: 'sse9' });
      expect(r.info.isa).toBe(detected);
      expect(r.info.isaNote).toMatch(/LWZ_ISA=sse9 is not one of avx512, avx2, generic; using /);
    });

    it("LWZ_SPIN_US sets the pool's spin window in microseconds; anything but 0-100000 keeps 400 and says why", () => {
      expect(child({ LWZ_SPIN_US: '' }).info.spinMicros).toBe(400); // unset (empty), whatever this shell exports
      expect(child({ LWZ_SPIN_US: '0' }).info.spinMicros).toBe(0);
      const long = child({ LWZ_SPIN_US: '2500' });
      expect(long.info.spinMicros).toBe(2500);
      expect(long.err).toBeLessThan(1e-4);
      for (const bad of ['-5', '1.5', '200000', '40ms']) {
        const r = child({ LWZ_SPIN_US: bad });
        expect(r.info.spinMicros).toBe(400);
        expect(r.info.isaNote).toBe(`LWZ_SPIN_US=${bad} is not a whole number of microseconds in 0-100000; using 400`);
        expect(r.err).toBeLessThan(1e-4);
      }
    });

    it('LWZ_THREADS sets the thread count; anything but a whole number in 1-1024 keeps the default and says why', () => {
      const fallback = child({ LWZ_THREADS: '' }).info; // unset (empty): the CPUs this process may run on
      expect(fallback.isaNote).toBe('');
      expect(child({ LWZ_THREADS: '1' }).info.threads).toBe(1);
      for (const bad of ['0', '-1', 'abc', '2.5', '10000']) {
        const r = child({ LWZ_THREADS: bad });
        expect(r.info.threads).toBe(fallback.threads);
        expect(r.info.isaNote).toBe(`LWZ_THREADS=${bad} is not a whole number of threads in 1-1024; using ${fallback.threads}`);
        expect(r.err).toBeLessThan(1e-4);
      }
    });

    it('LWZ_STREAM_BYTES sets the streaming-store threshold (K/M/G units); a non-size keeps the L3 default and says why', () => {
      const l3 = child({ LWZ_CACHES: 'l1d=32K/8,l2=1M/16,l3=48M/16' }).info;
      expect(l3.streamBytes).toBe(48 << 20);
      expect(child({ LWZ_CACHES: 'l1d=32K/8,l2=1M/16,l3=48M/16', LWZ_STREAM_BYTES: '8M' }).info.streamBytes).toBe(8 << 20);
      expect(child({ LWZ_STREAM_BYTES: '0' }).info.streamBytes).toBe(0);
      expect(child({ LWZ_STREAM_BYTES: '3G' }).info.streamBytes).toBe(3 * 2 ** 30);
      const bad = child({ LWZ_CACHES: 'l1d=32K/8,l2=1M/16,l3=48M/16', LWZ_STREAM_BYTES: '12x', LWZ_ISA: 'sse9' });
      expect(bad.info.streamBytes).toBe(48 << 20);
      expect(bad.info.isaNote).toMatch(
        /LWZ_ISA=sse9 is not one of .*; LWZ_STREAM_BYTES=12x is not a size such as 32M; using the last-level cache size/,
      );
      expect(bad.err).toBeLessThan(1e-4);
    });

    it('derives the blocking from the caches: a bigger L1 deepens kc, a bigger L2 widens nc', () => {
      const small = child({ LWZ_ISA: 'avx2', LWZ_CACHES: 'l1d=32K/8,l2=1M/16,l3=32M/16' }).gemm;
      const bigL1 = child({ LWZ_ISA: 'avx2', LWZ_CACHES: 'l1d=48K/12,l2=1M/16,l3=32M/16' }).gemm;
      const bigL2 = child({ LWZ_ISA: 'avx2', LWZ_CACHES: 'l1d=32K/8,l2=2M/16,l3=32M/16' }).gemm;
      // the resident 6-row A panel fills half of a 32 KiB L1: kc = 16384 / (6 * 4) = 682, down to a multiple of 8
      expect(small.kc).toBe(680);
      expect(bigL1.kc).toBeGreaterThan(small.kc);
      expect(bigL2.kc).toBe(small.kc);
      expect(bigL2.nc).toBeGreaterThan(small.nc);
      expect(small.nc % 16).toBe(0);
      expect(small.mc % 6).toBe(0);
    });
  });

  describe("AMD's legacy cache leaves (the fallback where leaf 0x8000001D and sysfs are empty, as in some VMs)", () => {
    const amd = /AuthenticAMD|HygonGenuine/.test(addon.cpuDetails().vendor);
    (amd ? it : it.skip)('LWZ_CACHES=cpuid-legacy reads them: sizes and ways that agree with the other sources', () => {
      const legacy = child({ LWZ_CACHES: 'cpuid-legacy' });
      const usual = child({});
      expect(legacy.caches.source).toBe('cpuid-legacy');
      expect(legacy.err).toBeLessThan(1e-4);
      // every AMD x86-64 part has an L1d of 16-128 KiB and an L2 at least as large, with a way count
      expect(legacy.caches.l1d.bytes).toBeGreaterThanOrEqual(16 << 10);
      expect(legacy.caches.l1d.bytes).toBeLessThanOrEqual(128 << 10);
      expect(legacy.caches.l2.bytes).toBeGreaterThanOrEqual(legacy.caches.l1d.bytes);
      expect(legacy.caches.l2.ways).toBeGreaterThan(0);
      if (usual.caches.source === 'cpuid' || usual.caches.source === 'sysfs') {
        // an independent source on this machine: the per-core L1d and L2 sizes must agree
        expect(legacy.caches.l1d.bytes).toBe(usual.caches.l1d.bytes);
        expect(legacy.caches.l2.bytes).toBe(usual.caches.l2.bytes);
      } else {
        expect(usual.caches.source).toBe('cpuid-legacy');
        expect(usual.caches.l1d).toEqual(legacy.caches.l1d);
      }
      // the blocking follows the caches it was given: kc from half the L1d over the 12- or 6-row A panel
      const mr = legacy.info.isa === 'avx512' ? 12 : legacy.info.isa === 'avx2' ? 6 : 4;
      expect(legacy.gemm.kc).toBe(Math.min(1024, Math.max(64, Math.floor(legacy.caches.l1d.bytes / 2 / (mr * 4) / 8) * 8)));
    });
  });

  describe('GEMM blocking', () => {
    afterAll(() => {
      for (const isa of usable) addon.setGemmBlocking(isa, 0, 0, 0, 'set');
      addon.setIsa(detected);
      addon.setThreads(Number(process.env.LWZ_THREADS) || addon.info().threads);
    });

    it('reports the detected caches and a blocking consistent with the register tile', () => {
      const cpu = addon.cpuDetails();
      expect(cpu.caches.l1d.bytes).toBeGreaterThan(0);
      expect(cpu.caches.l2.bytes).toBeGreaterThanOrEqual(cpu.caches.l1d.bytes);
      expect(cpu.gemm.kc % 8).toBe(0);
      expect(cpu.gemm.nc % cpu.gemm.nr).toBe(0);
      expect(cpu.gemm.mc % cpu.gemm.mr).toBe(0);
      expect(cpu.gemm.source).toBe('model');
    });

    // several kc slices, row blocks and column blocks on small odd shapes, every transpose
    const shapes: [number, number, number, boolean, boolean][] = [
      [53, 70, 41, false, false],
      [29, 95, 66, true, false],
      [61, 40, 83, false, true],
      [17, 33, 130, true, true],
      [256, 260, 256, false, true], // above the threading threshold
    ];
    const fewColumns: (typeof shapes)[number][] = [
      [301, 150, 45, false, false],
      [301, 150, 45, true, false],
      [301, 150, 45, false, true],
      [97, 37, 200, true, true],
      // transposed A with enough 48-row groups of panels for two threads: a partial last group (451 = 9 * 48 + 19,
      // a partial panel in it), a partial last panel of B, kc slices
      [451, 150, 45, true, false],
      [451, 70, 200, true, true],
      [700, 40, 80, true, false],
    ];
    // few rows (a packed op(A) slice within half the B block's budget: kc 64, nc 64 allow up to 32 rows; all of it
    // within mc * kc) and many columns of a transposed B: one B panel packed piece by piece while the previous one
    // is swept; tails in M, N, K, one piece (M below MR), above the threading threshold; plain B (block path) alongside
    const fewRows: (typeof shapes)[number][] = [
      [30, 150, 300, false, false],
      [30, 150, 500, false, true],
      [29, 130, 600, true, true],
      [5, 200, 2100, false, true],
    ];
    // op(B) a little wider than nc (kc 512, nc 64): the few-columns path with a shallower slice (512 * 64 / 112 = 292
    // -> 288 depths at NR 16, 256 at NR 32, 312 at NR 8), so several slices of K = 600; plain and transposed A and B
    const wideFewColumns: (typeof shapes)[number][] = [
      [400, 600, 100, false, false],
      [400, 600, 100, true, false],
      [400, 600, 100, false, true],
      [400, 550, 90, true, true],
    ];
    // transposed A on the block path (nPad > nc, too shallow a few-columns slice): each packed A block (mc 960: two
    // of ~500 rows, one slice at a time; mc 4800 below: all 1000 rows, every slice packed at once) in tasks of (row block,
    // depth range), 384-row blocks at MR 6 / 12 (128 at MR 4) and a partial one, depth slices of K = 150 / 130 in
    // ranges, a partial last panel; plain and transposed B
    const transposedBlocks: (typeof shapes)[number][] = [
      [1000, 150, 100, true, false],
      [1000, 130, 70, true, true],
    ];
    // the block path with op(A) packed whole (one row block within mc * kc, at most two column blocks a thread: nc 64
    // for N = 66..100), several depth slices: transposed A threaded and below the threading threshold, plain A
    const wholeA: (typeof shapes)[number][] = [...transposedBlocks, [29, 95, 66, true, false], [300, 150, 100, false, false]];
    const refs = new Map<string, Float32Array>();
    // each shape's inputs are drawn once from its seed, not on every call (under jest, drawing the normals was 80 % of
    // this block's time before rng.ts bound Math's functions once); every call gets copies, so no kernel can change
    // what the next one sees
    const inputs = new Map<string, Float32Array[]>();
    function matmul(device: Device, [m, k, n, ta, tb]: (typeof shapes)[number], accumulate: boolean): Float32Array {
      const key = `${m},${k},${n}`;
      let drawn = inputs.get(key);
      if (!drawn) {
        const rng = new Rng(m * 31 + k);
        drawn = [randn(rng, m * k), randn(rng, k * n), randn(rng, m * n)];
        inputs.set(key, drawn);
      }
      const [A, B, C0] = drawn;
      const a = tensor(A.slice(), ta ? [k, m] : [m, k], { device });
      const b = tensor(B.slice(), tb ? [n, k] : [k, n], { device });
      const out = tensor(C0.slice(), [m, n], { device });
      getKernel('matmulForward', device)({ a, b, out, transA: ta, transB: tb, alpha: 0.5, accumulate });
      return out.f32;
    }

    /** cpu equals ref, fresh and accumulated, under the given blocking (kc, nc, mc) forced on `isa`. */
    function expectRef(
      isa: (typeof usable)[number],
      threads: number,
      [kc, nc, mc]: [number, number, number],
      shape: (typeof shapes)[number],
    ): void {
      addon.setIsa(isa);
      addon.setThreads(threads);
      addon.setGemmBlocking(isa, kc, nc, mc, 'set');
      expect(addon.cpuDetails().gemm).toMatchObject({ isa, kc, source: 'set' });
      for (const accumulate of [false, true]) {
        const key = `${shape.join()}:${accumulate}`;
        const want = refs.get(key) ?? matmul('ref', shape, accumulate);
        refs.set(key, want);
        expect(matmul('cpu', shape, accumulate)).toBeAllClose(want, { atol: 1e-4, rtol: 1e-4 });
      }
    }

    describe.each(usable.flatMap((isa) => [1, 2].map((t) => [isa, t] as const)))('%s, %i threads, tiny blocks', (isa, threads) => {
      it.each(shapes)('%i x %i x %i (transA %s, transB %s)', (...shape) => expectRef(isa, threads, [16, 32, 12], shape));

      // kc 64, nc 64: the few-rows path for the transposed-B shapes above (see fewRows)
      it.each(fewRows)('few rows: %i x %i x %i (transA %s, transB %s)', (...shape) => expectRef(isa, threads, [64, 64, 480], shape));

      // op(B) within one column block (nc 256): the few-columns path (plain op(A): one MR-row panel packed at a time;
      // transposed: a 48-row group of panels) when there are 4 groups a thread, else the block path; tails in M, N
      // and K, kc slices, above the threading threshold (2e6)
      it.each(fewColumns)('few columns: %i x %i x %i (transA %s, transB %s)', (...shape) => expectRef(isa, threads, [16, 256, 12], shape));

      it.each(wideFewColumns)('few columns, shallower slices: %i x %i x %i (transA %s, transB %s)', (...shape) =>
        expectRef(isa, threads, [512, 64, 12], shape),
      );

      it.each(transposedBlocks)('transposed A, block path: %i x %i x %i (transA %s, transB %s)', (...shape) =>
        expectRef(isa, threads, [64, 32, 960], shape),
      );

      it.each(wholeA)('block path, A packed whole: %i x %i x %i (transA %s, transB %s)', (...shape) =>
        expectRef(isa, threads, [64, 64, 4800], shape),
      );
    });

    // transposed A with fewer row groups than 4 a thread, on the few-columns path (the tuned threshold set to 1 group a
    // thread): at 2 threads the depth slices are split between the threads, the second one's partial product added
    // into C; B is packed 6 slices at a time (mc 960 x kc 16 over 160 padded columns), so the last of K = 300's 19
    // slices is a span of one, swept unsplit after split ones
    const splitDepth: (typeof shapes)[number][] = [
      [97, 300, 150, true, false],
      [97, 300, 70, true, true],
      [150, 400, 40, true, false],
    ];
    describe.each(usable)('%s, 2 threads, few columns split over depth', (isa) => {
      afterAll(() => addon.setGemmPaths(isa, 0, 0, 0, 0));
      it.each(splitDepth)('%i x %i x %i (transA %s, transB %s)', (...shape) => {
        addon.setGemmPaths(isa, 1, 1, 1, 1);
        addon.setIsa(isa);
        addon.setThreads(2);
        addon.setGemmBlocking(isa, 16, 256, 960, 'set');
        const [m, k, n, ta, tb] = shape;
        expect(addon.gemmPath(m, n, k, ta, tb)).toBe('few-columns');
        expectRef(isa, 2, [16, 256, 960], shape);
        // the split ran: its two partial sums differ from the one-thread order in the last bits (a matmul of one GEMM
        // under 16 M multiply-adds and transposed A ran on one thread through the batch route, where it never split)
        const groupRows = addon.cpuDetails().gemm.mr === 4 ? 16 : 48; // row groups of transposed A (gemm_paths.h groupPanels)
        if (Math.ceil(m / groupRows) < 4 * 2) {
          const two = matmul('cpu', shape, false);
          addon.setThreads(1);
          const one = matmul('cpu', shape, false);
          addon.setThreads(2);
          expect(two.some((v, i) => v !== one[i])).toBe(true);
        }
      });
    });
  });

  it('the STREAM probe copies, computes the triad and reads', () => {
    const n = 300_001; // not a multiple of any chunk
    const src = Float32Array.from({ length: n }, (_, i) => i % 977);
    const dst = new Float32Array(n);
    addon.streamCopy(src, dst, n, false);
    expect(dst).toEqual(src);
    // the streaming copy (forced below the LLC size), from an offset that leaves dst off a 64-byte line
    addon.setStreamBytes(0);
    try {
      const off = new Float32Array(n).fill(-1).subarray(3);
      addon.streamCopy(src, off, n - 3, true);
      expect(off).toEqual(src.subarray(0, n - 3));
    } finally {
      addon.setStreamBytes(-1);
    }
    const a = new Float32Array(n);
    addon.streamTriad(a, src, dst, n, 0.5);
    expect(a).toBeAllClose(
      src.map((v) => 1.5 * v),
      { atol: 0, rtol: 1e-7 },
    );
    // the read's sum: every element once (small integers: every float partial sum stays exact, below 2^24)
    const small = Float32Array.from({ length: n }, (_, i) => i % 7);
    let want = 0;
    for (let i = 0; i < n; i++) want += small[i];
    expect(addon.streamRead(small, n)).toBe(want);
    expect(addon.streamRead(small.subarray(5), n - 5)).toBe(want - (0 + 1 + 2 + 3 + 4));
  });
}
