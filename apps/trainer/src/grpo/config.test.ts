// The GRPO presets resolve through the one schema, the ablations differ from tiny only where they say, and bad
// presets or fields are reported by name. Not a test of training (train-cli.test.ts runs the loop).
import { GRPO_PRESETS, presetNames, resolveGrpoConfig } from './config';

describe('GRPO config', () => {
  it('every preset validates', () => {
    for (const name of presetNames()) {
      const cfg = resolveGrpoConfig({ preset: name });
      expect(cfg.rollout.n).toBeGreaterThanOrEqual(2);
      expect(cfg.rewards.template).toBe(cfg.template);
    }
    expect(resolveGrpoConfig({ preset: 'tiny-direct' }).template).toBe('direct');
    expect(GRPO_PRESETS['tiny-base'].model).toEqual({ preset: 'tiny' });
  });

  it('names the bad field and the valid choices', () => {
    expect(() => resolveGrpoConfig({ preset: 'nope' })).toThrow(/unknown GRPO preset "nope" \(valid: tiny, tiny-direct/);
    expect(() => resolveGrpoConfig({ overrides: { rollout: { n: 1 } } })).toThrow(/rollout\.n/);
    expect(() => resolveGrpoConfig({ overrides: { rewards: { template: 'direct' } } })).toThrow(/rewards\.template/);
    expect(() => resolveGrpoConfig({ overrides: { loss: { aggregation: 'bogus' } } })).toThrow(/unknown loss aggregation "bogus"/);
  });

  it('the ablations differ from tiny only where they say', () => {
    expect(presetNames()).toEqual(expect.arrayContaining(['tiny', 'tiny-direct', 'tiny-base', 'qwen2.5-0.5b']));
    expect(resolveGrpoConfig({ preset: 'tiny-base' }).model.init).toBeUndefined();
    expect(resolveGrpoConfig({ preset: 'tiny' }).model.init).toBe('runs/pretrain-tiny');
    expect(resolveGrpoConfig({ preset: 'tiny', overrides: { rollout: { n: 4 } } }).rollout.n).toBe(4);
  });
});
