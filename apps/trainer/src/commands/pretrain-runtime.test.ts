// Model runtime knobs and AdamW defaults in the pretrain config: `--set model.runtime.<key>=...` reaches the
// resolved config (validated, naming the field), the presets leave the documented defaults, the runtime
// is what the run builds its model with, and the optimizer defaults come from libs/optimizer's DEFAULT_ADAMW.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_LOGIT_BUDGET } from '@lwz/model';
import { DEFAULT_ADAMW } from '@lwz/optimizer';
import { pretrainConfigSchema } from '../pretrain/config';
import { runPretrain } from '../pretrain/run';
import { pretrainFixture, smallConfig } from '../pretrain/testing';
import { resolve } from './pretrain';

describe('pretrain config: model runtime', () => {
  it('defaults to the documented runtime and takes --set model.runtime.* overrides', () => {
    expect(resolve({ set: [] }).model.runtime).toEqual({ recompute: false, logitBudget: DEFAULT_LOGIT_BUDGET });
    const cfg = resolve({ set: ['model.runtime.recompute=true', 'model.runtime.logitBudget=65536'] });
    expect(cfg.model.runtime).toEqual({ recompute: true, logitBudget: 65536 });
    expect(cfg.model.preset).toBe('tiny');
    expect(() => resolve({ set: ['model.runtime.logitBudget=0'] })).toThrow(/model\.runtime\.logitBudget: Too small/);
    expect(() => resolve({ set: ['model.runtime.recompute=maybe'] })).toThrow(/model\.runtime\.recompute: Invalid input: expected boolean/);
  });

  it('names an unknown preset with the valid ones, as train and train-rm do', () => {
    expect(() => resolve({ preset: 'tiny-typo', set: [] })).toThrow(
      'unknown pretrain preset "tiny-typo" (valid: tiny); or give a config file with --config',
    );
  });

  it('takes the AdamW defaults from libs/optimizer', () => {
    const cfg = resolve({ set: [] });
    expect({ beta1: cfg.beta1, beta2: cfg.beta2, weightDecay: cfg.weightDecay }).toEqual({
      beta1: DEFAULT_ADAMW.beta1,
      beta2: DEFAULT_ADAMW.beta2,
      weightDecay: DEFAULT_ADAMW.weightDecay,
    });
  });

  it('builds the run model with the configured runtime (an unchecked bad value reaches the model and is refused there)', () => {
    const f = pretrainFixture();
    const out = join(mkdtempSync(join(tmpdir(), 'lwz-runtime-')), 'run');
    try {
      const cfg = pretrainConfigSchema.parse(smallConfig(f, out, { steps: 1 }));
      const bad = { ...cfg, model: { ...cfg.model, runtime: { recompute: false, logitBudget: -1 } } };
      expect(() => runPretrain(bad, { log: () => undefined, progress: false })).toThrow(/model runtime:\s+- logitBudget/);
    } finally {
      rmSync(join(out, '..'), { recursive: true, force: true });
    }
  });
});
