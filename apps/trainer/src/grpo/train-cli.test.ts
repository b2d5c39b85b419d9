// `lwz-train train` through the real CLI on a random one-layer model: a complete run writes every metric the
// report plots, checkpoints, report.html and the held-out before/after files; killed by SIGKILL at three
// points (before the first checkpoint, inside a checkpoint write, late) and rerun with the same command, it
// names its resume step, runs each remaining step once, keeps the metric lines before the checkpoint byte for
// byte, and ends with exactly the uninterrupted run's weights, optimizer state and metric values.
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { lengthScore } from '@lwz/eval';
import { listCheckpoints } from '@lwz/training';
import { metricLines, runTrainingCli, stepOf } from '../cli-testing';
import { register } from '../commands/train';
import { grpoTestConfig } from './testing';

const STEPS = 6;

const runCli = (configFile: string, failpoint?: string) => runTrainingCli('train', configFile, failpoint);
const lines = metricLines;
/** every metric but the timings */
const values = (run: string) =>
  lines(run).map((l) =>
    Object.fromEntries(Object.entries(JSON.parse(l) as Record<string, unknown>).filter(([k]) => !/^(perf|time)\//.test(k))),
  );
const final = (run: string, f: string) => readFileSync(join(run, 'checkpoints', `step-${STEPS}`, f));

describe('lwz-train train', () => {
  const base = mkdtempSync(join(tmpdir(), 'lwz-grpo-'));
  const configFile = (name: string) => {
    const file = join(base, `${name}.json`);
    writeFileSync(file, JSON.stringify(grpoTestConfig(join(base, name), { steps: STEPS })));
    return file;
  };
  const straight = join(base, 'straight');

  beforeAll(async () => {
    const r = await runCli(configFile('straight'));
    expect(r.stderr).toContain(`${STEPS} steps run in this process`);
    expect(r.code).toBe(0);
  }, 90000);

  it('writes the metrics, checkpoints, report and held-out answers of a complete run', () => {
    const rows = lines(straight).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6]);
    for (const key of [
      'reward/length/mean',
      'reward/format/std',
      'reward/quality/mean',
      'advantage/share/length',
      'length/answer_words/mean',
      'length/think_words/mean',
      'length/think_tokens/mean',
      'length/answer_tokens/mean',
      'format/valid',
      'repetition/rate',
      'finish/truncated',
      'groups/zero_spread/all',
      'policy/clip_frac',
      'policy/entropy',
      'train/lr',
      'train/grad_norm',
      'perf/gen_tokens_per_s',
      'time/rollout_s',
      'time/reward_s',
      'time/update_s',
    ])
      for (const r of rows) expect(typeof r[key]).toBe('number');
    // every step updates the policy (the fixture's random reward model gives each group spread), so the kill and
    // resume checks below compare weights and optimizer moments that moved, not a run of zero gradients
    for (const r of rows) {
      expect(r['groups/zero_spread/all']).toBeLessThan(1);
      expect(r['train/grad_norm']).toBeGreaterThan(0);
    }
    // the KL to the start policy (a diagnostic: loss.klCoef is 0) is measured at step 1 and every klEvery (5) steps
    expect(rows.filter((r) => typeof r['policy/kl_start'] === 'number').map((r) => r.step)).toEqual([1, 5]);
    for (const r of rows.filter((x) => x['policy/kl_start'] !== undefined)) expect(r['policy/kl_start']).toBeGreaterThanOrEqual(0);
    expect(rows.filter((r) => typeof r['sample/response'] === 'string').length).toBeGreaterThan(0);
    // the engine's log-probs (the default old log-probs) equal the training forward's to float precision
    for (const r of rows) expect(r['rollout/logprob_abs_diff']).toBeLessThan(1e-4);
    expect(listCheckpoints(straight).map((c) => c.step)).toEqual([2, 4, 6]);
    expect(existsSync(join(straight, 'checkpoints', 'step-6', 'tokenizer.json'))).toBe(true);
    const html = readFileSync(join(straight, 'report.html'), 'utf8');
    expect(html).toContain('Held-out prompts: base vs RL');
    expect(html).not.toMatch(/<\/answer>/); // model text is escaped
    const heldout = readFileSync(join(straight, 'heldout-rl.jsonl'), 'utf8').trim().split('\n');
    expect(heldout).toHaveLength(3);
    // each line carries the words its S_l was scored against
    for (const line of heldout) {
      const h = JSON.parse(line) as { length: number; answer_words: number; s_l: number };
      expect(h.s_l).toBeCloseTo(lengthScore(h.length, h.answer_words), 10);
    }
    const summary = JSON.parse(readFileSync(join(straight, 'summary.json'), 'utf8'));
    expect(summary.heldout.sides[0].label).toBe('rl');
    expect(summary.trend.window).toBe(STEPS);
    expect(html).toContain('First vs last steps');
    // the entropy (nats) has its own chart, so the clip fraction and the KL (near 0) keep a readable scale
    expect(html).toContain('policy drift: clip fraction and KL to the start policy');
    expect(html).toContain('policy entropy (nats per token)');
  });

  const cases = [
    { name: 'before the first checkpoint', failpoint: 'metrics@1', kept: 1, resumeAt: 0 },
    { name: 'inside a checkpoint write', failpoint: 'checkpoint@4', kept: 4, resumeAt: 2 },
    { name: 'late', failpoint: 'metrics@5', kept: 5, resumeAt: 4 },
  ];

  it.each(cases)(
    'killed $name: resumes at its checkpoint and ends identical to the uninterrupted run',
    async (c) => {
      const name = `killed-${c.failpoint.replace(/\W/g, '-')}`;
      const file = configFile(name);
      const run = join(base, name);
      const killed = await runCli(file, c.failpoint);
      expect(killed.signal).toBe('SIGKILL');
      expect(lines(run)).toHaveLength(c.kept);
      expect(listCheckpoints(run).at(-1)?.step ?? 0).toBe(c.resumeAt);
      const before = lines(run).filter((l) => stepOf(l) <= c.resumeAt);
      const rerun = await runCli(file);
      expect(rerun.code).toBe(0);
      if (c.resumeAt > 0) expect(rerun.stderr).toContain(`${STEPS - c.resumeAt} steps run in this process (resumed at step ${c.resumeAt})`);
      else expect(rerun.stderr).toContain(`${STEPS} steps run in this process;`);
      expect(lines(run).map(stepOf)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(lines(run).slice(0, before.length)).toEqual(before);
      expect(values(run)).toEqual(values(straight));
      for (const f of ['model.safetensors', 'optimizer.safetensors', 'trainer_state.json'])
        expect(final(run, f).equals(final(straight, f))).toBe(true);
      expect(readdirSync(join(run, 'checkpoints')).filter((n) => n.startsWith('.'))).toEqual([]);
    },
    90000,
  );

  it('resumes under a changed keepLast, but refuses a prompt file edited since the checkpoint, naming it', async () => {
    const name = 'prompt-file';
    const prompts = join(base, 'prompts.jsonl');
    const rows = (topic: string) =>
      Array.from({ length: 8 }, (_, i) => JSON.stringify({ prompt: `Write ${i + 2}0 words about ${topic} ${i}.` }));
    writeFileSync(prompts, rows('rivers').join('\n') + '\n');
    const file = join(base, `${name}.json`);
    const start = grpoTestConfig(join(base, name), { steps: 4, prompts: { file: prompts, perStep: 2 } });
    const config = (keepLast: number) => ({ ...start, keepLast });
    writeFileSync(file, JSON.stringify(config(10)));
    expect((await runCli(file, 'metrics@3')).signal).toBe('SIGKILL');
    writeFileSync(prompts, rows('mountains').join('\n') + '\n');
    const refused = await runCli(file);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(
      /holds a run with a different config \([^)]*\): promptsFingerprint: "[0-9a-f]{16}" -> "[0-9a-f]{16}"\. To resume/,
    );
    writeFileSync(prompts, rows('rivers').join('\n') + '\n');
    writeFileSync(file, JSON.stringify(config(1)));
    const resumed = await runCli(file);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain('2 steps run in this process (resumed at step 2)');
    expect(listCheckpoints(join(base, name)).map((c) => c.step)).toEqual([4]); // the new keepLast
  }, 90000);
});

describe('lwz-train train --help', () => {
  it('says --judge-url and --rollout-url are base URLs up to /v1', () => {
    // a server root (http://host:port) without /v1 gets a 404 from GET /models
    const program = new Command();
    register(program);
    const train = program.commands.find((c) => c.name() === 'train');
    for (const flag of ['--judge-url', '--rollout-url'])
      expect(train?.options.find((o) => o.long === flag)?.description).toMatch(/up to \/v1/);
  });
});
