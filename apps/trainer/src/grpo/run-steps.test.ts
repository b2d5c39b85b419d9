// Two properties of the loop over steps that a complete run cannot show: a run stopped before its last step
// (stopAfter, as a kill would) names no final checkpoint, and the run that resumes and finishes names its last;
// and each step draws its answers from fresh random streams: one prompt asked at both steps of a run whose
// learning rate is too small to change a sampled token gets different answers, not the first step's again. And a
// generated prompt (never checked against the context before the run starts, as a file's rows are) that leaves a
// single token of room stops the run at its step: an answer needs at least two.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '@lwz/core';
import { getTemplate, Tokenizer } from '@lwz/tokenizer';
import { listCheckpoints } from '@lwz/training';
import { grpoConfigSchema } from './config';
import { loadPrompts, promptRenderer, stepPrompts } from './prompts';
import { runGrpo } from './run';
import { grpoTestConfig, SMALL_MODEL } from './testing';

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

it("stops at the step whose generated prompt leaves one token of the model's context", async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'lwz-grpo-room-')), 'run');
  const raw = grpoTestConfig(out, { steps: 1, evaluation: { prompts: 0 } });
  const cfg = parseConfig(grpoConfigSchema, raw, 'room test');
  // the longest prompt of step 1, as the run renders it
  const tok = Tokenizer.fromFile(join(cfg.model.tokenizer, 'tokenizer.json'));
  const render = promptRenderer(tok, getTemplate(cfg.template));
  const train = loadPrompts(cfg).train;
  const longest = Math.max(...stepPrompts(train.length, cfg.prompts.perStep, cfg.seed, 0).map((i) => render(train[i]).ids.length));
  const withContext = (context: number) =>
    parseConfig(
      grpoConfigSchema,
      { ...raw, model: { ...(raw.model as object), overrides: { ...SMALL_MODEL, maxPositionEmbeddings: context } } },
      'room test',
    );
  await expect(runGrpo(withContext(longest + 1), { log: () => undefined, progress: false })).rejects.toThrow(
    `a prompt of ${longest} tokens leaves no room in the ${longest + 1}-token context`,
  );
  const r = await runGrpo({ ...withContext(longest + 2), out: `${out}-2` }, { log: () => undefined, progress: false });
  expect(r.steps).toBe(1);
}, 60000);
