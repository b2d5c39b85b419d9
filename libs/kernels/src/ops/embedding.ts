// Embedding ops: gather rows of a (V, C) table by i32 ids, and the scatter-add backward into dTable.
import { getKernel } from '../registry';
import { zeros } from '../create';
import type { Tensor } from '../tensor';
import { expectDtype, expectRank, expectShape, sameDevice } from './checks';

/** table (V, C), ids (...) i32 -> (..., C). Ids outside [0, V) throw. */
export function embedding(table: Tensor, ids: Tensor): Tensor {
  const device = sameDevice('embedding', table, ids);
  expectRank('embedding', 'table', table, 2);
  expectDtype('embedding', 'table', table, 'f32');
  expectDtype('embedding', 'ids', ids, 'i32');
  const out = zeros([...ids.shape, table.shape[1]], { device });
  getKernel('embeddingForward', device)({ table, ids, out: out.reshape([ids.size, table.shape[1]]) });
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
  getKernel('embeddingBackward', device)({ dOut: dOut.reshape([ids.size, dTable.shape[1]]), ids, dTable });
  return dTable;
}
