// Records and the Markdown table: throughput and ratio arithmetic against hand-computed values, and the
// table's columns with and without a baseline.
import { avx2CoreOnAvx512 } from './baseline';
import { baselineRatio, formatWork, markdownTable, throughputOf, type BenchRecord } from './records';

const record = (over: Partial<BenchRecord> = {}): BenchRecord => ({
  suite: 'kernels',
  name: 'matmul 512^3',
  params: { M: 512, K: 512, N: 512 },
  median_ms: 10,
  throughput: 26.8435456,
  unit: 'GFLOP/s',
  device: 'cpu',
  threads: 2,
  iterations: 5,
  smoke: false,
  work: { amount: 2 * 512 ** 3, unit: 'FLOP', formula: '2*M*N*K' },
  ...over,
});

describe('throughputOf', () => {
  it('divides work by the median time into the display unit', () => {
    // 2*512^3 FLOP in 10 ms = 26.8435456 GFLOP/s
    expect(throughputOf({ amount: 2 * 512 ** 3, unit: 'FLOP', formula: '' }, 10)).toEqual({
      throughput: 26.8435456,
      unit: 'GFLOP/s',
    });
    // 28 * 5e6 bytes in 20 ms = 7 GB/s
    expect(throughputOf({ amount: 28 * 5e6, unit: 'B', formula: '' }, 20).throughput).toBeCloseTo(7, 12);
    expect(throughputOf({ amount: 500, unit: 'token', formula: '' }, 250)).toEqual({
      throughput: 2000,
      unit: 'tokens/s',
    });
  });
});

describe('baselineRatio', () => {
  it('is baseline_ms / ours_ms, above 1 when ours is faster', () => {
    expect(baselineRatio(30, 10)).toBe(3);
    expect(baselineRatio(5, 20)).toBe(0.25);
  });

  it('rejects zero or negative times instead of printing Infinity', () => {
    expect(() => baselineRatio(1, 0)).toThrow(/positive/);
    expect(() => baselineRatio(-1, 2)).toThrow(/positive/);
  });
});

describe('markdownTable', () => {
  it('has one row per record plus visible skips, and no baseline columns without a baseline', () => {
    const md = markdownTable([record()], [{ suite: 'kernels', name: 'adamw step', params: { P: 5 }, reason: 'no adamwStep kernel' }]);
    const lines = md.split('\n');
    expect(lines[0]).toBe('| case | params | work | median ms | throughput | notes |');
    expect(lines[2]).toBe('| matmul 512^3 | M=512 K=512 N=512 | 268.4 MFLOP (2*M*N*K) | 10.00 | 26.84 GFLOP/s |  |');
    expect(lines[3]).toBe('| adamw step | P=5 |  |  |  | SKIPPED: no adamwStep kernel |');
    expect(lines).toHaveLength(4);
  });

  it('adds the baseline time and ratio columns when a baseline ran', () => {
    const md = markdownTable([record({ baseline: { name: 'openblas', median_ms: 15, ratio: 1.5 } }), record({ name: 'other' })]);
    const lines = md.split('\n');
    expect(lines[0]).toContain('| openblas ms | ratio openblas/ours |');
    expect(lines[2]).toContain('| 15.00 | 1.50x |');
    expect(lines[3].split('|')).toHaveLength(lines[2].split('|').length);
  });

  it('escapes pipes inside cells', () => {
    expect(markdownTable([record({ name: 'a|b' })])).toContain('a\\|b');
  });
});

describe('formatWork', () => {
  it('scales to a prefix and keeps the formula', () => {
    expect(formatWork({ amount: 140e6, unit: 'B', formula: '28*P' })).toBe('140.0 MB (28*P)');
    expect(formatWork({ amount: 2 * 1024 ** 3, unit: 'FLOP', formula: '2*M*N*K' })).toBe('2.15 GFLOP (2*M*N*K)');
    expect(formatWork({ amount: 4096, unit: 'token', formula: 'B*T' })).toBe('4,096 tokens (B*T)');
  });
});

describe('the OpenBLAS core note', () => {
  it('names an AVX2 core OpenBLAS fell back to on an AVX-512 CPU, and nothing otherwise', () => {
    const haswell = 'OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64';
    expect(avx2CoreOnAvx512(haswell, new Set(['avx2', 'avx512f']))).toBe('Haswell');
    expect(avx2CoreOnAvx512(haswell, new Set(['avx2']))).toBeNull(); // an AVX2 CPU: Haswell kernels are its best
    expect(avx2CoreOnAvx512(haswell.replace('Haswell', 'SkylakeX'), new Set(['avx512f']))).toBeNull();
    expect(avx2CoreOnAvx512(undefined, new Set(['avx512f']))).toBeNull();
  });
});
