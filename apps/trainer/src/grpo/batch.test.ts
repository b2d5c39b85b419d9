import { Rng } from '@lwz/core';
import { defaultDevice } from '@lwz/kernels';
import { batchTensors, miniBatchRows, microBatch, packMicroBatches, type TrainRow } from './batch';
import { stepPrompts } from './prompts';

function rows(rng: Rng, groups: number, g: number): TrainRow[] {
  return Array.from({ length: groups * g }, (_, i) => ({
    prompt: Array.from({ length: 2 + rng.int(5) }, () => 1 + rng.int(50)),
    answer: Array.from({ length: 1 + rng.int(7) }, () => 1 + rng.int(50)),
    advantage: rng.normal(),
    group: Math.floor(i / g),
  }));
}

describe('GRPO batches', () => {
  it('masks exactly the positions that predict answer tokens, with shifted targets', () => {
    const rng = new Rng(1);
    for (let trial = 0; trial < 20; trial++) {
      const all = rows(rng, 3, 2);
      const mb = microBatch(all, [...all.keys()]);
      mb.rows.forEach((r, b) => {
        const seq = [...all[r].prompt, ...all[r].answer];
        expect(mb.lengths[b]).toBe(seq.length);
        for (let t = 0; t < mb.T; t++) {
          const at = b * mb.T + t;
          expect(mb.ids[at]).toBe(t < seq.length ? seq[t] : 0);
          expect(mb.targets[at]).toBe(t + 1 < seq.length ? seq[t + 1] : -1);
          // the masked targets are the answer, in order
          if (mb.mask[at]) expect(mb.targets[at]).toBe(all[r].answer[t - all[r].prompt.length + 1]);
        }
        expect(mb.mask.subarray(b * mb.T, (b + 1) * mb.T).reduce((a, v) => a + v, 0)).toBe(all[r].answer.length);
        expect(mb.advantages[b]).toBe(all[r].advantage);
      });
      // the tensors the model reads score the answer only: the head runs at no other position
      const t = batchTensors(mb, defaultDevice());
      expect(Array.from(t.targets.toHost())).toEqual(Array.from(mb.targets, (v, i) => (mb.mask[i] ? v : -1)));
      t.ids.dispose();
      t.targets.dispose();
    }
  });

  it('packs micro-batches under the padded-token budget, keeping every row once', () => {
    const rng = new Rng(2);
    const all = rows(rng, 6, 4);
    const order = [...all.keys()].reverse();
    for (const budget of [1, 16, 40, 1000]) {
      const mbs = packMicroBatches(all, order, budget);
      expect(mbs.flatMap((m) => m.rows)).toEqual(order);
      for (const m of mbs) if (m.B > 1) expect(m.B * m.T).toBeLessThanOrEqual(budget);
    }
  });

  it('deals whole groups into mini-batches', () => {
    const all = rows(new Rng(3), 5, 3);
    const parts = miniBatchRows(all, [4, 0, 3, 1, 2], 2);
    expect(parts).toHaveLength(2);
    expect(parts.flat().sort((a, b) => a - b)).toEqual([...all.keys()]);
    for (const p of parts) {
      const groups = new Set(p.map((r) => all[r].group));
      for (const g of groups) expect(p.filter((r) => all[r].group === g)).toHaveLength(3);
    }
  });

  it('draws each prompt once per epoch, the same for the same step', () => {
    const n = 10;
    const seen = Array.from({ length: 5 }, (_, s) => stepPrompts(n, 4, 9, s)).flat();
    expect([...seen.slice(0, 10)].sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
    expect([...seen.slice(10, 20)].sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
    // a permutation of its own per epoch (the same order twice has chance 1 / 10!)
    expect(seen.slice(10, 20)).not.toEqual(seen.slice(0, 10));
    expect(stepPrompts(n, 4, 9, 3)).toEqual(seen.slice(12, 16));
    expect(stepPrompts(n, 4, 10, 0)).not.toEqual(seen.slice(0, 4));
  });
});
