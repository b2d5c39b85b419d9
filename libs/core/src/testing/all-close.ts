// Numeric comparison used by every kernel and model test (registered as jest's `toBeAllClose`).
// Pass when |a - e| <= atol + rtol * |e| elementwise for finite values. Non-finite values match exactly:
// +Infinity only +Infinity, -Infinity only -Infinity, NaN only NaN (so a tolerance made infinite by an
// infinite expected value never lets a finite result through). On failure the message gives the max and
// mean absolute difference and the first mismatching indices, as llm.c's checks do.

// Bound once per module: inside a vm context (jest runs each test file in one) every `Math.x` / `Number.x` in the
// loop below is a lookup on the context's global object, slower than the comparison itself.
const { abs, max } = Math;
const { isFinite: numberIsFinite, isNaN: numberIsNaN } = Number; // Number's: no coercion, unlike the globals

export interface AllCloseOptions {
  rtol?: number;
  atol?: number;
  maxReported?: number;
}

export interface AllCloseResult {
  pass: boolean;
  maxDiff: number;
  meanDiff: number;
  mismatches: number;
  message: string;
}

export function allClose(actual: ArrayLike<number>, expected: ArrayLike<number>, opts: AllCloseOptions = {}): AllCloseResult {
  const rtol = opts.rtol ?? 1e-5;
  const atol = opts.atol ?? 1e-6;
  if (actual.length !== expected.length) {
    return {
      pass: false,
      maxDiff: Infinity,
      meanDiff: Infinity,
      mismatches: Math.max(actual.length, expected.length),
      message: `length mismatch: got ${actual.length} values, expected ${expected.length}`,
    };
  }
  let maxDiff = 0;
  let sumDiff = 0;
  let mismatches = 0;
  const first: string[] = [];
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const finite = numberIsFinite(a) && numberIsFinite(e);
    const same = a === e || (numberIsNaN(a) && numberIsNaN(e)); // Infinity === Infinity, NaN only by isNaN
    const diff = same ? 0 : abs(a - e);
    const ok = same || (finite && diff <= atol + rtol * abs(e));
    if (numberIsFinite(diff)) {
      maxDiff = max(maxDiff, diff);
      sumDiff += diff;
    } else if (!ok) {
      maxDiff = Infinity;
    }
    if (!ok) {
      mismatches++;
      if (first.length < (opts.maxReported ?? 5)) first.push(`[${i}] got ${a} expected ${e}`);
    }
  }
  const meanDiff = actual.length ? sumDiff / actual.length : 0;
  const summary = `max diff ${maxDiff.toExponential(3)}, mean diff ${meanDiff.toExponential(3)} (rtol ${rtol}, atol ${atol})`;
  const message =
    mismatches === 0
      ? `expected values not to be all close, but they are: ${summary}`
      : `${mismatches} of ${actual.length} values differ: ${summary}; first: ${first.join(', ')}`;
  return { pass: mismatches === 0, maxDiff, meanDiff, mismatches, message };
}
