import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from '@lwz/core';
import { loadPromptFile } from '@lwz/data';
import { mergeRewardsConfig, parseRewardsConfig, scoreRewards } from '@lwz/rewards';
import { run } from '../commands/export-recipe';
import { resolveGrpoConfig } from '../grpo/config';
import { promptTokenBound, type VerlRow } from './verl';

// verl's dataset row (RLHFDataset + the reward loop): ground_truth is required
const rowSchema = z
  .object({
    data_source: z.string().min(1),
    prompt: z.array(z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string().min(1) }).strict()).min(1),
    ability: z.string().min(1),
    reward_model: z.object({ style: z.string(), ground_truth: z.string().min(1) }).strict(),
    extra_info: z
      .object({
        id: z.string(),
        index: z.number().int(),
        prompt: z.string(),
        length_range: z.tuple([z.number(), z.number()]).nullable(),
        length: z.number().positive().nullable(),
      })
      .strict(),
  })
  .strict();

const read = (f: string) => readFileSync(f, 'utf8');
const jsonl = (f: string) =>
  read(f)
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as unknown);

/** run_grpo.sh of the recipe in `out`, after checking it holds each of the overrides */
function scriptWith(out: string, overrides: readonly string[]): string {
  const sh = read(join(out, 'run_grpo.sh'));
  for (const o of overrides) expect(sh).toContain(o);
  return sh;
}

describe('export-recipe --engine verl', () => {
  it('writes rows in verl schema, a launch script following the preset, and the README', () => {
    const out = mkdtempSync(join(tmpdir(), 'lwz-verl-'));
    const r = run({ engine: 'verl', preset: 'tiny', out, set: ['prompts.generator.train=30', 'prompts.generator.heldout=5'] });
    expect(r.rows).toBe(30);
    const rows = jsonl(join(out, 'train.jsonl'));
    for (const row of [...rows, ...jsonl(join(out, 'heldout.jsonl'))]) rowSchema.parse(row);
    const first = rows[0] as z.infer<typeof rowSchema>;
    expect(JSON.parse(first.reward_model.ground_truth)).toEqual(first.extra_info.length_range);
    // the README's step 3 samples heldout.jsonl with lwz-train sample: its loader reads these rows as written
    const held = loadPromptFile(join(out, 'heldout.jsonl'));
    const heldRows = jsonl(join(out, 'heldout.jsonl')) as z.infer<typeof rowSchema>[];
    expect(held.format).toBe('verl');
    expect(held.rows.map((r) => [r.id, r.prompt, r.lengthRange])).toEqual(
      heldRows.map((h) => [h.extra_info.id, h.prompt[1].content, h.extra_info.length_range ?? undefined]),
    );
    const sh = scriptWith(out, [
      'actor_rollout_ref.rollout.n=8',
      'actor_rollout_ref.actor.clip_ratio_high=0.28',
      // verl's dual clip (on at 3 unless told) turned off, as ours is off by default
      'actor_rollout_ref.actor.clip_ratio_c=1000000000.0',
      'actor_rollout_ref.actor.loss_agg_mode=token-mean',
      'data.max_response_length=400',
      'actor_rollout_ref.actor.use_kl_loss=False',
      'algorithm.adv_estimator=gdpo',
      `++algorithm.gdpo_reward_keys='["length","format","quality"]'`,
      // without a micro-batch rule verl stops at start; ours is tokens per micro-batch
      'actor_rollout_ref.actor.use_dynamic_bsz=True',
      'actor_rollout_ref.actor.ppo_max_token_len_per_gpu=',
      'actor_rollout_ref.actor.optim.lr_warmup_steps=3',
    ]);
    expect(sh).not.toMatch(/lora_rank/);
    expect(statSync(join(out, 'run_grpo.sh')).mode & 0o111).not.toBe(0);
    expect(execFileSync('bash', ['-n', join(out, 'run_grpo.sh')]).toString()).toBe('');
    expect(read(join(out, 'README.md'))).toMatch(/have not been run on verl by us/);
    expect(read(join(out, 'README.md'))).toContain('Exported by `npx lwz-train export-recipe --engine verl --preset tiny`');
  });

  it("runs ADV=gdpo on verl's legacy trainer: the V1 trainer (default from v0.9.0) hands the estimator no reward keys", () => {
    const out = mkdtempSync(join(tmpdir(), 'lwz-verl-'));
    run({ engine: 'verl', preset: 'tiny', out, set: ['prompts.generator.train=2', 'prompts.generator.heldout=1'] });
    const sh = read(join(out, 'run_grpo.sh'));
    const [gdpo, grpo] = sh.split('elif [ "$ADV" = grpo ]');
    // `++`: the key is absent before v0.9.0 (a plain override of a missing key stops Hydra)
    expect(gdpo).toContain('++trainer.use_v1=False');
    expect(grpo).not.toContain('use_v1');
    expect(read(join(out, 'README.md'))).toMatch(/trainer\.use_v1=False/);
  });

  it('names the verl versions it was checked against and only what their source does', () => {
    const out = mkdtempSync(join(tmpdir(), 'lwz-verl-'));
    run({ engine: 'verl', preset: 'tiny', out, set: ['prompts.generator.train=2', 'prompts.generator.heldout=1'] });
    const readme = read(join(out, 'README.md'));
    const sh = read(join(out, 'run_grpo.sh'));
    for (const text of [readme, sh]) {
      expect(text).toMatch(/v0\.7\.1, v0\.8\.0, v0\.9\.0/);
      expect(text).not.toContain('docs/algo/gdpo.md'); // no such page in verl
    }
    // the reward managers decode with skip_special_tokens=True, hard-coded: no setting to ask for them
    expect(readme).not.toContain('make verl decode with special tokens');
    // RLHFDataset prints how many rows remain after the filter
    expect(readme).not.toContain('without a word');
    expect(readme).toContain('python3 -m verl.model_merger merge --backend fsdp --local_dir checkpoints/verl_examples/');
  });

  it('run_grpo.sh hands verl one argument per override, paths with spaces included, in the Hydra syntax verl parses', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lwz-verl-'));
    const out = join(dir, 'my recipes');
    run({ engine: 'verl', preset: 'tiny', out, set: ['prompts.generator.train=2', 'prompts.generator.heldout=1'] });
    // a python3 that prints its arguments, one a line
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'python3'), '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n', { mode: 0o755 });
    const argv = (adv: string) =>
      execFileSync('bash', [join(out, 'run_grpo.sh'), 'trainer.nnodes=1'], {
        env: {
          ...process.env,
          PATH: `${bin}:${process.env.PATH}`,
          MODEL_PATH: '/models/Qwen 0.5B',
          LWZ_REWARD_URL: 'http://h:8400',
          ADV: adv,
        },
      })
        .toString()
        .trimEnd()
        .split('\n');
    const gdpo = argv('gdpo');
    expect(gdpo.slice(0, 2)).toEqual(['-m', 'verl.trainer.main_ppo']);
    expect(gdpo).toContain(`data.train_files='${out}/train.jsonl'`);
    expect(gdpo).toContain(`reward.custom_reward_function.path='${out}/lwz_reward.py'`);
    expect(gdpo).toContain(`actor_rollout_ref.model.path='/models/Qwen 0.5B'`);
    expect(gdpo).toContain(`++reward.custom_reward_function.reward_kwargs.url='http://h:8400'`);
    // the shell strips the quotes: Hydra reads a list, not a string
    expect(gdpo).toContain('++algorithm.gdpo_reward_keys=["length","format","quality"]');
    expect(gdpo[gdpo.length - 1]).toBe('trainer.nnodes=1');
    for (const a of gdpo.slice(2)) expect(a).toMatch(/^\+{0,2}[a-z_][\w.]*=\S/);
    const grpo = argv('grpo');
    expect(grpo).toContain('algorithm.adv_estimator=grpo');
    expect(grpo.filter((a) => /gdpo|use_v1/.test(a))).toEqual([]);
  });

  it('names a --config file as --config in the files, not as a preset (a rerun with --preset FILE is refused)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lwz-verl-'));
    const config = join(dir, 'grpo.json');
    writeFileSync(config, JSON.stringify(resolveGrpoConfig({ preset: 'tiny-direct' })));
    const out = join(dir, 'recipe');
    run({ engine: 'verl', config, out, set: ['prompts.generator.train=3', 'prompts.generator.heldout=1'] });
    const command = `lwz-train export-recipe --engine verl --config ${config}`;
    expect(read(join(out, 'README.md'))).toContain(`Exported by \`npx ${command}\``);
    expect(read(join(out, 'run_grpo.sh'))).toContain(`exported by \`${command}\``);
    expect(read(join(out, 'README.md'))).not.toContain('--preset');
  });

  it("writes the preset's rewards as rewards.json for serve-rewards --config, and the README starts the service with it", async () => {
    const out = mkdtempSync(join(tmpdir(), 'lwz-verl-'));
    run({ engine: 'verl', preset: 'tiny-direct', out, set: ['prompts.generator.train=2', 'prompts.generator.heldout=1'] });
    const raw = JSON.parse(read(join(out, 'rewards.json'))) as Record<string, unknown>;
    const rewards = parseRewardsConfig(raw, 'rewards.json');
    expect(rewards).toEqual(resolveGrpoConfig({ preset: 'tiny-direct' }).rewards);
    expect(read(join(out, 'README.md'))).toContain('`npx lwz-train serve-rewards --config DIR/rewards.json --port 8400`');
    expect(read(join(out, 'README.md'))).toContain('`runs/rm-tiny/model`');
    // what the service then scores: a well-formed direct answer earns the format reward the defaults deny it
    const row = { prompt: 'Write a 20-word note.', response: '<answer>The harbour was quiet and the ships lay still.</answer>' };
    const constant = parseRewardsConfig(mergeRewardsConfig(raw, { quality: { scorer: 'constant' } }));
    expect((await scoreRewards([row], constant)).rows[0].rewards.format).toBe(1);
    expect((await scoreRewards([row], parseRewardsConfig({}))).rows[0].rewards.format).toBe(0);
  });

  it('refuses an empty --prompts (an unset shell variable) instead of exporting generated prompts, and writes nothing', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'lwz-verl-')), 'recipe');
    expect(() => run({ engine: 'verl', preset: 'tiny', prompts: '', out })).toThrow(/prompts\.file: must not be empty: give a prompt file/);
    expect(() => statSync(out)).toThrow(/ENOENT/);
  });

  it('follows the preset: changing G, clip, lengths, temperature or lr changes the overrides', () => {
    const out = mkdtempSync(join(tmpdir(), 'lwz-verl-'));
    run({
      engine: 'verl',
      preset: 'tiny',
      out,
      set: [
        'prompts.generator.train=5',
        'prompts.generator.heldout=2',
        'rollout.n=5',
        'loss.epsHigh=0.4',
        'rollout.maxNewTokens=777',
        'rollout.temperature=0.6',
        'optim.lr=0.002',
        'loss.klCoef=0.01',
      ],
    });
    scriptWith(out, [
      'rollout.n=5',
      'clip_ratio_high=0.4',
      'max_response_length=777',
      'rollout.temperature=0.6',
      'optim.lr=0.002',
      'use_kl_loss=True',
      'kl_loss_coef=0.01',
    ]);
    expect(() => run({ engine: 'openrlhf', out })).toThrow(/only verl/);
  });

  it("gives Dr. GRPO's seq-mean-token-sum-norm its constant L (verl divides by each micro-batch's padded width unless told)", () => {
    const out = mkdtempSync(join(tmpdir(), 'lwz-verl-'));
    const small = ['prompts.generator.train=2', 'prompts.generator.heldout=1'];
    run({ engine: 'verl', preset: 'tiny', out, set: [...small, 'loss.aggregation=seq-mean-token-sum-norm', 'loss.maxLength=400'] });
    scriptWith(out, ['actor_rollout_ref.actor.loss_agg_mode=seq-mean-token-sum-norm', 'actor_rollout_ref.actor.loss_scale_factor=400']);
    const other = join(out, 'token-mean');
    run({ engine: 'verl', preset: 'tiny', out: other, set: small });
    expect(read(join(other, 'run_grpo.sh'))).not.toContain('loss_scale_factor');
  });

  it('turns gradient clipping off with a norm cap nothing reaches (verl clips to max_norm 0, which zeroes every gradient)', () => {
    const out = mkdtempSync(join(tmpdir(), 'lwz-verl-'));
    run({ engine: 'verl', preset: 'tiny', out, set: ['prompts.generator.train=2', 'prompts.generator.heldout=1', 'optim.gradClip=0'] });
    const sh = scriptWith(out, ['actor_rollout_ref.actor.optim.clip_grad=1000000000.0', 'actor_rollout_ref.actor.grad_clip=1000000000.0']);
    expect(sh).not.toMatch(/clip_grad=0 |grad_clip=0 /);
  });

  it('exports the qwen2.5-0.5b preset as the same LoRA recipe, and refuses a schedule verl lacks', () => {
    const out = mkdtempSync(join(tmpdir(), 'lwz-verl-'));
    run({ engine: 'verl', preset: 'qwen2.5-0.5b', out, set: ['prompts.generator.train=3', 'prompts.generator.heldout=1'] });
    scriptWith(out, [
      'actor_rollout_ref.model.lora_rank=16',
      'actor_rollout_ref.model.lora_alpha=32',
      'actor_rollout_ref.model.target_modules=[q_proj,k_proj,v_proj,o_proj]',
      'actor_rollout_ref.rollout.load_format=safetensors',
      'actor_rollout_ref.actor.optim.lr=0.00001',
      'actor_rollout_ref.actor.optim.lr_warmup_steps=10',
      // at least one whole sequence per micro-batch: 16384 >= prompt budget 512 + 6144
      'actor_rollout_ref.actor.ppo_max_token_len_per_gpu=16384',
    ]);
    expect(read(join(out, 'README.md'))).toMatch(/LoRA rank 16 alpha 32/);
    expect(() =>
      run({
        engine: 'verl',
        preset: 'tiny',
        out: join(out, 'x'),
        set: ['optim.schedule=linear', 'prompts.generator.train=2', 'prompts.generator.heldout=1'],
      }),
    ).toThrow(/optim.schedule "linear": verl has no such learning-rate schedule/);
  });

  it('sizes data.max_prompt_length to hold the longest given prompt, and never replaces a folder of other files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lwz-verl-'));
    const prompts = join(dir, 'prompts.jsonl');
    const long = `Write a story of 2000 words about ${'a very long and winding road, '.repeat(120)}`;
    writeFileSync(
      prompts,
      [{ prompt: 'Write a poem in 300 words.' }, { prompt: long }, { prompt: '写一篇2000字的文章，' + '关于河流的故事。'.repeat(60) }]
        .map((r) => JSON.stringify(r))
        .join('\n') + '\n',
    );
    const out = join(dir, 'recipe');
    run({ engine: 'verl', preset: 'tiny', prompts, out, set: ['prompts.generator.heldout=2'] });
    const max = Number(/data\.max_prompt_length=(\d+)/.exec(read(join(out, 'run_grpo.sh')))?.[1]);
    const rows = jsonl(join(out, 'train.jsonl')) as VerlRow[];
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      expect(max).toBeGreaterThanOrEqual(promptTokenBound(row));
      // the bound errs long: above the row's UTF-8 bytes / 4 (what a BPE tokenizer of English averages) plus the markers
      const bytes = row.prompt.reduce((n, m) => n + Buffer.byteLength(m.content), 0);
      expect(promptTokenBound(row)).toBeGreaterThan(bytes / 4);
    }
    expect(max % 64).toBe(0);
    // a second export replaces the recipe; a folder holding a user's file is refused and left as it was
    run({ engine: 'verl', preset: 'tiny', prompts, out, set: ['prompts.generator.heldout=2', 'rollout.n=4'] });
    expect(read(join(out, 'run_grpo.sh'))).toContain('actor_rollout_ref.rollout.n=4');
    const mine = join(dir, 'mine');
    mkdirSync(mine);
    writeFileSync(join(mine, 'README.md'), 'my notes');
    writeFileSync(join(mine, 'notes.txt'), 'keep');
    expect(() => run({ engine: 'verl', preset: 'tiny', prompts, out: mine })).toThrow(/notes\.txt/);
    expect(read(join(mine, 'README.md'))).toBe('my notes');
  });
});
