// KV cache sizing: rows x capacity within the KV budget. The capacity starts at the prompts' size and doubles
// (up to the longest answer's need) when a running answer reaches the end of its row; when that leaves room
// for fewer rows than are running, the most recently admitted answers are preempted and re-prefilled later
// (vLLM's recompute preemption). Memory follows the budget, not the longest possible answer. Pure arithmetic.
import { UserError } from '@lwz/core';

export interface KvPlanInput {
  rows: number;
  capacity: number;
  /** answers running now */
  active: number;
  /** answers running or queued */
  demand: number;
  /** the most tokens any running answer must hold before its next step (cached + 1), or a new prompt + 1 */
  needNow: number;
  /** the most tokens any running or queued answer can ever hold (prompt + max new tokens - 1) */
  needMax: number;
  kvBytesPerToken: number;
  budgetBytes: number;
  maxBatch: number;
  /** capacities are multiples of this */
  granularity: number;
}

export interface KvPlan {
  rows: number;
  capacity: number;
  /** how many running answers must leave (the most recently admitted) */
  preempt: number;
}

const roundUp = (x: number, m: number): number => Math.ceil(x / m) * m;

/** A byte size as MiB, or KiB below one MiB (a small budget read "0.0 MiB"). */
export const mib = (bytes: number): string =>
  bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;

/** The next cache shape, or the current one when it still fits. Throws when one row cannot fit the budget. */
export function planKv(p: KvPlanInput): KvPlan {
  let capacity = p.capacity;
  if (p.needNow > capacity) {
    const grown = Math.max(p.needNow, capacity * 2, p.granularity);
    capacity = Math.min(roundUp(grown, p.granularity), roundUp(Math.max(p.needMax, p.needNow), p.granularity));
  }
  const fit = Math.floor(p.budgetBytes / (capacity * p.kvBytesPerToken));
  if (fit < 1) {
    throw new UserError(
      `KV budget ${mib(p.budgetBytes)} cannot hold one answer of ${capacity} tokens ` +
        `(${p.kvBytesPerToken} bytes per token); raise the KV budget or lower max new tokens`,
    );
  }
  const wanted = Math.min(p.maxBatch, fit, Math.max(p.demand, 1));
  const rows = Math.max(p.rows > fit ? fit : p.rows, wanted);
  return { rows, capacity, preempt: Math.max(0, p.active - rows) };
}
