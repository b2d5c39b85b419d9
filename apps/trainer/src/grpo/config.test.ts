// The GRPO presets resolve through the one schema, their exported numbers are the resolved config's, and bad
// presets or fields are reported by name. Not a test of training (train-cli.test.ts runs the loop).
import { grpoPresetNumbers, presetNames, resolveGrpoConfig } from './config';

describe('GRPO presets', () => {
  it('every preset resolves and its numbers are the resolved config', () => {
    expect(presetNames()).toEqual(expect.arrayContaining(['tiny', 'tiny-direct', 'tiny-base', 'qwen2.5-0.5b']));
    for (const name of presetNames()) {
      const c = resolveGrpoConfig({ preset: name });
      const n = grpoPresetNumbers(name);
      expect(n).toMatchObject({
        preset: name,
        template: c.template,
        n: c.rollout.n,
        epsLow: c.loss.epsLow,
        epsHigh: c.loss.epsHigh,
        temperature: c.rollout.temperature,
        maxNewTokens: c.rollout.maxNewTokens,
        lr: c.optim.lr,
        aggregation: c.loss.aggregation,
        klCoef: c.loss.klCoef,
        combination: c.rewards.combination.name,
      });
      expect(c.rewards.template).toBe(c.template);
    }
  });

  it('the ablations differ from tiny only where they say', () => {
    expect(grpoPresetNumbers('tiny-direct').template).toBe('direct');
    expect(resolveGrpoConfig({ preset: 'tiny-base' }).model.init).toBeUndefined();
    expect(resolveGrpoConfig({ preset: 'tiny' }).model.init).toBe('runs/pretrain-tiny');
    expect(grpoPresetNumbers('tiny', { rollout: { n: 4 } }).n).toBe(4);
  });

  it('names the unknown preset and the bad field', () => {
    expect(() => resolveGrpoConfig({ preset: 'nope' })).toThrow(/unknown GRPO preset "nope".*tiny/);
    expect(() => resolveGrpoConfig({ preset: 'tiny', overrides: { rollout: { n: 1 } } })).toThrow(/rollout\.n/);
  });
});
