// The held-out check's numbers from answers written by hand (scoreHeldout): S_l of each answer against the prompt's
// required words (its `length` first, then the centre of its length_range), the means, the bootstrap interval
// around the mean, the format-valid share, the quality over the valid answers alone, the truncated share, and the
// lines written; and evaluateHeldout decoding at evaluation.temperature, not the rollout's.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@lwz/core';
import { initModel, saveModel } from '@lwz/model';
import { createFunctionScorer } from '@lwz/rewards';
import { pretrainFixture } from '../pretrain/testing';
import { resolveGrpoConfig } from './config';
import { evaluateHeldout, scoreHeldout } from './evaluate';
import type { GrpoPrompt } from './prompts';
import { depsWithQuality, smallConfigFor } from './testing';

const words = (n: number) => Array.from({ length: n }, (_, i) => ['sea', 'salt', 'wind', 'shore', 'wave'][i % 5]).join(' ');

describe('scoreHeldout', () => {
  it('scores each answer against its required words and averages the side', async () => {
    const out = mkdtempSync(join(tmpdir(), 'lwz-heldout-'));
    // formatGate on (the tiny preset's): a broken answer earns no quality
    const cfg = resolveGrpoConfig({ overrides: { out, rewards: { formatGate: true } } });
    const prompts: GrpoPrompt[] = [
      { id: 'a', prompt: 'Write 100 words.', length: 100, length_range: [80, 120] },
      { id: 'b', prompt: 'Write 50 words.', length: 50, length_range: [20, 40] }, // `length` wins over the range's centre 30
      { id: 'c', prompt: 'Write 50 words.', length_range: [40, 60] }, // no `length`: the centre, 50
    ];
    const quality: Record<string, number> = { a: 0.8, b: 0.6, c: 0.3 };
    const deps = depsWithQuality(
      cfg,
      createFunctionScorer('by-prompt', (item) => quality[/\[(\w)\]/.exec(item.response)?.[1] ?? ''] ?? 0),
    );
    const answers = [
      { prefill: '<think>', text: `[a]</think><answer>${words(100)}</answer>`, finishReason: 'stop' },
      { prefill: '<think>', text: `[b]</think><answer>${words(25)}</answer>`, finishReason: 'stop' },
      { prefill: '<think>', text: `[c] ${words(30)}`, finishReason: 'length' }, // cut at the cap: no answer block
    ];
    const file = join(out, 'heldout-rl.jsonl');
    const side = await scoreHeldout(cfg, 'rl', prompts, answers, file, deps);
    // S_l = 100 (1 - (required / words - 1) / 2) below the required words: 100 for 100 of 100, 50 for 25 of 50; 0 without words
    expect(side.slPerAnswer).toEqual([expect.closeTo(100, 9), expect.closeTo(50, 9), 0]);
    expect(side.sl).toBeCloseTo(50, 9);
    expect(side.slLow).toBeLessThan(side.sl);
    expect(side.slHigh).toBeGreaterThan(side.sl);
    expect(side.slLow).toBeGreaterThanOrEqual(0);
    expect(side.slHigh).toBeLessThanOrEqual(100);
    expect(side.formatValid).toBeCloseTo(2 / 3, 12);
    expect(side.quality).toBeCloseTo((0.8 + 0.6 + 0) / 3, 12); // the broken answer's quality is gated to 0
    expect(side.qualityValid).toBeCloseTo((0.8 + 0.6) / 2, 12);
    expect(side.truncated).toBeCloseTo(1 / 3, 12);
    expect(side.inRange).toBeCloseTo(2 / 3, 12); // 100 in [80, 120], 25 in [20, 40], 0 not in [40, 60]
    expect(side.answerWords).toBeCloseTo(125 / 3, 12);
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.id, l.length, l.format_valid, l.finish_reason])).toEqual([
      ['a', 100, true, 'stop'],
      ['b', 50, true, 'stop'],
      ['c', 50, false, 'length'],
    ]);
    expect(lines.map((l) => l.response)).toEqual(answers.map((a) => a.prefill + a.text));
    expect(lines[1].answer).toBe(words(25));
  });

  it('gives no valid-answer quality when no answer is valid', async () => {
    const out = mkdtempSync(join(tmpdir(), 'lwz-heldout-'));
    const cfg = resolveGrpoConfig({ overrides: { out, rewards: { formatGate: false } } });
    const deps = depsWithQuality(
      cfg,
      createFunctionScorer('half', () => 0.5),
    );
    const side = await scoreHeldout(
      cfg,
      'base',
      [{ id: 'a', prompt: 'Write 40 words.', length: 40 }],
      [{ prefill: '', text: 'no tags at all', finishReason: 'stop' }],
      join(out, 'heldout-base.jsonl'),
      deps,
    );
    expect([side.formatValid, side.quality, side.sl]).toEqual([0, 0.5, 0]);
    expect(side.qualityValid).toBeNaN();
  });
});

it('evaluateHeldout decodes at evaluation.temperature: greedy answers to one prompt asked twice are the same', async () => {
  const f = pretrainFixture();
  const ckpt = join(mkdtempSync(join(tmpdir(), 'lwz-heldout-')), 'model');
  saveModel(initModel(smallConfigFor(f.tokDir), new Rng(21)), ckpt, { tokenizer: f.tokDir });
  const out = mkdtempSync(join(tmpdir(), 'lwz-heldout-'));
  // the rollout samples at temperature 1; the evaluation is greedy
  const cfg = resolveGrpoConfig({ overrides: { out, rollout: { temperature: 1, maxNewTokens: 12 }, evaluation: { temperature: 0 } } });
  const deps = depsWithQuality(
    cfg,
    createFunctionScorer('half', () => 0.5),
  );
  const p = { prompt: 'Write about the sea in 40 words.', length: 40 };
  const file = join(out, 'heldout-base.jsonl');
  await evaluateHeldout(
    cfg,
    ckpt,
    'base',
    [
      { id: 'x', ...p },
      { id: 'y', ...p },
    ],
    file,
    deps,
  );
  const [x, y] = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { response: string }).response);
  expect(x.length).toBeGreaterThan(0);
  expect(y).toBe(x);
});
