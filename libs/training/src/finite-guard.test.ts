// Non-finite numbers in a run (finite-guard.ts): a NaN or infinite loss stops it at once with a user error naming
// the step, the checkpoints kept and the likely causes; a non-finite gradient norm is skipped, but three steps in a
// row without an update stop it; and RunDir.saveCheckpoint refuses weights holding inf or NaN, leaving the
// checkpoints already written as they were.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, UserError, z } from '@lwz/core';
import { initModel } from '@lwz/model';
import { tinyConfig } from '@lwz/model/testing';
import { AdamW } from '@lwz/optimizer';
import { checkpointDir } from './checkpoint-files';
import { FiniteGuard, MAX_SKIPPED_STEPS_IN_A_ROW, firstNonFiniteTensor } from './finite-guard';
import { RunDir } from './run-dir';

let base: string;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'lwz-finite-'));
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

const stateSchema = z.object({}).strict();
const causes = (start: string) =>
  `Likely causes: non-finite or huge weights in ${start} (a corrupt or overwritten file: restore it, or start from another checkpoint), ` +
  'or a learning rate too high for this model (0.5 at this step: lower it with --set optim.lr=...)';

function saved(run: RunDir<Record<string, never>>, step: number, model = initModel(tinyConfig(), new Rng(1))) {
  const opt = new AdamW(model.trainableParams().map((p) => ({ name: p.name, param: p.value, grad: p.value })));
  return run.saveCheckpoint({ step, model, optimizer: opt, state: {} });
}

describe('FiniteGuard', () => {
  it('stops at the first non-finite loss, naming the step, the checkpoints kept and the causes', () => {
    const dir = join(base, 'run');
    const run = RunDir.open({ dir, config: {}, stateSchema, keepLast: 2 });
    saved(run, 1);
    saved(run, 2); // the newest of the two is named
    const guard = new FiniteGuard({ what: 'lwz-train train', runDir: dir, start: '/ckpt/start', lrKey: 'optim.lr' });
    guard.check({ step: 3, loss: 2.5, gradNorm: 1, lr: 0.5, skipped: false });
    for (const loss of [NaN, Infinity]) {
      let err: unknown;
      try {
        guard.check({ step: 4, loss, gradNorm: NaN, lr: 0.5, skipped: true });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UserError);
      expect((err as Error).message).toBe(
        `lwz-train train step 4: the loss is ${loss} (gradient norm NaN). Stopped before this step's metrics and checkpoint: ` +
          `the checkpoints in ${dir} are kept (newest: step 2). ${causes('/ckpt/start')}`,
      );
    }
    const fresh = new FiniteGuard({ what: 'lwz-train pretrain', runDir: join(base, 'none'), start: null, lrKey: 'lr' });
    expect(() => fresh.check({ step: 1, loss: NaN, gradNorm: NaN, lr: 1, skipped: true })).toThrow(
      `${join(base, 'none')} holds no checkpoint yet. Likely causes: weights grown out of range, or a learning rate too high`,
    );
  });

  it('lets a step without a finite gradient norm be skipped, and stops when no update was taken three steps in a row', () => {
    expect(MAX_SKIPPED_STEPS_IN_A_ROW).toBe(3);
    const guard = new FiniteGuard({ what: 'lwz-train train-rm', runDir: base, start: null, lrKey: 'lr' });
    const step = (n: number, skipped: boolean) => () =>
      guard.check({ step: n, loss: 0.7, gradNorm: skipped ? Infinity : 1, lr: 1e-3, skipped });
    for (const [n, skipped] of [
      [1, true],
      [2, true],
      [3, false],
      [4, true],
      [5, true],
    ] as const)
      expect(step(n, skipped)).not.toThrow();
    expect(step(6, true)).toThrow(
      'lwz-train train-rm step 6: the gradient norm has not been finite for 3 steps in a row (now Infinity), so no update was taken since step 3.',
    );
  });
});

describe('checkpoints of non-finite weights', () => {
  it('are refused, naming the tensor; the checkpoints already written stay as they were', () => {
    const dir = join(base, 'run');
    const run = RunDir.open({ dir, config: {}, stateSchema, keepLast: 1 });
    saved(run, 2);
    const model = initModel(tinyConfig(), new Rng(2));
    expect(firstNonFiniteTensor(model.trainableParams())).toBeNull();
    const norm = model.trainableParams().find((p) => p.name === 'model.norm.weight');
    (norm?.value.f32 as Float32Array)[3] = NaN;
    expect(firstNonFiniteTensor(model.trainableParams())).toBe('model.norm.weight');
    expect(() => saved(run, 4, model)).toThrow(UserError);
    expect(() => saved(run, 4, model)).toThrow(
      `not saving checkpoint step 4: tensor model.norm.weight holds inf or NaN; the checkpoints in ${dir} are kept (newest: step 2).`,
    );
    expect(readdirSync(join(dir, 'checkpoints'))).toEqual(['step-2']); // keepLast 1: step 2 was not pushed out
    expect(readdirSync(checkpointDir(dir, 2))).toContain('model.safetensors');
  });
});
