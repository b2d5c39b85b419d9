// Two implementations of the BPE merge loop over one word's symbol ids, which must agree exactly: a plain scan
// (fast for the short words that dominate text) and a heap over a linked list (for long words). Both apply the
// lowest-rank adjacent pair first, the leftmost one among equals, one merge at a time, as Hugging Face does.

import type { PairTable } from './pair-table';

export interface MergeTable {
  /** (left id, right id) -> rank (lower merges first), -1 when the pair never merges. */
  ranks: PairTable;
  /** rank -> id of the merged token. */
  results: Int32Array;
}

/** Merge the first `length` ids of `syms` in place; returns the new length. O(n^2) in the word length. */
export function mergeScan(t: MergeTable, syms: Int32Array, length: number): number {
  let n = length;
  while (n > 1) {
    let best = Infinity;
    let at = -1;
    for (let i = 0; i < n - 1; i++) {
      const r = t.ranks.get(syms[i], syms[i + 1]);
      if (r >= 0 && r < best) {
        best = r;
        at = i;
      }
    }
    if (at < 0) break;
    syms[at] = t.results[best];
    syms.copyWithin(at + 1, at + 2, n);
    n -= 1;
  }
  return n;
}

/** Binary min-heap of keys rank * 2^32 + position (exact in a double: rank < 2^20, position < 2^32). */
class KeyHeap {
  private data: number[] = [];
  get size(): number {
    return this.data.length;
  }
  push(key: number): void {
    const d = this.data;
    d.push(key);
    let i = d.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (d[p] <= key) break;
      d[i] = d[p];
      i = p;
    }
    d[i] = key;
  }
  pop(): number {
    const d = this.data;
    const top = d[0];
    const last = d.pop() as number;
    if (d.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= d.length) break;
        const c = l + 1 < d.length && d[l + 1] < d[l] ? l + 1 : l;
        if (d[c] >= last) break;
        d[i] = d[c];
        i = c;
      }
      d[i] = last;
    }
    return top;
  }
}

const POS = 2 ** 32;

/** Merge the first `length` ids of `syms` in place with a heap of candidate pairs; returns the new length. O(n log n). */
export function mergeHeap(t: MergeTable, syms: Int32Array, length: number): number {
  const n = length;
  const next = new Int32Array(n); // linked list over surviving symbols; -1 ends it
  const prev = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    next[i] = i + 1 < n ? i + 1 : -1;
    prev[i] = i - 1;
  }
  const rankAt = (i: number): number => (next[i] < 0 ? -1 : t.ranks.get(syms[i], syms[next[i]]));
  const heap = new KeyHeap();
  const pushPair = (i: number): void => {
    const r = rankAt(i);
    if (r >= 0) heap.push(r * POS + i);
  };
  for (let i = 0; i < n - 1; i++) pushPair(i);
  const alive = new Uint8Array(n).fill(1);
  while (heap.size > 0) {
    const key = heap.pop();
    const rank = Math.floor(key / POS);
    const i = key - rank * POS;
    if (!alive[i] || rankAt(i) !== rank) continue; // stale: the pair at i changed since it was pushed
    const j = next[i];
    syms[i] = t.results[rank];
    alive[j] = 0;
    next[i] = next[j];
    if (next[j] >= 0) prev[next[j]] = i;
    if (prev[i] >= 0) pushPair(prev[i]);
    pushPair(i);
  }
  let m = 0;
  for (let i = 0; i >= 0 && i < n; i = next[i]) syms[m++] = syms[i];
  return m;
}
