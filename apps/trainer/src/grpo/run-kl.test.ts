// A run with the KL in the loss (loss.klCoef > 0) and the KL metric off (klToStart false): the start policy is
// still kept, and the KL computed at every step, not only at klEvery's; and the steps that end a run off the
// checkpointEvery / reportEvery / sampleSteps grid: the last step is checkpointed and reported, the first sampled.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '@lwz/core';
import { listCheckpoints } from '@lwz/training';
import { grpoConfigSchema } from './config';
import { runGrpo } from './run';
import { grpoTestConfig } from './testing';

it('keeps the start policy for a KL in the loss, computes it every step, and checkpoints and reports the last step', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'lwz-grpo-kl-')), 'run');
  const over = { steps: 3, checkpointEvery: 2, reportEvery: 2, sampleSteps: 2, klEvery: 5, klToStart: false, loss: { klCoef: 0.05 } };
  const cfg = parseConfig(grpoConfigSchema, grpoTestConfig(out, { ...over, evaluation: { prompts: 0 } }), 'kl test');
  const r = await runGrpo(cfg, { log: () => undefined, progress: false });
  expect(r.steps).toBe(3);
  const rows = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  // klEvery 5 would measure at step 1 only; with the KL in the loss every step has it
  for (const row of rows) expect(row['policy/kl_start']).toBeGreaterThanOrEqual(0);
  expect(rows.map((x) => typeof x['policy/kl_start'])).toEqual(['number', 'number', 'number']);
  // samples at step 1 and every sampleSteps (2); checkpoints every 2 and at the end (3); the report read step 3
  expect(rows.filter((x) => typeof x['sample/response'] === 'string').map((x) => x.step)).toEqual([1, 2]);
  expect(listCheckpoints(out).map((c) => c.step)).toEqual([2, 3]);
  expect(r.finalCheckpoint).toBe(listCheckpoints(out)[1].dir);
  expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('3 / 3');
}, 60000);
