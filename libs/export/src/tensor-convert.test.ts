// f32 -> binary16 conversion at the edges the common-value tests in gguf-format.test.ts miss, every
// expectation an IEEE 754 binary16 bit pattern worked out by hand: NaN and infinities, the overflow
// threshold (65520 is the midpoint between 65504 and 2^16, so it ties to even = infinity), the subnormal
// range (2^-24 is the smallest step) with its own ties-to-even, and the export's overflow check.
import { f32ToF16Bits, firstF16Overflow, permuteRotaryRows } from './tensor-convert';

describe('f32ToF16Bits edges', () => {
  it('keeps NaN a NaN (exponent all ones, mantissa nonzero) and maps infinities to 0x7c00 / 0xfc00', () => {
    const nan = f32ToF16Bits(Number.NaN);
    expect(nan & 0x7c00).toBe(0x7c00);
    expect(nan & 0x03ff).not.toBe(0);
    expect(f32ToF16Bits(Infinity)).toBe(0x7c00);
    expect(f32ToF16Bits(-Infinity)).toBe(0xfc00);
  });

  it('rounds to infinity from 65520 up (ties to even at the top) and keeps 65519 finite', () => {
    expect(f32ToF16Bits(65519)).toBe(0x7bff);
    expect(f32ToF16Bits(65520)).toBe(0x7c00);
    expect(f32ToF16Bits(-65520)).toBe(0xfc00);
    // exponent 16 (2^16 <= |x| < 2^17) is past binary16's largest exponent 15: infinity, never a NaN pattern
    expect(f32ToF16Bits(98304)).toBe(0x7c00);
    expect(f32ToF16Bits(-100000)).toBe(0xfc00);
  });

  it('rounds subnormals to the nearest multiple of 2^-24, ties to even', () => {
    expect(f32ToF16Bits(2 ** -14)).toBe(0x0400); // smallest normal
    expect(f32ToF16Bits(1023 * 2 ** -24)).toBe(0x03ff); // largest subnormal
    expect(f32ToF16Bits(2 ** -25)).toBe(0x0000); // half of 2^-24: tie, to the even 0
    expect(f32ToF16Bits(1.5 * 2 ** -25)).toBe(0x0001); // above the tie: up
    expect(f32ToF16Bits(-(2 ** -24))).toBe(0x8001);
    expect(f32ToF16Bits(2.5 * 2 ** -24)).toBe(0x0002); // tie between 2 and 3: even 2
    expect(f32ToF16Bits(3.5 * 2 ** -24)).toBe(0x0004); // tie between 3 and 4: even 4
    expect(f32ToF16Bits(2 ** -26)).toBe(0x0000);
  });
});

describe('firstF16Overflow', () => {
  it('flags the first value that rounds to infinity (|x| >= 65520), not infinities or NaN already there', () => {
    expect(firstF16Overflow(Float32Array.from([1, 65519, -65520, 1e6]))).toBe(2);
    expect(firstF16Overflow(Float32Array.from([65519.99, -65504]))).toBe(-1);
    expect(firstF16Overflow(Float32Array.from([Infinity, -Infinity, Number.NaN]))).toBe(-1);
  });
});

it('permuteRotaryRows refuses heads of odd size (RoPE pairs need an even head_dim)', () => {
  expect(() => permuteRotaryRows(new Float32Array(6), 2, 1)).toThrow(/do not split into 2 heads of even size/);
});
