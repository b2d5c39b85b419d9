// allClose and the toBeAllClose matcher: the tolerance rule, exact matching of non-finite values (an
// infinite expected value must not pass any finite result), lengths, and failure messages; the matcher is
// checked to fail (throw) where it must, not only to pass.
import { allClose } from './all-close';

describe('allClose', () => {
  it('passes within atol + rtol |expected| and fails just outside', () => {
    expect(allClose([1.000009, -2], [1, -2], { atol: 0, rtol: 1e-5 }).pass).toBe(true);
    expect(allClose([1.00003, -2], [1, -2], { atol: 0, rtol: 1e-5 }).pass).toBe(false);
    expect(allClose([1e-7], [0], { atol: 1e-6, rtol: 0 }).pass).toBe(true);
    expect(allClose([2e-6], [0], { atol: 1e-6, rtol: 0 }).pass).toBe(false);
  });

  it('matches infinities exactly, with their sign, whatever the tolerance', () => {
    expect(allClose([Infinity, -Infinity], [Infinity, -Infinity]).pass).toBe(true);
    expect(allClose([1e30], [Infinity], { rtol: 1 }).pass).toBe(false);
    expect(allClose([0], [-Infinity], { atol: 1, rtol: 1 }).pass).toBe(false);
    expect(allClose([-Infinity], [Infinity]).pass).toBe(false);
    expect(allClose([Infinity], [1e30], { rtol: 1 }).pass).toBe(false);
    const r = allClose([5, Infinity], [Infinity, Infinity]);
    expect(r).toMatchObject({ pass: false, mismatches: 1, maxDiff: Infinity });
    expect(r.message).toContain('[0] got 5 expected Infinity');
  });

  it('matches NaN only with NaN', () => {
    expect(allClose([NaN, 1], [NaN, 1]).pass).toBe(true);
    expect(allClose([NaN], [0], { atol: 1e9 }).pass).toBe(false);
    expect(allClose([0], [NaN], { atol: 1e9 }).pass).toBe(false);
    expect(allClose([Infinity], [NaN]).pass).toBe(false);
  });

  it('fails on a length mismatch and reports the differences', () => {
    expect(allClose([1, 2], [1]).message).toBe('length mismatch: got 2 values, expected 1');
    const r = allClose([1, 2, 3], [1, 2.5, 4], { atol: 0.1, rtol: 0 });
    expect(r).toMatchObject({ pass: false, mismatches: 2, maxDiff: 1 });
    expect(r.message).toMatch(
      /^2 of 3 values differ: max diff 1\.000e\+0, mean diff 5\.000e-1 .*first: \[1\] got 2 expected 2.5, \[2\] got 3 expected 4$/,
    );
  });
});

describe('toBeAllClose', () => {
  it('passes and fails (throws) as allClose says, in both directions', () => {
    expect([1, Infinity]).toBeAllClose([1, Infinity]);
    expect([1e30]).not.toBeAllClose([Infinity], { rtol: 1 });
    expect(() => expect([1e30]).toBeAllClose([Infinity], { rtol: 1 })).toThrow(/1 of 1 values differ.*got 1e\+30 expected Infinity/);
    expect(() => expect([-Infinity]).toBeAllClose([Infinity])).toThrow(/values differ/);
    expect(() => expect([0.5]).toBeAllClose([NaN])).toThrow(/got 0.5 expected NaN/);
    expect(() => expect([1]).not.toBeAllClose([1])).toThrow(/expected values not to be all close, but they are/);
  });
});
