// The GRPO presets resolve through the one schema, the ablations differ from tiny only where they say, and bad
// presets or fields are reported by name. Not a test of training (train-cli.test.ts runs the loop).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { parseConfig } from '@lwz/core';
import { checkModelShape, modelPreset } from '@lwz/model';
import { register as registerExportRecipe } from '../commands/export-recipe';
import { resolve as resolvePretrainCli } from '../commands/pretrain';
import { resolve as resolveTrainCli } from '../commands/train';
import { resolve as resolveTrainRmCli } from '../commands/train-rm';
import { GRPO_PRESETS, grpoConfigNotes, grpoConfigSchema, presetNames, resolveGrpoConfig } from './config';

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

  it("a config that sets nothing updates once per rollout batch, on the rollout's own log-probs", () => {
    const cfg = parseConfig(grpoConfigSchema, {}, 'defaults');
    // one pass, one optimizer step: the first (and only) update is on-policy, the ratio 1 at its start
    expect([cfg.ppoEpochs, cfg.miniBatches]).toEqual([1, 1]);
    // old log-probs: the local engine's own (no extra forward); rollout servers always recompute them (run.ts)
    expect(cfg.recomputeOldLogprobs).toBe(false);
    expect([cfg.klToStart, cfg.klEvery]).toEqual([true, 5]);
    expect(cfg.evaluation).toEqual({ prompts: 24, temperature: 0.7 });
  });

  it('names the bad field and the valid choices', () => {
    expect(() => resolveGrpoConfig({ preset: 'nope' })).toThrow(/unknown GRPO preset "nope" \(valid: tiny, tiny-direct/);
    expect(() => resolveGrpoConfig({ overrides: { rollout: { n: 1 } } })).toThrow(/rollout\.n/);
    expect(() => resolveGrpoConfig({ overrides: { rewards: { template: 'direct' } } })).toThrow(/rewards\.template/);
    expect(() => resolveGrpoConfig({ overrides: { loss: { aggregation: 'bogus' } } })).toThrow(/unknown loss aggregation "bogus"/);
    // caught by the config check, before a run directory exists (the trainer's first use of it came after)
    expect(() => resolveGrpoConfig({ overrides: { optim: { schedule: 'cosin' } } })).toThrow(
      /optim\.schedule.*unknown learning-rate schedule "cosin" \(known: constant, cosine, linear\)/,
    );
    expect(() => resolveGrpoConfig({ overrides: { steps: 10, optim: { warmupSteps: 11 } } })).toThrow(
      /optim\.warmupSteps.*at most steps \(10\)/,
    );
    expect(resolveGrpoConfig({ overrides: { steps: 10, optim: { warmupSteps: 10 } } }).optim.warmupSteps).toBe(10); // at most: equal is fine
    // Dr. GRPO's constant L is the generation budget: another value would scale the loss by a number nobody chose
    const drGrpo = (maxLength: number) => ({ overrides: { loss: { aggregation: 'seq-mean-token-sum-norm', maxLength } } });
    expect(() => resolveGrpoConfig(drGrpo(512))).toThrow(/loss\.maxLength.*set it to rollout\.maxNewTokens \(400\)/);
    expect(resolveGrpoConfig(drGrpo(400)).loss.maxLength).toBe(400);
    expect(() => resolveGrpoConfig({ preset: 'tiny', overrides: { miniBatches: 5 } })).toThrow(
      /miniBatches.*at most prompts\.perStep \(4\)/,
    );
  });

  it('a cosine or linear schedule decays to a tenth of lr unless told, as pretrain and train-rm do', () => {
    const cfg = resolveGrpoConfig({ preset: 'tiny', overrides: { optim: { schedule: 'cosine' } } });
    expect(cfg.optim.minLrRatio).toBe(0.1);
    expect(resolveGrpoConfig({ preset: 'tiny' }).optim.schedule).toBe('constant');
  });

  it('checks model.overrides field by field: a typo or a zero would train some other model', () => {
    expect(() => resolveGrpoConfig({ overrides: { model: { overrides: { numLayer: 3 } } } })).toThrow(/model\.overrides.*numLayer/);
    for (const bad of [0, -1, 1.5]) {
      expect(() => resolveGrpoConfig({ overrides: { model: { overrides: { numLayers: bad } } } })).toThrow(/model\.overrides\.numLayers/);
    }
    expect(resolveGrpoConfig({ overrides: { model: { overrides: { numLayers: 2, rmsNormEps: 1e-5 } } } }).model.overrides).toEqual({
      numLayers: 2,
      rmsNormEps: 1e-5,
    });
    // the combination is checked with the preset, as config.json would be
    expect(() => checkModelShape({ ...modelPreset('tiny'), numKvHeads: 3 }, 'model.preset tiny with model.overrides')).toThrow(
      /model\.preset tiny with model\.overrides: field "num_key_value_heads" \(3\) must divide num_attention_heads/,
    );
  });

  it("takes a run's own config.json back as --config (its run record dropped)", () => {
    const cfg = resolveGrpoConfig({ preset: 'tiny' });
    const file = join(mkdtempSync(join(tmpdir(), 'lwz-grpo-cfg-')), 'config.json');
    writeFileSync(file, JSON.stringify({ ...cfg, start: null, scorers: { quality: 'x' }, promptsFingerprint: '0123456789abcdef' }));
    expect(resolveGrpoConfig({ config: file })).toEqual(cfg);
  });

  it('refuses --preset with --config (the file would silently win), on the command line too', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'lwz-grpo-cfg-')), 'config.json');
    writeFileSync(file, JSON.stringify(resolveGrpoConfig({ preset: 'tiny-direct' })));
    expect(() => resolveGrpoConfig({ preset: 'qwen2.5-0.5b', config: file })).toThrow(
      /give --preset qwen2\.5-0\.5b or --config .*, not both/,
    );
    const exportRecipe = (...args: string[]) => {
      const program = new Command().exitOverride();
      registerExportRecipe(program);
      return program.parseAsync(['export-recipe', '--engine', 'verl', '--out', join(file, '..', 'recipe'), ...args], { from: 'user' });
    };
    await expect(exportRecipe('--preset', 'qwen2.5-0.5b', '--config', file)).rejects.toThrow(/not both/);
    // --config alone is not taken as "--preset tiny --config F": it reaches the config check (stopped by a bad key)
    await expect(exportRecipe('--config', file, '--set', 'nope=1')).rejects.toThrow(/invalid config from .*config\.json \+ overrides/);
  });

  it("names an empty --out, --init or --prompts (an unset shell variable) instead of running on the preset's value", () => {
    // before, '' was taken as "not given": the run went to runs/grpo-tiny, from the preset's start, on generated prompts
    expect(() => resolveTrainCli({ out: '', set: [] })).toThrow(/- out: Too small/);
    expect(() => resolveTrainCli({ init: '', set: [] })).toThrow(/- model\.init: must not be empty/);
    expect(() => resolveTrainCli({ prompts: '', set: [] })).toThrow(/- prompts\.file: must not be empty/);
    expect(() => resolveTrainCli({ set: ['prompts.file='] })).toThrow(/- prompts\.file: must not be empty/);
    expect(() => resolvePretrainCli({ out: '', set: [] })).toThrow(/- out: Too small/);
    expect(() => resolvePretrainCli({ init: '', set: [] })).toThrow(/- model\.init: must not be empty/);
    expect(() => resolveTrainRmCli({ out: '', set: [] })).toThrow(/- out: Too small/);
    expect(() => resolveTrainRmCli({ init: '', set: [] })).toThrow(/- init: Too small/);
    expect(resolveTrainCli({ out: 'runs/x', init: 'ckpt', prompts: 'p.jsonl', set: [] })).toMatchObject({
      out: 'runs/x',
      model: { init: 'ckpt' },
      prompts: { file: 'p.jsonl' },
    });
  });

  it('notes that a start checkpoint leaves the printed preset, overrides and tokenizer unused', () => {
    expect(grpoConfigNotes(resolveGrpoConfig({ preset: 'tiny-base' }))).toEqual([]);
    expect(grpoConfigNotes(resolveGrpoConfig({ preset: 'qwen2.5-0.5b', overrides: { model: { init: 'ck' } } }))).toEqual([
      'model.init ck: its config.json and tokenizer.json set the model; model.preset, model.tokenizer above are not used',
    ]);
    const both = resolveGrpoConfig({ preset: 'tiny', overrides: { model: { overrides: { numLayers: 2 } } } });
    expect(grpoConfigNotes(both)).toEqual([
      'model.init runs/pretrain-tiny: its config.json and tokenizer.json set the model; model.preset, model.overrides, model.tokenizer above are not used',
    ]);
  });

  it('the ablations differ from tiny only where they say', () => {
    expect(presetNames()).toEqual(expect.arrayContaining(['tiny', 'tiny-direct', 'tiny-base', 'qwen2.5-0.5b']));
    expect(resolveGrpoConfig({ preset: 'tiny-base' }).model.init).toBeUndefined();
    expect(resolveGrpoConfig({ preset: 'tiny' }).model.init).toBe('runs/pretrain-tiny');
    expect(resolveGrpoConfig({ preset: 'tiny', overrides: { rollout: { n: 4 } } }).rollout.n).toBe(4);
  });

  it("another quality scorer or length predictor than the preset's starts from its own options, not the preset's", () => {
    // the preset's quality is builtin-rm with a checkpoint: --judge-url replaces it whole (it failed on "checkpoint")
    const judged = resolveTrainCli({ preset: 'tiny', judgeUrl: 'http://127.0.0.1:9/v1', judgeModel: 'm', set: [] });
    expect(judged.rewards.quality).toEqual({ scorer: 'chat-judge', options: { baseUrls: ['http://127.0.0.1:9/v1'], model: 'm' } });
    // --set options join the flags' (a timeout was dropped before); another scorer beside --judge-url is refused
    const flags = { preset: 'tiny', judgeUrl: 'http://127.0.0.1:9/v1', judgeModel: 'm' };
    expect(resolveTrainCli({ ...flags, set: ['rewards.quality.options.timeoutMs=5000'] }).rewards.quality.options).toEqual({
      timeoutMs: 5000,
      baseUrls: ['http://127.0.0.1:9/v1'],
      model: 'm',
    });
    expect(() => resolveTrainCli({ ...flags, set: ['rewards.quality.scorer=constant'] })).toThrow(/give one or the other/);
    const viaSet = resolveGrpoConfig({
      preset: 'tiny',
      overrides: { rewards: { quality: { scorer: 'constant', options: { value: 0.7 } } } },
    });
    expect(viaSet.rewards.quality).toEqual({ scorer: 'constant', options: { value: 0.7 } });
    const predictor = resolveGrpoConfig({ overrides: { rewards: { length: { predictor: { name: 'builtin' } } } } });
    expect(predictor.rewards.length.predictor).toEqual({ name: 'builtin', options: {} });
    // the same scorer merges: the preset's options stay beside the new ones
    const same = resolveGrpoConfig({ preset: 'tiny', overrides: { rewards: { quality: { options: { checkpoint: 'elsewhere' } } } } });
    expect(same.rewards.quality).toEqual({ scorer: 'builtin-rm', options: { checkpoint: 'elsewhere' } });
    const sameNamed = resolveGrpoConfig({
      preset: 'tiny',
      overrides: { rewards: { quality: { scorer: 'builtin-rm', options: { maxTokens: 256 } } } },
    });
    expect(sameNamed.rewards.quality.options).toEqual({ checkpoint: 'runs/rm-tiny/model', maxTokens: 256 });
  });
});
