// PairTable against a Map reference on random pairs, including ids large enough that a * V + b keys would
// leave the small-integer range, and the first-insert-wins rule BPE needs for duplicate merges.
import { Rng } from '@lwz/core';
import { PairTable } from './pair-table';

describe('PairTable', () => {
  it('agrees with a Map on random inserts and lookups', () => {
    const rng = new Rng(4);
    const table = new PairTable(5000);
    const ref = new Map<string, number>();
    for (let i = 0; i < 5000; i++) {
      const a = rng.int(300_000);
      const b = rng.int(300_000);
      table.setIfAbsent(a, b, i);
      if (!ref.has(`${a},${b}`)) ref.set(`${a},${b}`, i);
    }
    expect(table.size).toBe(ref.size);
    for (const [k, v] of ref) {
      const [a, b] = k.split(',').map(Number);
      expect(table.get(a, b)).toBe(v);
    }
    for (let i = 0; i < 2000; i++) {
      const a = rng.int(300_000);
      const b = rng.int(300_000);
      expect(table.get(a, b)).toBe(ref.get(`${a},${b}`) ?? -1);
    }
  });

  it('keeps the first value for a repeated pair', () => {
    const table = new PairTable(4);
    table.setIfAbsent(1, 2, 10);
    table.setIfAbsent(1, 2, 20);
    table.setIfAbsent(2, 1, 30);
    expect([table.get(1, 2), table.get(2, 1), table.get(0, 0)]).toEqual([10, 30, -1]);
  });
});
