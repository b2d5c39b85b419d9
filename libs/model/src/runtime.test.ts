// The model runtime config: defaults documented in runtime.ts, every field validated with a message naming
// it, frozen once the model is built (no mutable knobs), and carried through initModel and loadModel.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@lwz/core';
import { initModel, loadModel, saveModel } from './checkpoint';
import { DEFAULT_LOGIT_BUDGET, parseModelRuntime } from './runtime';
import { tinyConfig } from './testing/fixtures';

describe('model runtime config', () => {
  it('fills documented defaults and freezes the result', () => {
    const rt = parseModelRuntime(undefined);
    expect(rt).toEqual({ recompute: false, logitBudget: DEFAULT_LOGIT_BUDGET });
    expect(Object.isFrozen(rt)).toBe(true);
    expect(DEFAULT_LOGIT_BUDGET).toBe(16 * 2 ** 20); // 16 M f32 logits = 64 MB, as documented
    expect(parseModelRuntime({ recompute: true })).toEqual({ recompute: true, logitBudget: DEFAULT_LOGIT_BUDGET });
  });

  it('names the bad field and what it needs', () => {
    expect(() => parseModelRuntime({ logitBudget: 0 })).toThrow(/logitBudget: Too small: expected number to be >0/);
    expect(() => parseModelRuntime({ recompute: 'yes' } as never)).toThrow(/recompute: Invalid input: expected boolean/);
    expect(() => parseModelRuntime({ recomput: true } as never, 'pretrain config')).toThrow(
      /invalid config from pretrain config:[^]*recomput/,
    );
  });

  it('is fixed at construction: initModel and loadModel take it, the model cannot change it', () => {
    const model = initModel(tinyConfig(), new Rng(1), 'ref', { recompute: true, logitBudget: 100 });
    expect(model.runtime).toEqual({ recompute: true, logitBudget: 100 });
    expect(() => {
      (model.runtime as { recompute: boolean }).recompute = false;
    }).toThrow(TypeError);
    expect(() => initModel(tinyConfig(), new Rng(1), 'ref', { logitBudget: -1 })).toThrow(/logitBudget/);
    const dir = mkdtempSync(join(tmpdir(), 'lwz-runtime-'));
    try {
      saveModel(model, join(dir, 'm'));
      expect(loadModel(join(dir, 'm'), 'ref').runtime).toEqual({ recompute: false, logitBudget: DEFAULT_LOGIT_BUDGET });
      expect(loadModel(join(dir, 'm'), 'ref', { logitBudget: 64 }).runtime.logitBudget).toBe(64);
      expect(() => loadModel(join(dir, 'm'), 'ref', { logitBudget: 1.5 })).toThrow(/logitBudget/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
