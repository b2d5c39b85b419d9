// The crash test (issues #5, #9): the real CLI dies by SIGKILL at three points, is rerun with the same
// command, and must prove it resumed: the rerun names its resume step, runs only the steps after it, keeps
// the metric lines written before it byte for byte (their timings would differ had they been recomputed),
// and ends with exactly the uninterrupted run's weights, optimizer state, trainer state and metric values.
// Kill points (LWZ_FAILPOINT, see libs/training/src/failpoint.ts): early (before the first checkpoint),
// inside a checkpoint write (model and optimizer written, trainer state not), and late (plus a torn line).
import { appendFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listCheckpoints } from '@lwz/training';
import { metricLines, runTrainingCli, stepOf } from '../cli-testing';
import { pretrainFixture, smallConfig } from './testing';

const STEPS = 40;

const runCli = (configFile: string, failpoint?: string) => runTrainingCli('pretrain', configFile, failpoint);
/** Every metric but the timings, per step. */
const values = (run: string) =>
  metricLines(run).map((l) => {
    const { 'perf/tokens_per_s': _t, 'time/step_s': _s, ...rest } = JSON.parse(l) as Record<string, number>;
    return rest;
  });
const final = (run: string, file: string) => readFileSync(join(run, 'checkpoints', `step-${STEPS}`, file));

describe('pretrain CLI under kill -9', () => {
  const f = pretrainFixture();
  const base = mkdtempSync(join(tmpdir(), 'lwz-kill-'));
  const over = { steps: STEPS, evalEvery: 10, checkpointEvery: 4, keepLast: 20 };
  const configFile = (name: string) => {
    const file = join(base, `${name}.json`);
    writeFileSync(file, JSON.stringify(smallConfig(f, join(base, name), over)));
    return file;
  };
  const straight = join(base, 'straight');

  beforeAll(async () => {
    const r = await runCli(configFile('straight'));
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`${STEPS} steps run in this process`);
  }, 60000);

  const cases: { name: string; failpoint: string; lines: number; resumeAt: number; before?: (run: string) => void }[] = [
    { name: 'early, before the first checkpoint', failpoint: 'metrics@2', lines: 2, resumeAt: 0 },
    {
      name: 'mid-checkpoint-write, model and optimizer written but not the trainer state',
      failpoint: 'checkpoint@8',
      lines: 8,
      resumeAt: 4,
      before: (run) => {
        // the save of step 8 is a temp directory with the model and optimizer, never a step-8 checkpoint
        const temps = readdirSync(join(run, 'checkpoints')).filter((n) => n.startsWith('.'));
        expect(temps).toHaveLength(1);
        const files = readdirSync(join(run, 'checkpoints', temps[0]));
        expect(files).toEqual(expect.arrayContaining(['model.safetensors', 'optimizer.safetensors']));
        expect(files).not.toContain('trainer_state.json');
        expect(existsSync(join(run, 'checkpoints', 'step-8'))).toBe(false);
      },
    },
    {
      name: 'late, with a torn last metrics line',
      failpoint: 'metrics@38',
      lines: 38,
      resumeAt: 36,
      before: (run) => appendFileSync(join(run, 'metrics.jsonl'), '{"step": 39, "train/lo'),
    },
  ];

  it.each(cases)(
    'killed $name: resumes, recomputes nothing before the checkpoint, ends identical',
    async (c) => {
      const name = `killed-${c.failpoint.replace(/\W/g, '-')}`;
      const file = configFile(name);
      const run = join(base, name);
      const killed = await runCli(file, c.failpoint);
      expect(killed.signal).toBe('SIGKILL');
      expect(metricLines(run)).toHaveLength(c.lines);
      expect(listCheckpoints(run).at(-1)?.step ?? 0).toBe(c.resumeAt);
      c.before?.(run);
      const kept = metricLines(run).filter((l, i, all) => i < all.length - 1 || l.endsWith('}'));
      const before = kept.filter((l) => stepOf(l) <= c.resumeAt);

      const rerun = await runCli(file);
      expect(rerun.code).toBe(0);
      if (c.resumeAt === 0) {
        expect(rerun.stderr).toContain('from scratch');
        expect(rerun.stderr).not.toContain('resuming');
        expect(rerun.stderr).toContain(`${STEPS} steps run in this process\n`);
      } else {
        expect(rerun.stderr).toContain(`resuming at step ${c.resumeAt} from`);
        expect(rerun.stderr).toContain(`${STEPS - c.resumeAt} steps run in this process (resumed at step ${c.resumeAt})`);
      }
      const lines = metricLines(run);
      expect(lines.map(stepOf)).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1));
      expect(lines.slice(0, before.length)).toEqual(before); // kept byte for byte, timings included: not recomputed
      expect(values(run)).toEqual(values(straight));
      for (const f of ['model.safetensors', 'optimizer.safetensors', 'trainer_state.json']) {
        expect(final(run, f).equals(final(straight, f))).toBe(true);
      }
      expect(readdirSync(join(run, 'checkpoints')).filter((n) => n.startsWith('.'))).toEqual([]);
    },
    60000,
  );
});
