// Length-sorted packing shared by the GRPO update (grpo/batch.ts: one row an item) and train-rm (rm/objective.ts: a
// chosen / rejected pair an item, two rows).

/**
 * `order` cut into consecutive groups, each as long as its padded size (rowsPerItem x items x the group's longest
 * item) stays within `maxTokens`; an item larger than that goes alone. GRPO's rows (one row each) and train-rm's
 * pairs (two) are packed so.
 */
export function packByLength(order: readonly number[], lengthOf: (i: number) => number, maxTokens: number, rowsPerItem = 1): number[][] {
  const out: number[][] = [];
  let cur: number[] = [];
  let longest = 0;
  for (const i of order) {
    const len = lengthOf(i);
    if (cur.length && rowsPerItem * Math.max(longest, len) * (cur.length + 1) > maxTokens) {
      out.push(cur);
      cur = [];
      longest = 0;
    }
    cur.push(i);
    longest = Math.max(longest, len);
  }
  if (cur.length) out.push(cur);
  return out;
}
