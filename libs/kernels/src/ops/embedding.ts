// Embedding ops: gather rows of a (V, C) table by i32 ids, and the scatter-add backward into dTable.
import { getKernel } from '../registry';
import type { Tensor } from '../tensor';
import { expectDtype, expectRank, expectShape, outputOr, sameDevice } from './checks';

/** table (V, C), ids (...) i32 -> (..., C) (or written into opts.out). Ids outside [0, V) throw. Also a row gather. */
export function embedding(table: Tensor, ids: Tensor, opts: { out?: Tensor } = {}): Tensor {
  const device = sameDevice('embedding', table, ids);
  expectRank('embedding', 'table', table, 2);
  expectDtype('embedding', 'table', table, 'f32');
  expectDtype('embedding', 'ids', ids, 'i32');
  const out = outputOr('embedding', 'out', opts.out, [...ids.shape, table.shape[1]], device, 'f32', true);
  const rows = out.reshape([ids.size, table.shape[1]]);
  getKernel('embeddingForward', device)({ table, ids, out: rows });
  rows.dispose();
  return out;
}

/** dTable (V, C) [ids[n]] += dOut (..., C) [n], in place; repeated ids accumulate. Returns dTable. */
export function embeddingBackward(dOut: Tensor, ids: Tensor, dTable: Tensor): Tensor {
  const device = sameDevice('embeddingBackward', dOut, ids, dTable);
  expectRank('embeddingBackward', 'dTable', dTable, 2);
  expectDtype('embeddingBackward', 'ids', ids, 'i32');
  expectDtype('embeddingBackward', 'dOut', dOut, 'f32');
  expectDtype('embeddingBackward', 'dTable', dTable, 'f32');
  expectShape('embeddingBackward', 'dOut', dOut, [...ids.shape, dTable.shape[1]]);
  const rows = dOut.reshape([ids.size, dTable.shape[1]]);
  getKernel('embeddingBackward', device)({ dOut: rows, ids, dTable });
  rows.dispose();
  return dTable;
}
