// Two properties of the loop over steps that a complete run cannot show: a run stopped before its last step
// (stopAfter, as a kill would) names no final checkpoint, and the run that resumes and finishes names its last;
// and each step draws its answers from fresh random streams: one prompt asked at both steps of a run whose
// learning rate is too small to change a sampled token gets different answers, not the first step's again.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '@lwz/core';
import { listCheckpoints } from '@lwz/training';
import { grpoConfigSchema } from './config';
import { runGrpo } from './run';
import { grpoTestConfig } from './testing';

it('names a final checkpoint only when the run finished, and samples each step afresh', async () => {
  const base = mkdtempSync(join(tmpdir(), 'lwz-grpo-steps-'));
  const file = join(base, 'prompts.jsonl');
  writeFileSync(
    file,
    JSON.stringify({ id: 'sea', prompt: 'Write about the sea in 30 words.', type: 'essay', length: 30, length_range: [20, 40] }) + '\n',
  );
  const out = join(base, 'run');
  const over = {
    steps: 2,
    miniBatches: 1,
    checkpointEvery: 1,
    sampleSteps: 1,
    prompts: { file, perStep: 1 },
    optim: { lr: 1e-12 },
    evaluation: { prompts: 0 },
  };
  const cfg = parseConfig(grpoConfigSchema, grpoTestConfig(out, over), 'steps test');
  const quiet = { log: () => undefined, progress: false };
  const first = await runGrpo(cfg, { ...quiet, stopAfter: 1 });
  expect(first.steps).toBe(1);
  expect(listCheckpoints(out).map((c) => c.step)).toEqual([1]);
  expect(first.finalCheckpoint).toBeNull(); // stopped at step 1 of 2
  const rest = await runGrpo(cfg, quiet);
  expect([rest.resumedFrom, rest.steps]).toEqual([1, 2]);
  expect(rest.finalCheckpoint).toBe(listCheckpoints(out)[1].dir);
  const rows = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(rows.map((r) => r['sample/prompt'])).toEqual(['Write about the sea in 30 words.', 'Write about the sea in 30 words.']);
  expect(typeof rows[0]['sample/response']).toBe('string');
  expect(rows[1]['sample/response']).not.toBe(rows[0]['sample/response']);
}, 60000);
