// A prompt whose target is [0, 0] (no length asked: the rewards skip it) is sampled and monitored but never
// trained on: its G answers are left out of the update rows. Not a test of the rewards' skip rule itself. Also the
// checks that stop a run before its first step: prompt rows too long for the context, a missing tokenizer; and LoRA
// training end to end (only the adapters learn, saved merged, resumed exactly); the warning for a constant quality
// reward.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, Rng } from '@lwz/core';
import { initModel, modelPreset, readEntryInto, readSafetensorsHeader, saveModel } from '@lwz/model';
import { GRPO_PRESETS, grpoConfigSchema } from './config';
import { runGrpo } from './run';
import { grpoTestConfig, SMALL_MODEL, smallConfigFor } from './testing';

it('leaves [0, 0] prompts out of the update', async () => {
  const base = mkdtempSync(join(tmpdir(), 'lwz-grpo-skip-'));
  const file = join(base, 'prompts.jsonl');
  const row = (id: string, lo: number, hi: number) =>
    JSON.stringify({ id, prompt: `Write about the sea in ${hi} words.`, type: 'essay', length: Math.max(1, hi), length_range: [lo, hi] });
  writeFileSync(file, [row('kept', 20, 40), row('skipped', 0, 0)].join('\n') + '\n');
  const out = join(base, 'run');
  const cfg = parseConfig(
    grpoConfigSchema,
    grpoTestConfig(out, { steps: 2, prompts: { file, perStep: 2 }, evaluation: { prompts: 0 } }),
    'skip test',
  );
  await runGrpo(cfg, { log: () => undefined, progress: false });
  const rows = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, number>);
  expect(rows).toHaveLength(2);
  for (const r of rows) {
    expect(r['length/skipped']).toBeCloseTo(0.5, 9);
    expect(r['train/rows']).toBe(cfg.rollout.n); // the kept prompt's G answers only
  }
}, 60000);

it('warns before anything runs when the quality reward is a constant (no scorer given), as the qwen2.5-0.5b preset has', async () => {
  const base = mkdtempSync(join(tmpdir(), 'lwz-grpo-constant-'));
  const raw = grpoTestConfig(join(base, 'run'), { rewards: { quality: { scorer: 'constant' } } });
  // a tokenizer directory without tokenizer.json stops the run right after the setup's warnings
  const cfg = parseConfig(grpoConfigSchema, { ...raw, model: { ...(raw.model as object), tokenizer: base } }, 'constant');
  const lines: string[] = [];
  await expect(runGrpo(cfg, { log: (l) => lines.push(l), progress: false })).rejects.toThrow(/has no tokenizer\.json/);
  expect(lines).toEqual([
    expect.stringMatching(/^warning: rewards\.quality\.scorer is constant: .* only the length and format rewards steer/),
  ]);
  const judged = grpoTestConfig(join(base, 'run'));
  const withRm = parseConfig(grpoConfigSchema, { ...judged, model: { ...(judged.model as object), tokenizer: base } }, 'rm');
  const quiet: string[] = [];
  await expect(runGrpo(withRm, { log: (l) => quiet.push(l), progress: false })).rejects.toThrow(/has no tokenizer\.json/);
  expect(quiet).toEqual([]);
  expect(GRPO_PRESETS['qwen2.5-0.5b'].rewards).toBeUndefined(); // the preset leaves quality at its constant default
});

it('names the rows of a prompt file that leave no room in the context before the run directory is made, or leaves them out with prompts.skipLong', async () => {
  const base = mkdtempSync(join(tmpdir(), 'lwz-grpo-long-'));
  const file = join(base, 'prompts.jsonl');
  const rows = [{ prompt: 'Write about the sea in 40 words.' }, { prompt: 'word '.repeat(4000) }, { prompt: 'A poem of 30 words.' }];
  writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const out = join(base, 'run');
  const cfg = parseConfig(
    grpoConfigSchema,
    grpoTestConfig(out, { steps: 2, prompts: { file, perStep: 2 }, evaluation: { prompts: 0 } }),
    'long',
  );
  await expect(runGrpo(cfg, { log: () => undefined, progress: false })).rejects.toThrow(
    /^1 prompt of .*prompts\.jsonl leaves? no room for an answer in the model's \d+-token context with the think template: .*prompts\.jsonl:2 \(\d+ tokens\)\. Remove it from the file, leave such rows out with --set prompts\.skipLong=true/,
  );
  expect(existsSync(out)).toBe(false); // named before the run directory is made
  // prompts.skipLong: the long row is left out (and said so), the run trains on the other two
  const lines: string[] = [];
  const skipping = parseConfig(
    grpoConfigSchema,
    grpoTestConfig(out, { steps: 2, prompts: { file, perStep: 2, skipLong: true }, evaluation: { prompts: 0 } }),
    'long',
  );
  const r = await runGrpo(skipping, { log: (l) => lines.push(l), progress: false });
  expect(r.steps).toBe(2);
  expect(lines).toContainEqual(
    expect.stringMatching(/^left out 1 of 3 prompts of .*prompts\.jsonl that leave no room for an answer .*\(prompts\.skipLong\)$/),
  );
  expect(r.prompts.train.map((p) => p.where?.replace(/.*:/, ''))).toEqual(['1', '3']);
  expect(r.prompts.origin).toMatch(/, 1 left out for length \(prompts\.skipLong\)$/);
}, 60000);

it('refuses rollout.maxNewTokens that no prompt leaves room for, before the run directory is made', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'lwz-grpo-maxnew-')), 'run');
  const cfg = parseConfig(grpoConfigSchema, grpoTestConfig(out, { rollout: { n: 2, maxNewTokens: 5000 } }), 'max new');
  await expect(runGrpo(cfg, { log: () => undefined, progress: false })).rejects.toThrow(
    /^rollout\.maxNewTokens: 5000 new tokens do not fit the model's 2048-token context after any prompt; set it below 2048/,
  );
  expect(existsSync(out)).toBe(false);
});

it('stops before creating the run directory when the start checkpoint or model.tokenizer has no tokenizer.json, or one past the vocabulary, or is a reward model, or the prompt file is empty', async () => {
  const base = mkdtempSync(join(tmpdir(), 'lwz-grpo-notok-'));
  // a start checkpoint saved without its tokenizer (as `init` writes one, or a copied model.safetensors)
  const bare = join(base, 'bare');
  saveModel(initModel({ ...modelPreset('tiny'), ...SMALL_MODEL, vocabSize: 300, eosTokenId: 0, bosTokenId: 0 }, new Rng(1)), bare);
  const fromBare = parseConfig(
    grpoConfigSchema,
    grpoTestConfig(join(base, 'run1'), { model: { init: bare, preset: 'tiny' } }),
    'no tokenizer',
  );
  await expect(runGrpo(fromBare, { log: () => undefined, progress: false })).rejects.toThrow(
    /bare has no tokenizer\.json .*: copy the tokenizer\.json and tokenizer_config\.json the checkpoint was trained with into it/,
  );
  expect(existsSync(join(base, 'run1'))).toBe(false);
  const wrongDir = grpoTestConfig(join(base, 'run2'));
  (wrongDir.model as Record<string, unknown>).tokenizer = join(base, 'nowhere');
  const fromPreset = parseConfig(grpoConfigSchema, wrongDir, 'no tokenizer');
  await expect(runGrpo(fromPreset, { log: () => undefined, progress: false })).rejects.toThrow(
    /^model\.tokenizer: .*nowhere has no tokenizer\.json .*: point model\.tokenizer at a directory holding one/,
  );
  expect(existsSync(join(base, 'run2'))).toBe(false);
  // a start checkpoint whose tokenizer gives ids past its vocabulary
  const narrow = join(base, 'narrow');
  saveModel(initModel({ ...modelPreset('tiny'), ...SMALL_MODEL, vocabSize: 40, eosTokenId: 0, bosTokenId: 0 }, new Rng(1)), narrow, {
    tokenizer: (grpoTestConfig(base).model as { tokenizer: string }).tokenizer,
  });
  const fromNarrow = parseConfig(
    grpoConfigSchema,
    grpoTestConfig(join(base, 'run3'), { model: { init: narrow, preset: 'tiny' } }),
    'narrow',
  );
  await expect(runGrpo(fromNarrow, { log: () => undefined, progress: false })).rejects.toThrow(
    /narrow: vocab_size 40 in its config\.json is smaller than the \d+ token ids of .*tokenizer\.json/,
  );
  expect(existsSync(join(base, 'run3'))).toBe(false);
  // a reward model as the start policy (its value head would be trained as part of the policy, its saved
  // checkpoints be classifiers): refused by name, pointing at the quality reward
  const rmCfg = grpoTestConfig(join(base, 'run5'));
  const rm = (rmCfg.rewards as { quality: { options: { checkpoint: string } } }).quality.options.checkpoint;
  const fromRm = parseConfig(grpoConfigSchema, { ...rmCfg, model: { init: rm, preset: 'tiny' } }, 'reward model');
  await expect(runGrpo(fromRm, { log: () => undefined, progress: false })).rejects.toThrow(
    /^--init .*reward-model: .* is a reward model \(a sequence classifier with a value head, score\.weight\), not a language model; GRPO starts from a causal LM checkpoint such as runs\/pretrain-tiny \(a reward model scores answers instead: set rewards\.quality\.options\.checkpoint to it\)$/,
  );
  expect(existsSync(join(base, 'run5'))).toBe(false);
  // an empty prompt file
  const empty = join(base, 'empty.jsonl');
  writeFileSync(empty, '');
  const fromEmpty = parseConfig(grpoConfigSchema, grpoTestConfig(join(base, 'run4'), { prompts: { file: empty } }), 'empty');
  await expect(runGrpo(fromEmpty, { log: () => undefined, progress: false })).rejects.toThrow(/empty\.jsonl: no prompt rows/);
  expect(existsSync(join(base, 'run4'))).toBe(false);
}, 60000);

/** Every tensor of a checkpoint's model.safetensors, by name. */
function weightsOf(dir: string): Record<string, Float32Array> {
  const h = readSafetensorsHeader(join(dir, 'model.safetensors'));
  return Object.fromEntries(
    [...h.entries.values()].map((e) => {
      const a = new Float32Array(e.shape.reduce((x, y) => x * y, 1));
      readEntryInto(h.path, e, a);
      return [e.name, a];
    }),
  );
}
const equalArrays = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => v === b[i]);

it('LoRA: needs a start checkpoint; trains only the adapters, saves them merged and resumes to the same weights', async () => {
  const base = mkdtempSync(join(tmpdir(), 'lwz-grpo-lora-'));
  const lora = { rank: 4, alpha: 8, targets: ['q', 'v'] };
  const noInit = parseConfig(grpoConfigSchema, grpoTestConfig(join(base, 'random'), { model: { preset: 'tiny', lora } }), 'lora');
  await expect(runGrpo(noInit, { log: () => undefined, progress: false })).rejects.toThrow(
    /^model\.lora is set but model\.init is not: LoRA adapts a pretrained checkpoint/,
  );
  expect(existsSync(join(base, 'random'))).toBe(false);

  const tokDir = (grpoTestConfig(base).model as { tokenizer: string }).tokenizer;
  const init = join(base, 'init');
  // the model a random start of the test config would be (its seed 3), saved as a checkpoint
  saveModel(initModel(smallConfigFor(tokDir), new Rng(3).split('init')), init, { tokenizer: tokDir });
  // one fixture for every run (a resumed run must see the same config, paths included)
  const raw = grpoTestConfig(base, { steps: 4, checkpointEvery: 2, evaluation: { prompts: 0 }, model: { init, lora } });
  const cfg = (out: string) => parseConfig(grpoConfigSchema, { ...raw, out }, 'lora');
  const quiet = { log: () => undefined, progress: false };
  const straight = await runGrpo(cfg(join(base, 'straight')), quiet);
  expect(straight.steps).toBe(4);
  // only the adapters moved: the merged q and v projections differ from the start, every other weight is the start's
  const start = weightsOf(init);
  const end = weightsOf(join(base, 'straight', 'checkpoints', 'step-4'));
  const changed = Object.keys(start).filter((k) => !equalArrays(start[k], end[k]));
  expect(changed.sort()).toEqual(['model.layers.0.self_attn.q_proj.weight', 'model.layers.0.self_attn.v_proj.weight']);
  // the KL to the start policy is measured against the policy's own base (adapters off), not a second copy
  const kl = readFileSync(join(base, 'straight', 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as Record<string, number>)['policy/kl_start']);
  expect(kl[0]).toBeGreaterThanOrEqual(0);
  expect(kl[0]).toBeLessThan(1);
  // stopped after 2 steps (a checkpoint), resumed: the same final weights
  await runGrpo(cfg(join(base, 'resumed')), { ...quiet, stopAfter: 2 });
  const rest = await runGrpo(cfg(join(base, 'resumed')), quiet);
  expect(rest.resumedFrom).toBe(2);
  const resumed = weightsOf(join(base, 'resumed', 'checkpoints', 'step-4'));
  for (const k of Object.keys(end)) expect(equalArrays(resumed[k], end[k])).toBe(true);
}, 120000);
