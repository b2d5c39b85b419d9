// ref embedding: gather rows of a (V, C) table by id, and its scatter-add backward.
// Ids out of [0, V) throw with the offending position; repeated ids accumulate in the backward.
import type { Tensor } from '../tensor';
import type { Buf, Vec } from './arrays';

function checkId(op: string, id: number, n: number, v: number): void {
  if (!(id >= 0 && id < v)) throw new Error(`${op}: id ${id} at position ${n} is outside the vocabulary [0, ${v})`);
}

/** out (N, C) = table (V, C) [ids (N,)] */
export function embeddingForwardArrays(table: Vec, ids: Vec, out: Buf, n: number, c: number, v: number): void {
  for (let r = 0; r < n; r++) {
    const id = ids[r];
    checkId('embedding', id, r, v);
    for (let j = 0; j < c; j++) out[r * c + j] = table[id * c + j];
  }
}

/** dTable (V, C) [ids[n]] += dOut (N, C) [n] */
export function embeddingBackwardArrays(dOut: Vec, ids: Vec, dTable: Buf, n: number, c: number, v: number): void {
  for (let r = 0; r < n; r++) {
    const id = ids[r];
    checkId('embeddingBackward', id, r, v);
    for (let j = 0; j < c; j++) dTable[id * c + j] += dOut[r * c + j];
  }
}

export function embeddingForward({ table, ids, out }: { table: Tensor; ids: Tensor; out: Tensor }): void {
  const [v, c] = table.shape;
  embeddingForwardArrays(table.f32, ids.i32, out.f32, ids.size, c, v);
}

export function embeddingBackward({ dOut, ids, dTable }: { dOut: Tensor; ids: Tensor; dTable: Tensor }): void {
  const [v, c] = dTable.shape;
  embeddingBackwardArrays(dOut.f32, ids.i32, dTable.f32, ids.size, c, v);
}
