// Registers the project's numeric matchers (see libs/core/src/testing/all-close.ts) with jest.
import { expect } from '@jest/globals';
import { allClose, type AllCloseOptions } from '@lwz/core/testing';

expect.extend({
  toBeAllClose(received: ArrayLike<number>, expected: ArrayLike<number>, options?: AllCloseOptions) {
    const result = allClose(received, expected, options);
    return { pass: result.pass, message: () => result.message };
  },
});

declare module 'expect' {
  interface Matchers<R> {
    /** Elementwise |a - e| <= atol + rtol * |e|; prints max/mean diff and the first mismatching indices. */
    toBeAllClose(expected: ArrayLike<number>, options?: AllCloseOptions): R;
  }
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace jest {
    interface Matchers<R> {
      /** Elementwise |a - e| <= atol + rtol * |e|; prints max/mean diff and the first mismatching indices. */
      toBeAllClose(expected: ArrayLike<number>, options?: AllCloseOptions): R;
    }
  }
}
