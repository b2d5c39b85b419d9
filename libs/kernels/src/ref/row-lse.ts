// Shared by the ref softmax-family kernels: the log-sum-exp of one row, max-shifted, in float64.
import type { Vec } from './arrays';

/** log(sum_v exp(x[o + v] / temperature)) for v < len. -Infinity for an empty row. */
export function rowLogSumExp(x: Vec, o: number, len: number, temperature = 1): number {
  let max = -Infinity;
  let nan = false;
  for (let v = 0; v < len; v++) {
    const t = x[o + v] / temperature;
    if (t > max) max = t;
    else if (Number.isNaN(t)) nan = true;
  }
  // a NaN makes the row's lse NaN, also among -inf (masked) values; a +inf max stays +inf
  if (max === -Infinity) return nan ? NaN : max;
  if (max === Infinity) return max;
  let sum = 0;
  for (let v = 0; v < len; v++) sum += Math.exp(x[o + v] / temperature - max);
  return max + Math.log(sum);
}
