// Group layout of a batch of samples: rewards come as a flat (B*G,) array where each sample belongs to one
// prompt group. GroupIndex turns any group ids (numbers or strings, in any order, groups of any size) into
// dense ids 0..K-1 with sizes, so estimators can run segment reductions over the flat array.

export interface GroupIndex {
  /** (N,) dense group id of each sample, 0..count-1 in order of first appearance */
  ids: Int32Array;
  /** K */
  count: number;
  /** (K,) samples per group */
  sizes: Int32Array;
}

/** From any per-sample group ids (N,). */
export function groupIndex(groupIds: ArrayLike<number | string>): GroupIndex {
  const dense = new Map<number | string, number>();
  const ids = new Int32Array(groupIds.length);
  for (let i = 0; i < groupIds.length; i++) {
    let d = dense.get(groupIds[i]);
    if (d === undefined) {
      d = dense.size;
      dense.set(groupIds[i], d);
    }
    ids[i] = d;
  }
  const sizes = new Int32Array(dense.size);
  for (let i = 0; i < ids.length; i++) sizes[ids[i]]++;
  return { ids, count: dense.size, sizes };
}

/** B groups of G consecutive samples: the (B, G) layout flattened to (B*G,). */
export function contiguousGroups(b: number, g: number): GroupIndex {
  if (!(Number.isInteger(b) && Number.isInteger(g) && b >= 0 && g >= 1)) throw new Error(`contiguousGroups: bad shape (${b}, ${g})`);
  const ids = new Int32Array(b * g);
  for (let i = 0; i < ids.length; i++) ids[i] = Math.floor(i / g);
  return { ids, count: b, sizes: new Int32Array(b).fill(g) };
}
