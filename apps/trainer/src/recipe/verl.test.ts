import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from '@lwz/core';
import { parseRewardsConfig, scoreRewards } from '@lwz/rewards';
import { run } from '../commands/export-recipe';
import { startRewardServer } from '../serve-rewards/server';

// verl's dataset row (RLHFDataset + the reward loop): ground_truth is required
const rowSchema = z
  .object({
    data_source: z.string().min(1),
    prompt: z.array(z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string().min(1) }).strict()).min(1),
    ability: z.string().min(1),
    reward_model: z.object({ style: z.string(), ground_truth: z.string().min(1) }).strict(),
    extra_info: z
      .object({ id: z.string(), index: z.number().int(), prompt: z.string(), length_range: z.tuple([z.number(), z.number()]).nullable() })
      .strict(),
  })
  .strict();

const read = (f: string) => readFileSync(f, 'utf8');
const jsonl = (f: string) =>
  read(f)
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as unknown);

describe('export-recipe --engine verl', () => {
  it('writes rows in verl schema, a launch script following the preset, and the README', () => {
    const out = mkdtempSync(join(tmpdir(), 'lwz-verl-'));
    const r = run({ engine: 'verl', preset: 'tiny', out, set: ['prompts.generator.train=30', 'prompts.generator.heldout=5'] });
    expect(r.rows).toBe(30);
    const rows = jsonl(join(out, 'train.jsonl'));
    for (const row of [...rows, ...jsonl(join(out, 'heldout.jsonl'))]) rowSchema.parse(row);
    const first = rows[0] as z.infer<typeof rowSchema>;
    expect(JSON.parse(first.reward_model.ground_truth)).toEqual(first.extra_info.length_range);
    const sh = read(join(out, 'run_grpo.sh'));
    for (const o of [
      'actor_rollout_ref.rollout.n=8',
      'actor_rollout_ref.actor.clip_ratio_high=0.28',
      'actor_rollout_ref.actor.loss_agg_mode=token-mean',
      'data.max_response_length=400',
      'actor_rollout_ref.actor.use_kl_loss=False',
      'algorithm.adv_estimator=gdpo',
      `++algorithm.gdpo_reward_keys='["length","format","quality"]'`,
    ])
      expect(sh).toContain(o);
    expect(statSync(join(out, 'run_grpo.sh')).mode & 0o111).not.toBe(0);
    expect(execFileSync('bash', ['-n', join(out, 'run_grpo.sh')]).toString()).toBe('');
    expect(read(join(out, 'README.md'))).toMatch(/have not been run on verl by us/);
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
    const sh = read(join(out, 'run_grpo.sh'));
    for (const o of [
      'rollout.n=5',
      'clip_ratio_high=0.4',
      'max_response_length=777',
      'rollout.temperature=0.6',
      'optim.lr=0.002',
      'use_kl_loss=True',
      'kl_loss_coef=0.01',
    ])
      expect(sh).toContain(o);
    expect(() => run({ engine: 'openrlhf', out })).toThrow(/only verl/);
  });

  it('lwz_reward.py (system python3) returns what @lwz/rewards computes, through a running serve-rewards', async () => {
    const out = mkdtempSync(join(tmpdir(), 'lwz-verl-'));
    run({ engine: 'verl', preset: 'tiny', out, set: ['prompts.generator.train=2', 'prompts.generator.heldout=1'] });
    const config = parseRewardsConfig({});
    const server = await startRewardServer(config, { port: 0 });
    const para = 'The ships lay still in the grey harbour while the crew waited for the tide. ';
    const cases = [
      { prompt: 'Write a 40-word note about the harbour.', response: `<think>plan</think><answer>${para.repeat(3)}</answer>`, gt: 'auto' },
      { prompt: 'Write about the sea.', response: `<think>p</think><answer>${para}</answer>`, gt: '[50, 60]' },
      { prompt: 'Write about the sea.', response: 'no tags', gt: '[10, 20]' },
      { prompt: 'Write a 30-word note.', response: `<think>a</think><answer>${'same words again. '.repeat(40)}</answer>`, gt: 'auto' },
    ];
    try {
      const script = `
import asyncio, json, sys
sys.path.insert(0, ${JSON.stringify(out)})
from lwz_reward import compute_score
cases = json.loads(sys.argv[1])
async def main():
    return await asyncio.gather(*[compute_score("lwz-writing", c["response"], c["gt"], {"prompt": c["prompt"]}, url=sys.argv[2]) for c in cases])
print(json.dumps(asyncio.run(main())))
`;
      // async: the server runs in this process, so a blocking child would starve it
      const { stdout } = await promisify(execFile)('python3', ['-c', script, JSON.stringify(cases), server.url], { timeout: 30000 });
      const got = JSON.parse(stdout) as Record<string, number>[];
      const expected = await scoreRewards(
        cases.map((c) => ({
          prompt: c.prompt,
          response: c.response,
          ...(c.gt !== 'auto' ? { length_range: JSON.parse(c.gt) as unknown } : {}),
        })),
        config,
      );
      got.forEach((g, i) => {
        const e = expected.rows[i].rewards;
        expect(g.length).toBeCloseTo(e.length, 12);
        expect(g.format).toBeCloseTo(e.format, 12);
        expect(g.quality).toBeCloseTo(e.quality, 12);
        expect(g.score).toBeCloseTo((e.length + e.format + e.quality) / 3, 12);
      });
      expect(new Set(got.map((g) => g.score)).size).toBeGreaterThan(1);
    } finally {
      await server.close();
    }
  });
});
