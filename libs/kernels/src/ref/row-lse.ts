// Shared by the ref softmax-family kernels: the log-sum-exp of one row, max-shifted, in float64.
import type { Vec } from './arrays';

/** log(sum_v exp(x[o + v] / temperature)) for v < len. -Infinity for an empty row. */
export function rowLogSumExp(x: Vec, o: number, len: number, temperature = 1): number {
  let max = -Infinity;
  for (let v = 0; v < len; v++) if (x[o + v] / temperature > max) max = x[o + v] / temperature;
  if (max === -Infinity || max === Infinity) return max;
  let sum = 0;
  for (let v = 0; v < len; v++) sum += Math.exp(x[o + v] / temperature - max);
  return max + Math.log(sum);
}
